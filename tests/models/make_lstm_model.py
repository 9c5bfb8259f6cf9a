"""Make the converter-produced int8 LSTM models the tests use (TensorFlow from the `train` extra).

    .venv/bin/python tests/models/make_lstm_model.py [OUT_DIR] [NAME ...]

Needs TensorFlow, tf-keras (Keras 2: only its LSTM layer carries the annotation that makes the
converter fuse it into one UNIDIRECTIONAL_SEQUENCE_LSTM op; Keras 3's becomes a WHILE loop) and
scikit-learn. Every model is a Keras LSTM + Dense, fully int8-quantized by the TFLite converter with
a representative dataset, so the LSTM becomes the integer 8x8->16 UNIDIRECTIONAL_SEQUENCE_LSTM with
5 intermediate tensors (the 4 gate ones float32 with shape [0], the hidden one int8) and the
converter's cell clip of 10.0. Seeded; the committed copies are what the tests use:

  tests/data/lstm_int8.tflite           LSTM(12) on [8, 6], return_sequences, Dense(4)
  tests/data/lstm/mnist20.tflite        TFLM's MNIST LSTM shape: LSTM(20) on [28, 28], return_sequences,
                                        Flatten, Dense(10) + softmax; trained on scikit-learn's digits
                                        scaled up to 28x28 (an MNIST stand-in that needs no download)
  tests/data/lstm/last32.tflite         LSTM(32) on [16, 12], last step only, Dense(4)
  tests/data/lstm/long256.tflite        LSTM(12) on [256, 3]: a long sequence, last step, Dense(3)
  tests/data/lstm/saturate.tflite       LSTM(16) on [28, 16], trained and calibrated on sparse spikes:
                                        full-range random inputs saturate the gates and the cell
  tests/data/lstm/clip.tflite           LSTM(8) on [64, 4] that integrates its input: the cell needs
                                        2^-10 (range +-32), so the cell clip (10.0) is reached

The cell state scale of each model is checked here (LiteRT's integer LSTM only computes tanh(cell)
for cell scales 2^-15 .. 2^-9, see tinydeploy/compile/ops/lstm.py).
"""
import math
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras as keras

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from tflite_int8 import convert  # models/: the converter settings of every model script

DATA = Path(__file__).resolve().parent.parent / "data"


def _lstm_dense(time, features, units, classes, *, sequences, softmax=False):
    inp = keras.Input(shape=(time, features), batch_size=1, name="x")
    h = keras.layers.LSTM(units, return_sequences=sequences, name="lstm")(inp)
    if sequences and softmax:
        h = keras.layers.Flatten(name="flatten")(h)
    out = keras.layers.Dense(classes, activation="softmax" if softmax else None, name="dense")(h)
    return keras.Model(inp, out)


def _fit(model, xs, ys, loss, epochs, batch=16):
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss=loss)
    model.fit(xs, ys, batch_size=batch, epochs=epochs, verbose=0)


def lstm_int8() -> bytes:
    """The original small model (tests/data/lstm_int8.tflite)."""
    tf.random.set_seed(3)
    rng = np.random.default_rng(3)
    inp = keras.Input(shape=(8, 6), batch_size=1, name="x")
    h = keras.layers.LSTM(12, return_sequences=True, name="lstm")(inp)
    out = keras.layers.Dense(4, name="dense")(h)
    model = keras.Model(inp, out)
    # a few steps of training so the weights are not just the initializer's
    xs = rng.normal(0, 1, (256, 8, 6)).astype(np.float32)
    ys = np.cumsum(xs[..., :4], axis=1) * 0.3
    model.compile(optimizer="adam", loss="mse")
    model.fit(xs, ys, batch_size=1, epochs=1, verbose=0)
    return convert(model, xs[:100])


