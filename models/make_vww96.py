"""Make a 96x96x3 MobileNetV1-0.25-style Visual Wake Words network, full int8 (untrained).

    .venv/bin/python models/make_vww96.py [OUT_DIR]      (default: this folder)

keras.applications.MobileNet(alpha=0.25, weights=None, input_shape=(96, 96, 3), classes=2):
the MLPerf Tiny VWW shape (13 depthwise-separable blocks, global average pool, 1x1 conv to 2
classes, softmax), with random weights: a size/speed/exactness workload, not a classifier.

With a random initialisation and untrained BatchNorm (moving mean 0, variance 1, gamma 1, beta 0)
the activations shrink block after block; the converter then gives the late tensors scales
around 1e-8 and LiteRT's reference SOFTMAX aborts. So every BatchNormalization is calibrated in
network order: its moving mean/variance are set to the per-channel mean/variance of its actual
input on random images (the earlier BNs already calibrated), and gamma/beta are drawn at random
(seeded) so that the pre-activation is roughly N(beta, gamma^2) with beta in [1, 3], gamma in
[1, 2.5]: the ReLU6 outputs fill [0, 6] instead of collapsing or saturating.

Converted from a batch-size-1 copy (static shapes), full-integer int8 (TFLITE_BUILTINS_INT8,
int8 I/O), with a representative dataset of random images in [-1, 1] (MobileNet's input range).
Seeded: keras.utils.set_random_seed(0) and op determinism. Writes vww96_int8.tflite.
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
import keras

SEED = 0
SHAPE = (96, 96, 3)
N_CALIBRATION = 32          # random images for the BatchNorm statistics
N_REPRESENTATIVE = 32       # random images for the converter's activation ranges


def mobilenet(batch_size=None):
    inp = keras.Input(shape=SHAPE, batch_size=batch_size, name="image")
    return keras.applications.MobileNet(alpha=0.25, weights=None, input_tensor=inp, classes=2)


def random_images(rng, n):
    return rng.uniform(-1.0, 1.0, (n, *SHAPE)).astype(np.float32)


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


def main(out_dir: Path):
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    out_dir.mkdir(parents=True, exist_ok=True)

    model = mobilenet()
    calibrate_batchnorm(model, random_images(rng, N_CALIBRATION), rng)
    static = mobilenet(batch_size=1)
    static.set_weights(model.get_weights())

    rep = random_images(rng, N_REPRESENTATIVE)

    def representative():
        for i in range(len(rep)):
            yield [rep[i:i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(static)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    content = conv.convert()
    path = out_dir / "vww96_int8.tflite"
    path.write_bytes(content)

    # Check under LiteRT BUILTIN_REF that it runs and the output is not degenerate.
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=content,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ops = [d["op_name"] for d in it._get_ops_details()]
    i_det, o_det = it.get_input_details()[0], it.get_output_details()[0]
    s, zp = i_det["quantization"]
    outs = []
    for img in random_images(np.random.default_rng(SEED + 1), 8):
        it.set_tensor(i_det["index"],
                      np.clip(np.round(img / s) + zp, -128, 127).astype(np.int8)[None])
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
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)
