"""Make the on-device training demo (issue 17): a MobileNetV1-0.25 on 32x32 digits, pretrained on the
source domain (digits as scikit-learn ships them), and data of a shifted domain (the same digits
inverted: white background) on which it is poor, for a sparse fine-tune.

    .venv/bin/python models/make_train_demo.py [OUT_DIR]      (default: this folder; ~1.5 min on CPU)

Data: scikit-learn's bundled 8x8 digits (`load_digits`, no download), pixels / 16, shuffled with
numpy default_rng(0); the first 900 images are the source domain (pretraining), the other 897 the
target domain, inverted (1 - x): 500 train, 97 val, 300 test. Every image is resized to 32x32
(bilinear) and mapped to [-1, 1].
Model: keras.applications.MobileNet(alpha=0.25, weights=None, input_shape=(32, 32, 1), classes=10),
Adam 3e-3, batch 32, 30 epochs on the source domain. Converted from a batch-size-1 copy, full int8
(int8 I/O), representative dataset: 100 source-domain training images (the target is unseen).
Writes train_demo_int8.tflite and train_demo_data.npz (int8 inputs quantized with the model's input
scale/zero point, int64 labels).
"""
import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from tflite_int8 import convert, interpreter, quantize

SEED = 0
N_SOURCE = 900
SPLITS = {"train": 500, "val": 97, "test": 300}
SIZE = 32


def upsample(images: np.ndarray) -> np.ndarray:
    """[N, 8, 8] in [0, 1] -> [N, 32, 32, 1] in [-1, 1]."""
    return tf.image.resize(images[..., None], (SIZE, SIZE), "bilinear").numpy() * 2.0 - 1.0


def mobilenet(batch_size=None):
    inp = keras.Input(shape=(SIZE, SIZE, 1), batch_size=batch_size, name="image")
    return keras.applications.MobileNet(alpha=0.25, weights=None, input_tensor=inp, classes=10)


def accuracy(content: bytes, x: np.ndarray, y: np.ndarray) -> float:
    it = interpreter(content)
    i_det, o_det = it.get_input_details()[0], it.get_output_details()[0]
    hits = 0
    for img, label in zip(x, y):
        it.set_tensor(i_det["index"], img[None])
        it.invoke()
        hits += int(np.argmax(it.get_tensor(o_det["index"])[0]) == label)
    return hits / len(y)


def main(out_dir: Path) -> None:
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    digits = load_digits()
    x, y = digits.images.astype(np.float32) / 16.0, digits.target.astype(np.int64)
    perm = np.random.default_rng(SEED).permutation(len(x))
    x, y = x[perm], y[perm]
    x_src, y_src = upsample(x[:N_SOURCE]), y[:N_SOURCE]
    x_tgt, y_tgt = upsample(1.0 - x[N_SOURCE:]), y[N_SOURCE:]

    model = mobilenet()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_src, y_src, batch_size=32, epochs=30, shuffle=True, verbose=0)
    static = mobilenet(batch_size=1)
    static.set_weights(model.get_weights())
    content = convert(static, x_src[:100])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "train_demo_int8.tflite"
    path.write_bytes(content)

    i_det = interpreter(content).get_input_details()[0]
    data, start = {}, 0
    for name, n in SPLITS.items():
        data[f"x_{name}"] = quantize(x_tgt[start:start + n], i_det)
        data[f"y_{name}"] = y_tgt[start:start + n]
        start += n
    data["x_source"] = quantize(x_src[-100:], i_det)  # source-domain images seen in pretraining
    data["y_source"] = y_src[-100:]
    np.savez_compressed(out_dir / "train_demo_data.npz", **data)
    print(f"wrote {path}: {len(content)} bytes, {model.count_params()} parameters")
    print(f"int8 accuracy (LiteRT): source {accuracy(content, data['x_source'], data['y_source']):.2%}, "
          f"target test {accuracy(content, data['x_test'], data['y_test']):.2%}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    main(ap.parse_args().out_dir)
