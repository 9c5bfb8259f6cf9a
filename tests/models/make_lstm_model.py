"""Make a small converter-produced int8 LSTM model (TensorFlow from the `train` extra).

    .venv/bin/python tests/models/make_lstm_model.py [OUT_DIR]

Needs TensorFlow and tf-keras (Keras 2: only its LSTM layer carries the annotation that makes the
converter fuse it into one UNIDIRECTIONAL_SEQUENCE_LSTM op; Keras 3's becomes a WHILE loop).
Writes lstm_int8.tflite: Keras LSTM (return_sequences) + Dense, fully int8-quantized by the
TFLite converter with a representative dataset, so the LSTM becomes the integer 8x8->16
UNIDIRECTIONAL_SEQUENCE_LSTM with its 5 intermediate tensors. Seeded; the committed copy under
tests/data/ is what the tests use.
"""
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf_keras as keras

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from tflite_int8 import convert  # noqa: E402  (models/: the converter settings of every model script)

TIME, FEATURES, UNITS, CLASSES = 8, 6, 12, 4


def build() -> bytes:
    tf.random.set_seed(3)
    rng = np.random.default_rng(3)
    inp = keras.Input(shape=(TIME, FEATURES), batch_size=1, name="x")
    h = keras.layers.LSTM(UNITS, return_sequences=True, name="lstm")(inp)
    out = keras.layers.Dense(CLASSES, name="dense")(h)
    model = keras.Model(inp, out)
    # a few steps of training so the weights are not just the initializer's
    xs = rng.normal(0, 1, (256, TIME, FEATURES)).astype(np.float32)
    ys = np.cumsum(xs[..., :CLASSES], axis=1) * 0.3
    model.compile(optimizer="adam", loss="mse")
    model.fit(xs, ys, batch_size=1, epochs=1, verbose=0)
    return convert(model, xs[:100])


if __name__ == "__main__":
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "data"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "lstm_int8.tflite").write_bytes(build())
    print("wrote", out_dir / "lstm_int8.tflite")
