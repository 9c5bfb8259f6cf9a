"""MUL vs LiteRT BUILTIN_REF: int8, int16 and int16 x int16 -> int8, broadcasting, fused activations,
constant operands, scales chosen so that float32 and double multiplier arithmetic disagree, and
every pair of int8 values (which pins LiteRT's two-step rounding)."""
import numpy as np
import pytest
from op_cases import all_pairs_case, broadcast_shapes, log_uniform, two_operands

from tinydeploy.compile.ops.mul import mul_multiplier
from tinydeploy.compile.quant import quantize_multiplier
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_groups


class _T:  # minimal stand-in for a tensor's per-tensor scale
    def __init__(self, scale):
        self.scale = scale


def float_sensitive_scales(rng):
    """Scales whose multiplier differs between float32 and double evaluation."""
    for _ in range(100000):
        s = [float(np.float32(log_uniform(rng, 0.001, 0.5))) for _ in range(3)]
        s[2] = float(np.float32(s[0] * s[1] * log_uniform(rng, 2.0, 60.0)))
        dbl = quantize_multiplier(s[0] * s[1] / s[2])
        if dbl != mul_multiplier(_T(s[0]), _T(s[1]), _T(s[2])):
            return s
    raise AssertionError("no float-sensitive scales found")


def mul_case(rng: np.random.Generator, dtype: str, out_dtype: str | None = None, tricky: bool = False) -> Case:
    out_dtype = out_dtype or dtype
    if out_dtype != dtype:  # int16 x int16 -> int8: no broadcasting
        out_shape, sa, sb = broadcast_shapes(rng)
        sa = sb = out_shape
    else:
        out_shape, sa, sb = broadcast_shapes(rng, 6 if rng.random() < 0.15 else 5)
    if tricky:
        scales = float_sensitive_scales(rng)
    else:
        s1, s2 = log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)
        if dtype == "int8":
            so = s1 * s2 * log_uniform(rng, 20.0, 400.0)
        else:
            so = s1 * s2 * log_uniform(rng, 2000.0, 60000.0)
        scales = [s1, s2, so]
    zps = [int(rng.integers(-128, 128)) if dtype == "int8" else 0 for _ in range(2)]
    zps.append(int(rng.integers(-128, 128)) if out_dtype == "int8" else 0)
    act = int(rng.choice([0, 0, 1, 2, 3]))
    b = ModelBuilder()
    ids, inputs, const_in = two_operands(rng, b, dtype, (sa, sb), scales, zps)
    y = b.tensor(out_shape, out_dtype, scales[2], zps[2])
    b.op("MUL", ids, [y], options("MulOptions", fusedActivationFunction=act))
    label = f"MUL {dtype}->{out_dtype} {sa}x{sb}->{out_shape} act{act} const{const_in} scales {scales} zps {zps}"
    return Case(b.build(inputs, [y]), label)


def all_pairs(rng: np.random.Generator, dtype: str, act: int = 0):
    """Every pair of int8 values (256 random int16 values in [-3000, 3000) each)."""
    s1, s2 = log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)
    so = s1 * s2 * log_uniform(rng, 10.0, 300.0) * (128 if dtype == "int16" else 1)
    zps = [int(rng.integers(-128, 128)) for _ in range(3)] if dtype == "int8" else [0, 0, 0]
    return all_pairs_case(rng, "MUL", dtype, [s1, s2, so], zps, options("MulOptions", fusedActivationFunction=act),
                          int16_limit=3000)


@pytest.fixture(scope="module")
def results():
    groups = {}
    for dtype, seed in (("int8", 31), ("int16", 32)):
        rng = np.random.default_rng(seed)
        groups[dtype] = [(mul_case(rng, dtype, tricky=(i % 5 == 4)), None) for i in range(30)]
    rng = np.random.default_rng(33)
    groups["int16->int8"] = [(mul_case(rng, "int16", "int8"), None) for _ in range(12)]
    rng = np.random.default_rng(34)
    groups["all pairs"] = [all_pairs(rng, dtype, act=int(rng.choice([0, 1, 3])))
                           for dtype in ("int8", "int16") for _ in range(3)]
    return check_groups(groups, seed=5)


@pytest.mark.parametrize("group", ["int8", "int16", "int16->int8"])
def test_mul_random(results, group):
    """Random shapes (broadcasting up to 6-D), quantization, activations, constant operands; every
    fifth case with scales where float32 and double multiplier arithmetic disagree."""
    assert results[group] == []


def test_mul_all_pairs(results):
    """Every pair of int8 values: pins the two-step rounding of LiteRT's MUL."""
    assert results["all pairs"] == []
