"""Make a small MCUNet-like network (MobileNetV2 inverted residual blocks), int8 inside, float32 I/O.

    .venv/bin/python models/make_mcunet_like.py [--size 80] [OUT_DIR]      (default: 80, this folder)

The shape of the models MIT publishes with TinyEngine (MCUNet-VWW, MCUNetV2), at a size that fits
the repo: a 3x3 stride-2 stem, inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 project,
residual ADD when the shape allows) whose stride-2 convs get an explicit symmetric
`ZeroPadding2D(1)` + VALID padding, as PyTorch's `padding=1` (MCUNet is trained in PyTorch) comes out
of a TFLite export: a PAD before the conv (the converter fuses only a PAD that equals SAME, such as
keras MobileNetV2's (0, 1)), a global average pool and a dense head. Converted
with float32 I/O (QUANTIZE first, DEQUANTIZE last), as those models are. Untrained: a memory and
exactness workload for PAD folding and patch-based inference, not a classifier. BatchNorms are
calibrated in network order as in make_vww96.py (so activations neither collapse nor saturate).
Seeded. Writes mcunet_like_<size>_float_io.tflite.
"""
import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from make_vww96 import calibrate_batchnorm, random_images
from tflite_int8 import convert, interpreter, op_names

SEED = 0
# (expansion, output channels, blocks, stride of the first block): MobileNetV2-0.35-like, shortened
BLOCKS = [(1, 8, 1, 1), (4, 16, 2, 2), (4, 24, 2, 2), (4, 32, 2, 2), (4, 48, 1, 1)]


def inverted_residual(x, expansion: int, out_c: int, stride: int, name: str):
    in_c = x.shape[-1]
    y = x
    if expansion != 1:
        y = keras.layers.Conv2D(in_c * expansion, 1, use_bias=False, name=f"{name}_expand")(y)
        y = keras.layers.BatchNormalization(name=f"{name}_expand_bn")(y)
        y = keras.layers.ReLU(6.0)(y)
    if stride == 2:
        y = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(y)
    y = keras.layers.DepthwiseConv2D(3, strides=stride, padding="valid" if stride == 2 else "same", use_bias=False,
                                     name=f"{name}_dw")(y)
    y = keras.layers.BatchNormalization(name=f"{name}_dw_bn")(y)
    y = keras.layers.ReLU(6.0)(y)
    y = keras.layers.Conv2D(out_c, 1, use_bias=False, name=f"{name}_project")(y)
    y = keras.layers.BatchNormalization(name=f"{name}_project_bn")(y)
    if stride == 1 and in_c == out_c:
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    return y


def network(size: int, batch_size=None) -> keras.Model:
    inp = keras.Input(shape=(size, size, 3), batch_size=batch_size, name="image")
    x = keras.layers.ZeroPadding2D(1, name="stem_pad")(inp)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="valid", use_bias=False, name="stem")(x)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(6.0)(x)
    for i, (t, c, n, s) in enumerate(BLOCKS):
        for j in range(n):
            x = inverted_residual(x, t, c, s if j == 0 else 1, f"block{i}_{j}")
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inp, out)


def main(out_dir: Path, size: int) -> None:
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    shape = (size, size, 3)
    model = network(size)
    calibrate_batchnorm(model, random_images(rng, 32, shape), rng)
    static = network(size, batch_size=1)
    static.set_weights(model.get_weights())
    content = convert(static, random_images(rng, 32, shape), mode="float_io")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"mcunet_like_{size}_float_io.tflite"
    path.write_bytes(content)
    it = interpreter(content)
    ops = op_names(content)
    i_det, o_det = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(i_det["index"], random_images(np.random.default_rng(SEED + 1), 1, shape))
    it.invoke()
    print(f"wrote {path}: {len(content)} bytes, {len(ops)} ops")
    print("ops:", ", ".join(f"{o} x{ops.count(o)}" for o in dict.fromkeys(ops)))
    print("output on a random image:", it.get_tensor(o_det["index"])[0].tolist())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=80, help="input height and width (80 to 160)")
    ap.add_argument("out_dir", nargs="?", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    main(args.out_dir, args.size)
