"""MEAN vs LiteRT BUILTIN_REF: random shapes, axes (negative, repeated), keep_dims, quantization."""
import numpy as np
import pytest

from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def mean_model(dtype, shape, axes, keep, in_q, out_q, axis_const=True):
    rank = len(shape)
    red = {a % rank for a in axes}
    out_shape = [1 if i in red else d for i, d in enumerate(shape)] if keep else \
        [d for i, d in enumerate(shape) if i not in red]
    b = ModelBuilder()
    x = b.tensor(shape, dtype, *in_q)
    ax = b.tensor([len(axes)], "int32", data=np.array(axes)) if axis_const else b.tensor([len(axes)], "int32")
    y = b.tensor(out_shape, dtype, *out_q)
    b.op("MEAN", [x, ax], [y], options("ReducerOptions", keepDims=keep))
    return b.build([x] if axis_const else [x, ax], [y])


def mean_case(rng: np.random.Generator, dtype: str) -> Case:
    rank = int(rng.integers(1, 6))
    shape = [int(rng.integers(1, 7)) for _ in range(rank)]
    if rng.random() < 0.3:  # the common image case: mean over H and W of NHWC
        shape = [int(rng.integers(1, 3)), int(rng.integers(1, 17)), int(rng.integers(1, 17)), int(rng.integers(1, 9))]
        axes = [1, 2] if rng.random() < 0.5 else [-3, 2]
        keep = bool(rng.random() < 0.7)
    else:
        k = int(rng.integers(1, rank + 2))
        axes = [int(a) for a in rng.integers(-rank, rank, k)]  # may repeat, may be negative
        keep = bool(rng.integers(0, 2))
    if dtype == "int8":
        in_q = (float(rng.uniform(0.005, 0.2)), int(rng.integers(-128, 128)))
        if rng.random() < 0.2:
            out_q = in_q
        else:
            out_q = (in_q[0] * float(rng.uniform(0.2, 3)), int(rng.integers(-128, 128)))
    else:
        in_q = (float(rng.uniform(0.0001, 0.01)), 0)
        out_q = in_q if rng.random() < 0.2 else (in_q[0] * float(rng.uniform(0.2, 3)), 0)
    return Case(mean_model(dtype, shape, axes, keep, in_q, out_q),
                f"mean {dtype} {shape} axes{axes} keep{keep} in{in_q} out{out_q}")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_mean_random(dtype):
    rng = np.random.default_rng(21 if dtype == "int8" else 22)
    cases = [mean_case(rng, dtype) for _ in range(30)]
    zp = 0 if dtype == "int16" else -5
    # large reductions: many elements per output, extreme scale ratios
    cases.append(Case(mean_model(dtype, [1, 48, 48, 3], [1, 2], True, (0.02, zp), (0.01, zp)), "big hw"))
    cases.append(Case(mean_model(dtype, [2, 30, 40], [0, 1, 2], False, (0.02, zp), (0.5, zp)), "all"))
    cases.append(Case(mean_model(dtype, [3, 200], [1], False, (0.001, zp), (1.0, zp)), "tiny ratio"))
    cases.append(Case(mean_model(dtype, [3, 200], [-1], True, (1.0, zp), (0.001, zp)), "huge ratio"))
    cases.append(Case(mean_model(dtype, [2, 300], [1], False, (1e-6, zp), (100.0, zp)), "shift clamp"))
    assert check_cases(cases, seed=5) == []


def _check(model: bytes):
    g = parse_model(model)
    return lowering_for("MEAN").check(g.ops[0], g)


def test_mean_rejects():
    assert "constant" in _check(mean_model("int8", [1, 4, 4, 2], [1, 2], True, (0.1, 0), (0.1, 0), False))
    assert "zero point" in _check(mean_model("int16", [1, 4, 4, 2], [1, 2], True, (0.1, 3), (0.1, 0)))
    assert _check(mean_model("int8", [1, 4, 4, 2], [1, 2], True, (0.1, 3), (0.1, 0))) is None
