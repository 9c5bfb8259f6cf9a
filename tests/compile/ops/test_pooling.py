"""AVERAGE_POOL_2D / MAX_POOL_2D vs LiteRT BUILTIN_REF on random shapes (seeded)."""
import numpy as np
import pytest

from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.ops.window import out_size
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def pool_model(kind, dtype, n, h, w, c, fh, fw, sh, sw, padding, act, scale, zp, out_scale=None, out_zp=None):
    oh, ow = out_size(padding, h, fh, sh), out_size(padding, w, fw, sw)
    b = ModelBuilder()
    x = b.tensor([n, h, w, c], dtype, scale, zp)
    y = b.tensor([n, oh, ow, c], dtype, out_scale or scale, zp if out_zp is None else out_zp)
    b.op(kind, [x], [y], options("Pool2DOptions", padding=padding, strideW=sw, strideH=sh, filterWidth=fw,
                                 filterHeight=fh, fusedActivationFunction=act))
    return b.build([x], [y])


def pool_case(rng: np.random.Generator, kind: str, dtype: str) -> Case:
    while True:
        n = int(rng.integers(1, 3))
        h, w, c = int(rng.integers(1, 13)), int(rng.integers(1, 13)), int(rng.integers(1, 9))
        fh, fw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        if rng.random() < 0.15:  # global pooling
            fh, fw = h, w
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        padding = int(rng.integers(0, 2))
        if out_size(padding, h, fh, sh) > 0 and out_size(padding, w, fw, sw) > 0:
            break
    act = int(rng.choice([0, 1, 2, 3]))
    scale = float(rng.uniform(0.005, 0.2))
    zp = int(rng.integers(-128, 128)) if dtype == "int8" else int(rng.choice([0, 0, 0, -300, 1000]))
    out_scale = out_zp = None
    if rng.random() < 0.1:  # LiteRT does not rescale even when the output quantization differs
        out_scale, out_zp = scale * float(rng.uniform(0.5, 2)), zp
    label = (f"{kind} {dtype} n{n} {h}x{w}x{c} f{fh}x{fw} s{sh}x{sw} pad{padding} act{act} "
             f"zp{zp} oq{out_scale}")
    return Case(pool_model(kind, dtype, n, h, w, c, fh, fw, sh, sw, padding, act, scale, zp, out_scale, out_zp),
                label)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_pooling_random(dtype):
    rng = np.random.default_rng(7 if dtype == "int8" else 8)
    cases = [pool_case(rng, kind, dtype) for kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D") for _ in range(32)]
    # large windows (int16 sums near the limit of the kernel's accumulator)
    cases.append(Case(pool_model("AVERAGE_POOL_2D", dtype, 1, 40, 40, 2, 40, 40, 1, 1, 1, 0, 0.1, 0), "big avg"))
    cases.append(Case(pool_model("MAX_POOL_2D", dtype, 1, 40, 40, 2, 40, 40, 1, 1, 1, 0, 0.1, 0), "big max"))
    assert check_cases(cases, seed=3) == []


def _check(model: bytes):
    g = parse_model(model)
    op = g.ops[0]
    return lowering_for(op.kind).check(op, g)


def test_pooling_rejects():
    # int16 average pooling over more than 65535 elements
    assert "65535" in _check(pool_model("AVERAGE_POOL_2D", "int16", 1, 4, 4, 1, 300, 300, 1, 1, 0, 0, 0.1, 0))
    assert _check(pool_model("MAX_POOL_2D", "int16", 1, 4, 4, 1, 300, 300, 1, 1, 0, 0, 0.1, 0)) is None
    assert _check(pool_model("AVERAGE_POOL_2D", "int8", 1, 4, 4, 1, 300, 300, 1, 1, 0, 0, 0.1, 0)) is None
    # wrong output shape in the model
    b = ModelBuilder()
    x = b.tensor([1, 8, 8, 2], "int8", 0.1, 0)
    y = b.tensor([1, 3, 3, 2], "int8", 0.1, 0)
    b.op("MAX_POOL_2D", [x], [y], options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=2,
                                          filterHeight=2))
    assert "output shape" in _check(b.build([x], [y]))
    # float pooling
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 1], "float32")
    y = b.tensor([1, 2, 2, 1], "float32")
    b.op("AVERAGE_POOL_2D", [x], [y], options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=2,
                                              filterHeight=2))
    assert "not supported" in _check(b.build([x], [y]))