def digits28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (bundled, no download) scaled up to 28x28 by nearest neighbour, in [0, 1]."""
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = (np.arange(28) + 2) * 8 // 32
    return (d.images.astype(np.float32) / 16.0)[:, idx][:, :, idx], d.target.astype(np.int64)


def mnist20() -> bytes:
    tf.random.set_seed(20)
    x, y = digits28()
    model = _lstm_dense(28, 28, 20, 10, sequences=True, softmax=True)
    _fit(model, x, y, "sparse_categorical_crossentropy", epochs=5, batch=32)
    return convert(model, x[np.random.default_rng(20).permutation(len(x))[:100]])


def last32() -> bytes:
    tf.random.set_seed(32)
    rng = np.random.default_rng(32)
    xs = rng.normal(0, 1, (400, 16, 12)).astype(np.float32)
    ys = np.stack([xs[:, :, k].sum(1) * 0.2 for k in range(4)], 1)
    model = _lstm_dense(16, 12, 32, 4, sequences=False)
    _fit(model, xs, ys, "mse", epochs=3)
    return convert(model, xs[:100])


def long256() -> bytes:
    tf.random.set_seed(256)
    rng = np.random.default_rng(256)
    xs = rng.normal(0, 1, (200, 256, 3)).astype(np.float32)
    ys = np.stack([xs[:, -32:, k].mean(1) for k in range(3)], 1)
    model = _lstm_dense(256, 3, 12, 3, sequences=False)
    _fit(model, xs, ys, "mse", epochs=2)
    return convert(model, xs[:50])


def saturate() -> bytes:
    """Trained and calibrated on sparse non-negative sequences (a few spikes of 1 on zeros, like MNIST
    strokes): the input scale spans [0, 1] while gates and cell are calibrated for a few spikes, so
    random full-range int8 inputs (every value in [0, 1]) drive them far past their ranges."""
    tf.random.set_seed(16)
    rng = np.random.default_rng(16)
    xs = np.zeros((400, 28, 16), np.float32)
    for k in range(3):
        xs[np.arange(400), rng.integers(0, 28, 400), rng.integers(0, 16, 400)] = 1.0
    ys = np.stack([xs[:, :, 4 * k:4 * k + 4].sum((1, 2)) for k in range(4)], 1)
    model = _lstm_dense(28, 16, 16, 4, sequences=False)
    _fit(model, xs, ys, "mse", epochs=5)
    return convert(model, xs[:100])


def clip() -> bytes:
    tf.random.set_seed(64)
    rng = np.random.default_rng(64)
    xs = rng.normal(0.3, 1, (300, 64, 4)).astype(np.float32)
    ys = np.cumsum(xs, 1).reshape(300, 64 * 4)[:, -4:] * 0.5     # running sums: the cell integrates
    model = _lstm_dense(64, 4, 8, 4, sequences=False)
    _fit(model, xs * 2, ys * 2, "mse", epochs=8)
    return convert(model, xs[:100] * 2)


#: file (under tests/data) -> maker, and the cell state scales (log2) it must come out with
MODELS = {
    "lstm_int8.tflite": (lstm_int8, None),
    "lstm/mnist20.tflite": (mnist20, range(-15, -8)),
    "lstm/last32.tflite": (last32, range(-15, -8)),
    "lstm/long256.tflite": (long256, range(-15, -8)),
    "lstm/saturate.tflite": (saturate, range(-15, -8)),
    "lstm/clip.tflite": (clip, range(-11, -8)),
}


def cell_scale_log2(model: bytes) -> int:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=model)
    scales = [d["quantization"][0] for d in it.get_tensor_details() if d["dtype"] == np.int16]
    return round(math.log2(scales[0]))


def main(argv: list[str]) -> None:
    out_dir = Path(argv[0]) if argv else DATA
    names = argv[1:] or list(MODELS)
    for name in names:
        make, want = MODELS[name]
        model = make()
        if want is not None and cell_scale_log2(model) not in want:
            sys.exit(f"{name}: cell state scale 2^{cell_scale_log2(model)}, wanted 2^{want.start}..2^{want.stop - 1}")
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(model)
        print(f"wrote {path} ({len(model)} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
