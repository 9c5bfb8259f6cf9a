"""TRANSPOSE_CONV vs LiteRT BUILTIN_REF on random shapes, strides, paddings, output sizes, biases
and quantization (int8 and 16x8 with int64 or int32 bias), seeded."""
import numpy as np
import pytest
from op_cases import SAME, VALID, assert_rejected, conv_bias, conv_quant, fixed_weights_bias

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops.window import out_size
from tinydeploy.compile.tflite import schema as S
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def output_sizes(padding: int, size: int, taps: int, stride: int) -> list[int]:
    """Output sizes whose forward convolution gives back `size` (what LiteRT requires)."""
    return [o for o in range(1, size * stride + taps + stride) if out_size(padding, o, taps, stride) == size]


def tconv_case(rng: np.random.Generator, dtype: str) -> Case:
    batches = int(rng.choice([1, 1, 1, 2]))
    ih, iw = int(rng.integers(1, 7)), int(rng.integers(1, 7))
    fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    sh, sw = int(rng.choice([1, 2, 2, 3])), int(rng.choice([1, 2, 2, 3]))
    padding = int(rng.choice([SAME, VALID]))
    oh = int(rng.choice(output_sizes(padding, ih, fh, sh)))
    ow = int(rng.choice(output_sizes(padding, iw, fw, sw)))
    cin, cout = int(rng.integers(1, 7)), int(rng.integers(1, 7))
    per_channel = bool(rng.integers(0, 2))
    act = int(rng.choice([0, 1, 2, 3]))
    # input pixels reaching one output pixel: about (fh/sh) * (fw/sw) * cin
    taps = max(1.0, fh / sh) * max(1.0, fw / sw) * cin
    b = ModelBuilder()
    (in_scale, in_zp), w_scale, out_q = conv_quant(rng, dtype, cout, per_channel, taps)
    shape = b.tensor([4], "int32", data=np.array([batches, oh, ow, cout]))
    wt = b.tensor([cout, fh, fw, cin], "int8", w_scale, 0, data=rng.integers(-127, 128, (cout, fh, fw, cin)),
                  axis=0)
    x = b.tensor([batches, ih, iw, cin], dtype, in_scale, in_zp)
    inputs = [shape, wt, x]
    kinds = ["int32", "int32", "none", "omitted"] if dtype == "int8" else \
        ["int64", "int64", "int64opt", "int32opt", "int32opt", "none", "omitted", "none32opt"]
    bias_kind = str(rng.choice(kinds))
    qbt = {"int64opt": S.TensorType.INT64, "int32opt": S.TensorType.INT32,
           "none32opt": S.TensorType.INT32}.get(bias_kind, 0)
    if bias_kind == "omitted":
        inputs.append(-1)
    elif bias_kind not in ("none", "none32opt"):
        inputs.append(b.tensor([cout], bias_kind[:5], in_scale * w_scale, 0, data=conv_bias(rng, dtype, taps, cout)))
    y = b.tensor([batches, oh, ow, cout], dtype, *out_q)
    b.op("TRANSPOSE_CONV", inputs, [y],
         options("TransposeConvOptions", padding=padding, strideH=sh, strideW=sw, fusedActivationFunction=act,
                 quantizedBiasType=qbt))
    label = (f"tconv {dtype} b{batches} {ih}x{iw}x{cin} f{fh}x{fw} -> {oh}x{ow}x{cout} s{sh},{sw} "
             f"pad{'SV'[padding]} pc{int(per_channel)} act{act} bias {bias_kind}")
    return Case(b.build([x], [y]), label, samples=2)


@pytest.mark.parametrize("dtype,n,seed", [("int8", 45, 31), ("int16", 40, 32)])
def test_transpose_conv_random(dtype, n, seed):
    rng = np.random.default_rng(seed)
    cases = [tconv_case(rng, dtype) for _ in range(n)]
    assert check_cases(cases, seed=seed) == []


def _single(dtype="int8", bias="int32", qbt=0, w_zp=0, axis=0, out_hw=8, pc=False, in_scale=0.05,
            out_scale=0.1) -> bytes:
    b = ModelBuilder()
    shape = b.tensor([4], "int32", data=np.array([1, out_hw, out_hw, 3]))
    wt, bb = fixed_weights_bias(b, (3, 3, 3, 2), w_zp, axis, pc, bias)
    x = b.tensor([1, 4, 4, 2], dtype, in_scale, 0)
    y = b.tensor([1, out_hw, out_hw, 3], dtype, out_scale, 0)
    b.op("TRANSPOSE_CONV", [shape, wt, x, bb], [y],
         options("TransposeConvOptions", padding=SAME, strideH=2, strideW=2, quantizedBiasType=qbt))
    return b.build([x], [y])


@pytest.mark.parametrize("kwargs,reason", [
    ({"dtype": "int16", "bias": "int32"}, "bias type int32"),
    ({"dtype": "int16", "bias": "int64", "qbt": S.TensorType.INT32}, "bias type int64"),
    ({"w_zp": 1}, "zero point 0"),
    ({"pc": True, "axis": 3}, "axis 0"),
    ({"out_hw": 9}, "convolution of the 9x9 output gives 5x5"),
    ({"dtype": "int16", "bias": "int64", "in_scale": 100.0, "out_scale": 0.00001}, "2^14"),
])
def test_transpose_conv_rejects(kwargs, reason):
    assert_rejected(_single(**kwargs), reason)


def test_transpose_conv_needs_no_scratch():
    m = compile_graph(parse_model(_single()))
    assert m.scratch_bytes == 0
