"""CONV_2D vs LiteRT BUILTIN_REF on random shapes, strides, dilations, paddings, groups and
quantization (int8 and 16x8 with int64 or int32 bias), seeded."""
import numpy as np
import pytest
from op_cases import SAME, assert_rejected, conv_bias, conv_geometry, conv_quant, fixed_weights_bias

from tinydeploy.compile.tflite import schema as S
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def conv_case(rng: np.random.Generator, dtype: str, bias_kind: str | None = None) -> Case:
    batches, (h, w), (fh, fw), (sh, sw), (dh, dw), padding, (oh, ow) = conv_geometry(rng, 10, 4, [1, 1, 2, 3],
                                                                                      [1, 1, 2])
    groups = int(rng.choice([1, 1, 1, 2, 3]))
    fc = int(rng.integers(1, 6))
    cin = fc * groups
    cout = groups * int(rng.integers(1, 5))
    per_channel = bool(rng.integers(0, 2))
    act = int(rng.choice([0, 1, 2, 3]))
    taps = fh * fw * fc
    if bias_kind is None:
        bias_kind = "int32" if dtype == "int8" else str(rng.choice(["int64", "int64", "int64opt", "int32opt"]))
    b = ModelBuilder()
    (in_scale, in_zp), w_scale, out_q = conv_quant(rng, dtype, cout, per_channel, taps)
    x = b.tensor([batches, h, w, cin], dtype, in_scale, in_zp)
    wt = b.tensor([cout, fh, fw, fc], "int8", w_scale, 0, data=rng.integers(-127, 128, (cout, fh, fw, fc)), axis=0)
    bias_data = conv_bias(rng, dtype, taps, cout)
    qbt = 0
    if bias_kind == "int64opt":
        bias_kind, qbt = "int64", S.TensorType.INT64
    elif bias_kind == "int32opt":
        bias_kind, qbt = "int32", S.TensorType.INT32
    bias = b.tensor([cout], bias_kind, in_scale * w_scale, 0, data=bias_data)
    y = b.tensor([batches, oh, ow, cout], dtype, *out_q)
    b.op("CONV_2D", [x, wt, bias], [y],
         options("Conv2DOptions", padding=padding, strideH=sh, strideW=sw, dilationHFactor=dh,
                 dilationWFactor=dw, fusedActivationFunction=act, quantizedBiasType=qbt))
    label = (f"conv {dtype} b{batches} {h}x{w}x{cin} f{fh}x{fw}x{fc} o{cout} g{groups} s{sh},{sw} d{dh},{dw} "
             f"pad{'SV'[padding]} pc{int(per_channel)} act{act} bias{bias_kind}{'/opt' if qbt else ''}")
    return Case(b.build([x], [y]), label, samples=2)


@pytest.mark.parametrize("dtype,n,seed", [("int8", 70, 11), ("int16", 42, 12)])
def test_conv_random(dtype, n, seed):
    rng = np.random.default_rng(seed)
    cases = [conv_case(rng, dtype) for _ in range(n)]
    assert check_cases(cases, seed=seed) == []


def _single(dtype="int8", bias="int32", qbt=0, w_zp=0, axis=0, out_shape=None, in_scale=0.05, out_scale=0.1,
            pc=False) -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 2], dtype, in_scale, 0)
    wt, bb = fixed_weights_bias(b, (3, 3, 3, 2), w_zp, axis, pc, bias)
    y = b.tensor(out_shape or [1, 4, 4, 3], dtype, out_scale, 0)
    b.op("CONV_2D", [x, wt, bb], [y], options("Conv2DOptions", padding=SAME, strideH=1, strideW=1,
                                                 quantizedBiasType=qbt))
    return b.build([x], [y])


@pytest.mark.parametrize("kwargs,reason", [
    ({"dtype": "int16", "bias": "int32"}, "bias type int32"),
    ({"dtype": "int16", "bias": "int64", "qbt": S.TensorType.INT32}, "bias type int64"),
    ({"w_zp": 3}, "zero point 0"),
    ({"pc": True, "axis": 3}, "axis 0"),
    ({"out_shape": [1, 3, 3, 3]}, "disagrees"),
    ({"dtype": "int16", "bias": "int64", "in_scale": 100.0, "out_scale": 0.00001}, "2^14"),
])
def test_conv_rejects(kwargs, reason):
    assert_rejected(_single(**kwargs), reason)
