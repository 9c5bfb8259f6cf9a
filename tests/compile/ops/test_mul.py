"""MUL vs LiteRT BUILTIN_REF: int8, int16 and int16 x int16 -> int8, broadcasting, fused activations,
constant operands, scales chosen so that float32 and double multiplier arithmetic disagree, and
every pair of int8 values (which pins LiteRT's two-step rounding)."""
import numpy as np
import pytest

from tinydeploy.compile.ops.mul import mul_multiplier
from tinydeploy.compile.quant import quantize_multiplier
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_groups


def random_shapes(rng: np.random.Generator, max_rank: int = 5):
    """Output shape and two input shapes that broadcast to it (sometimes equal, sometimes lower rank)."""
    rank = int(rng.integers(0, max_rank + 1))
    out = [int(rng.integers(1, 6)) for _ in range(rank)]
    if rng.random() < 0.3:
        return out, list(out), list(out)

    def operand():
        s = [d if rng.random() < 0.5 else 1 for d in out]
        drop = int(rng.integers(0, rank + 1)) if rng.random() < 0.4 else 0
        return s[drop:]

    a, b = operand(), operand()
    return list(np.broadcast_shapes(tuple(a), tuple(b))), a, b


def log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


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
        out_shape, sa, sb = random_shapes(rng)
        sa = sb = out_shape
    else:
        out_shape, sa, sb = random_shapes(rng, 6 if rng.random() < 0.15 else 5)
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
    const_in = int(rng.choice([-1, -1, -1, 0, 1]))
    b = ModelBuilder()
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    ids = []
    for k, shape in enumerate((sa, sb)):
        data = rng.integers(info.min, int(info.max) + 1, shape) if k == const_in else None
        ids.append(b.tensor(shape, dtype, scales[k], zps[k], data=data))
    y = b.tensor(out_shape, out_dtype, scales[2], zps[2])
    b.op("MUL", ids, [y], options("MulOptions", fusedActivationFunction=act))
    inputs = [t for k, t in enumerate(ids) if k != const_in]
    label = f"MUL {dtype}->{out_dtype} {sa}x{sb}->{out_shape} act{act} const{const_in} scales {scales} zps {zps}"
    return Case(b.build(inputs, [y]), label)


def all_pairs_case(rng: np.random.Generator, dtype: str, act: int = 0, n: int = 256):
    """Input 1 [n, 1] x input 2 [1, n]: every pair of int8 values (n random int16 values each)."""
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    s1, s2 = log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)
    so = s1 * s2 * log_uniform(rng, 10.0, 300.0) * (128 if dtype == "int16" else 1)
    zps = [int(rng.integers(-128, 128)) for _ in range(3)] if dtype == "int8" else [0, 0, 0]
    b = ModelBuilder()
    x = b.tensor([n, 1], dtype, s1, zps[0])
    w = b.tensor([1, n], dtype, s2, zps[1])
    y = b.tensor([n, n], dtype, so, zps[2])
    b.op("MUL", [x, w], [y], options("MulOptions", fusedActivationFunction=act))
    if dtype == "int8":
        va = vb = np.arange(-128, 128)
    else:
        va, vb = rng.integers(-3000, 3000, (2, n))
    xs = [va.reshape(1, n, 1).astype(info.dtype), vb.reshape(1, 1, n).astype(info.dtype)]
    return Case(b.build([x, w], [y]), f"MUL {dtype} all pairs scales {[s1, s2, so]} zps {zps} act{act}"), xs


@pytest.fixture(scope="module")
def results():
    groups = {}
    for dtype, seed in (("int8", 31), ("int16", 32)):
        rng = np.random.default_rng(seed)
        groups[dtype] = [(mul_case(rng, dtype, tricky=(i % 5 == 4)), None) for i in range(30)]
    rng = np.random.default_rng(33)
    groups["int16->int8"] = [(mul_case(rng, "int16", "int8"), None) for _ in range(12)]
    rng = np.random.default_rng(34)
    groups["all pairs"] = [all_pairs_case(rng, dtype, act=int(rng.choice([0, 1, 3])))
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
