"""Train the shipped digits models and write them, with the test samples, into models/.

    .venv/bin/python models/train_digits.py [OUT_DIR]      (default: this folder)

Needs TensorFlow (Keras 3), scikit-learn and ai-edge-litert. No download: the data is scikit-learn's
bundled 8x8 digits (load_digits), split 80/20 stratified with random_state=0 (360 test images),
pixels / 16 -> [0, 1]. Seeded (keras.utils.set_random_seed(0) + op determinism).

Writes:
  digits_cnn_int8.tflite      Conv2D 3x3x8 relu -> DepthwiseConv2D 3x3 relu -> Conv2D 1x1x16 relu
                              -> MaxPool 2x2 -> Flatten -> Dense 10 -> Softmax, full int8, int8 I/O
  digits_cnn_float_io.tflite  the same, float32 I/O (QUANTIZE ... DEQUANTIZE around the int8 graph)
  digits_16x8.tflite          the same network, int16 activations / int8 weights, int16 I/O
  digits_mlp_int8.tflite      64 -> Dense 32 relu -> Dense 10 -> Softmax, full int8, int8 I/O
  digits_test.npz             x_float [N,8,8,1] f32, x_int8 (CNN input quantization),
                              x_mlp_int8 [N,64] (MLP input quantization), y (labels)
and prints each model's ops and its accuracy on the test split under LiteRT BUILTIN_REF.

The converted models come from batch-size-1 copies of the trained Keras models: with a dynamic
batch, Flatten becomes SHAPE/STRIDED_SLICE/PACK/RESHAPE; with a static one it is a single RESHAPE.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tflite_int8 import convert, interpreter, op_names, quantize

SEED = 0
N_REPRESENTATIVE = 200


def load_data():
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[..., None]          # [1797, 8, 8, 1] in [0, 1]
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)
    return x_tr, x_te, y_tr, y_te


def cnn(batch_size=None):
    inp = keras.Input(shape=(8, 8, 1), batch_size=batch_size, name="image")
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    h = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(h)
    h = keras.layers.Conv2D(16, 1, activation="relu", name="pw")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(10, name="logits")(h)
    out = keras.layers.Softmax(name="softmax")(h)
    return keras.Model(inp, out, name="digits_cnn")


def mlp(batch_size=None):
    inp = keras.Input(shape=(64,), batch_size=batch_size, name="pixels")
    h = keras.layers.Dense(32, activation="relu", name="hidden")(inp)
    h = keras.layers.Dense(10, name="logits")(h)
    out = keras.layers.Softmax(name="softmax")(h)
    return keras.Model(inp, out, name="digits_mlp")


def train(build, x_tr, y_tr, epochs):
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    static = build(batch_size=1)                                   # batch-1 copy: static shapes
    static.set_weights(model.get_weights())
    return model, static


def accuracy(content, x_float, y):
    """Top-1 accuracy under LiteRT BUILTIN_REF, quantizing the float inputs as the model's input."""
    it = interpreter(content)
    i_det, o_det = it.get_input_details()[0], it.get_output_details()[0]
    xs = x_float.reshape((len(x_float), *i_det["shape"][1:]))
    if i_det["dtype"] != np.float32:
        xs = quantize(xs, i_det)
    hits = 0
    for k in range(len(xs)):
        it.set_tensor(i_det["index"], xs[k:k + 1])
        it.invoke()
        hits += int(np.argmax(it.get_tensor(o_det["index"])[0]) == y[k])
    return hits / len(xs)


def main(out_dir: Path):
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    out_dir.mkdir(parents=True, exist_ok=True)
    x_tr, x_te, y_tr, y_te = load_data()
    rep = x_tr[:N_REPRESENTATIVE]

    cnn_model, cnn_static = train(cnn, x_tr, y_tr, epochs=60)
    mlp_model, mlp_static = train(mlp, x_tr.reshape(-1, 64), y_tr, epochs=60)
    keras_acc = {
        "cnn": cnn_model.evaluate(x_te, y_te, verbose=0)[1],
        "mlp": mlp_model.evaluate(x_te.reshape(-1, 64), y_te, verbose=0)[1],
    }

    files = {
        "digits_cnn_int8.tflite": convert(cnn_static, rep, "int8"),
        "digits_cnn_float_io.tflite": convert(cnn_static, rep, "float_io"),
        "digits_16x8.tflite": convert(cnn_static, rep, "16x8"),
        "digits_mlp_int8.tflite": convert(mlp_static, rep.reshape(-1, 64), "int8"),
    }
    for name, content in files.items():
        (out_dir / name).write_bytes(content)

    cnn_in = interpreter(files["digits_cnn_int8.tflite"]).get_input_details()[0]
    mlp_in = interpreter(files["digits_mlp_int8.tflite"]).get_input_details()[0]
    np.savez(out_dir / "digits_test.npz",
             x_float=x_te.astype(np.float32),
             x_int8=quantize(x_te, cnn_in),
             x_mlp_int8=quantize(x_te.reshape(-1, 64), mlp_in),
             y=y_te.astype(np.int64))

    print(f"train {len(x_tr)}, test {len(x_te)}")
    print(f"keras float: cnn {keras_acc['cnn']:.2%}  mlp {keras_acc['mlp']:.2%}")
    print(f"cnn input quantization: scale {cnn_in['quantization'][0]!r} zp {cnn_in['quantization'][1]}")
    print(f"mlp input quantization: scale {mlp_in['quantization'][0]!r} zp {mlp_in['quantization'][1]}")
    for name, content in files.items():
        acc = accuracy(content, x_te, y_te)
        print(f"{name}: {len(content)} bytes, LiteRT BUILTIN_REF accuracy {acc:.2%} "
              f"({round(acc * len(x_te))}/{len(x_te)})")
        print("   ops:", ", ".join(op_names(content)))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
