"""DEPTHWISE_CONV_2D vs LiteRT BUILTIN_REF on random shapes, depth multipliers, strides,
dilations, paddings and quantization (int8 and 16x8), seeded."""
import numpy as np
import pytest
from op_cases import SAME, assert_rejected, conv_bias, conv_geometry, conv_quant, fixed_weights_bias

from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def dw_case(rng: np.random.Generator, dtype: str) -> Case:
    batches, (h, w), (fh, fw), (sh, sw), (dh, dw), padding, (oh, ow) = conv_geometry(rng, 12, 5, [1, 2, 3], [1, 2])
    cin = int(rng.integers(1, 9))
    mult = int(rng.choice([1, 1, 1, 2, 3]))
    cout = cin * mult
    per_channel = bool(rng.integers(0, 2))
    act = int(rng.choice([0, 1, 2, 3]))
    taps = fh * fw
    b = ModelBuilder()
    (in_scale, in_zp), w_scale, out_q = conv_quant(rng, dtype, cout, per_channel, taps)
    x = b.tensor([batches, h, w, cin], dtype, in_scale, in_zp)
    wt = b.tensor([1, fh, fw, cout], "int8", w_scale, 0, data=rng.integers(-127, 128, (1, fh, fw, cout)), axis=3)
    inputs = [x, wt]
    has_bias = rng.random() < 0.85
    if has_bias:
        inputs.append(b.tensor([cout], "int32" if dtype == "int8" else "int64", in_scale * w_scale, 0,
                               data=conv_bias(rng, dtype, taps, cout)))
    y = b.tensor([batches, oh, ow, cout], dtype, *out_q)
    # int8 ignores the option (LiteRT takes the multiplier from the shapes): sometimes leave it 0
    opt_mult = mult if dtype == "int16" or rng.random() < 0.7 else 0
    b.op("DEPTHWISE_CONV_2D", inputs, [y],
         options("DepthwiseConv2DOptions", padding=padding, strideH=sh, strideW=sw, dilationHFactor=dh,
                 dilationWFactor=dw, depthMultiplier=opt_mult, fusedActivationFunction=act))
    label = (f"dw {dtype} b{batches} {h}x{w}x{cin} f{fh}x{fw} m{mult}(opt {opt_mult}) s{sh},{sw} d{dh},{dw} "
             f"pad{'SV'[padding]} pc{int(per_channel)} act{act} bias{int(has_bias)}")
    return Case(b.build([x], [y]), label, samples=2)


@pytest.mark.parametrize("dtype,n,seed", [("int8", 70, 21), ("int16", 50, 22)])
def test_depthwise_conv_random(dtype, n, seed):
    rng = np.random.default_rng(seed)
    cases = [dw_case(rng, dtype) for _ in range(n)]
    assert check_cases(cases, seed=seed) == []


def _single(dtype="int8", bias="int32", w_zp=0, axis=3, out_shape=None, opt_mult=1, pc=False,
            in_scale=0.05, out_scale=0.1) -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 3], dtype, in_scale, 0)
    wt, bb = fixed_weights_bias(b, (1, 3, 3, 3), w_zp, axis, pc, bias)
    y = b.tensor(out_shape or [1, 4, 4, 3], dtype, out_scale, 0)
    b.op("DEPTHWISE_CONV_2D", [x, wt, bb], [y],
         options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1, depthMultiplier=opt_mult))
    return b.build([x], [y])


@pytest.mark.parametrize("kwargs,reason", [
    ({"dtype": "int16", "bias": "int32"}, "bias type int32"),
    ({"dtype": "int16", "bias": "int64", "opt_mult": 2}, "depth_multiplier"),
    ({"w_zp": 2}, "zero point 0"),
    ({"pc": True, "axis": 0}, "axis 3"),
    ({"out_shape": [1, 2, 2, 3]}, "disagrees"),
    ({"dtype": "int16", "bias": "int64", "in_scale": 100.0, "out_scale": 0.00001}, "2^14"),
])
def test_depthwise_conv_rejects(kwargs, reason):
    assert_rejected(_single(**kwargs), reason)
