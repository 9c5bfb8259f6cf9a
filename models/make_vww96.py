"""Make a 96x96 MobileNetV1-0.25-style Visual Wake Words network, full int8 (untrained).

    .venv/bin/python models/make_vww96.py [--channels 3|1] [OUT_DIR]      (default: 3, this folder)

keras.applications.MobileNet(alpha=0.25, weights=None, input_shape=(96, 96, C), classes=2):
the MLPerf Tiny VWW shape (13 depthwise-separable blocks, global average pool, 1x1 conv to 2
classes, softmax), with random weights: a size/speed/exactness workload, not a classifier.
--channels 1 (grayscale) is TFLite Micro's person_detection input: the workload for patch-based
inference, whose arena is otherwise dominated by the 27,648-byte RGB input.

With a random initialisation and untrained BatchNorm (moving mean 0, variance 1, gamma 1, beta 0)
the activations shrink block after block; the converter then gives the late tensors scales
around 1e-8 and LiteRT's reference SOFTMAX aborts. So every BatchNormalization is calibrated in
network order: its moving mean/variance are set to the per-channel mean/variance of its actual
input on random images (the earlier BNs already calibrated), and gamma/beta are drawn at random
(seeded) so that the pre-activation is roughly N(beta, gamma^2) with beta in [1, 3], gamma in
[1, 2.5]: the ReLU6 outputs fill [0, 6] instead of collapsing or saturating.

Converted from a batch-size-1 copy (static shapes), full-integer int8 (TFLITE_BUILTINS_INT8,
int8 I/O), with a representative dataset of random images in [-1, 1] (MobileNet's input range).
Seeded: keras.utils.set_random_seed(0) and op determinism. Writes vww96_int8.tflite (3 channels)
or vww96_gray_int8.tflite (1 channel).
"""
import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from tflite_int8 import convert, interpreter, quantize

SEED = 0
N_CALIBRATION = 32          # random images for the BatchNorm statistics
N_REPRESENTATIVE = 32       # random images for the converter's activation ranges


def mobilenet(shape, batch_size=None):
    inp = keras.Input(shape=shape, batch_size=batch_size, name="image")
    return keras.applications.MobileNet(alpha=0.25, weights=None, input_tensor=inp, classes=2)


def random_images(rng, n, shape):
    return rng.uniform(-1.0, 1.0, (n, *shape)).astype(np.float32)


def calibrate_batchnorm(model, images, rng):
    """Set each BN's moving statistics from its input, in order, with random gamma/beta."""
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        x = keras.Model(model.inputs, layer.input)([images], training=False)
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=(0, 1, 2))
        var = x.var(axis=(0, 1, 2))
        c = mean.shape[0]
        gamma = rng.uniform(1.0, 2.5, c)
        beta = rng.uniform(1.0, 3.0, c)
        layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, var)])


def main(out_dir: Path, channels: int):
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)
    shape = (96, 96, channels)

    model = mobilenet(shape)
    calibrate_batchnorm(model, random_images(rng, N_CALIBRATION, shape), rng)
    static = mobilenet(shape, batch_size=1)
    static.set_weights(model.get_weights())

    rep = random_images(rng, N_REPRESENTATIVE, shape)
    content = convert(static, rep)
    path = out_dir / ("vww96_int8.tflite" if channels == 3 else "vww96_gray_int8.tflite")
    path.write_bytes(content)

    # Check under LiteRT BUILTIN_REF that it runs and the output is not degenerate.
    it = interpreter(content)
    ops = [d["op_name"] for d in it._get_ops_details()]
    i_det, o_det = it.get_input_details()[0], it.get_output_details()[0]
    outs = []
    for img in random_images(np.random.default_rng(SEED + 1), 8, shape):
        it.set_tensor(i_det["index"], quantize(img, i_det)[None])
        it.invoke()
        outs.append(it.get_tensor(o_det["index"])[0])
    scales = [t["quantization"][0] for t in it.get_tensor_details()
              if t["dtype"] == np.int8 and t["quantization"][0] > 0]
    print(f"wrote {path}: {len(content)} bytes, {len(ops)} ops")
    print("ops:", ", ".join(f"{o} x{ops.count(o)}" for o in dict.fromkeys(ops)))
    print(f"smallest int8 tensor scale {min(scales):.3g}, largest {max(scales):.3g}")
    print("int8 outputs on 8 random images:", [o.tolist() for o in outs])
    float_out = static([rep[:1]], training=False).numpy()[0]
    print("float model output on representative image 0:", float_out.tolist())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--channels", type=int, choices=[3, 1], default=3, help="3: RGB (default), 1: grayscale")
    ap.add_argument("out_dir", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    main(args.out_dir, args.channels)
