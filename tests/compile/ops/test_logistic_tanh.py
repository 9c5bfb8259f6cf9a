"""LOGISTIC and TANH (int8 table, int16 sigmoid-table kernel) vs LiteRT BUILTIN_REF (seeded).

Every case's first sample holds every value of the input type (all 256 int8 values, all 65536
int16 values, in random order), so each int8 table entry and the whole int16 input range are
compared; further samples are uniform random.
"""
import numpy as np
import pytest
from op_cases import log_uniform, packed_cases

from tinydeploy.compile.ir import Graph, Op, Quant, Tensor
from tinydeploy.compile.ops import lowering_for
from tinydeploy.testing.builder import ModelBuilder
from tinydeploy.testing.opcheck import Case, check_groups

INT8_SHAPES = [[256], [4, 64], [2, 8, 16], [1, 16, 16, 1], [512], [3, 256], [2, 2, 4, 32]]
INT16_SHAPES = [[65536], [2, 32768], [256, 256], [4, 128, 128], [65536 + 1000]]


def sweep_inputs(rng: np.random.Generator, shape: list[int], dtype: str, samples: int = 3) -> np.ndarray:
    info = np.iinfo(dtype)
    size = int(np.prod(shape))
    full = np.arange(info.min, int(info.max) + 1)
    first = np.concatenate([rng.permutation(full), rng.integers(info.min, int(info.max) + 1, size)])[:size]
    rest = rng.integers(info.min, int(info.max) + 1, (samples - 1, size))
    return np.concatenate([first[None], rest]).astype(dtype).reshape([samples] + shape)


def spec(kind: str, dtype: str, shape: list[int], in_q: tuple, out_q: tuple, label: str, data: np.ndarray) -> dict:
    return dict(kind=kind, shape=shape, in_dtype=dtype, in_q=in_q, out_dtype=dtype, out_q=out_q, label=label,
                data=data)


def int8_spec(rng: np.random.Generator, kind: str) -> dict:
    shape = INT8_SHAPES[int(rng.integers(len(INT8_SHAPES)))]
    in_scale, in_zp = log_uniform(rng, 1e-3, 0.5), int(rng.integers(-128, 128))
    if kind == "LOGISTIC":
        out_scale = 1.0 / 256
        out_zp = -128 if rng.random() < 0.6 else int(rng.integers(-128, 128))
    else:
        out_scale, out_zp = ((1.0 / 128, 0) if rng.random() < 0.5 else
                             (log_uniform(rng, 2e-3, 0.05), int(rng.integers(-128, 128))))
    label = f"{kind} int8 {shape} in {in_scale:.4g}/{in_zp} out {out_scale:.4g}/{out_zp}"
    return spec(kind, "int8", shape, (in_scale, in_zp), (out_scale, out_zp), label, sweep_inputs(rng, shape, "int8"))


def int16_scale(rng: np.random.Generator, kind: str) -> float:
    r = rng.random()
    if r < 0.15:
        return 2.0**-12  # power-of-two shortcut (multiplier 0)
    if r < 0.25:
        return 2.0**-11 if kind == "TANH" else 2.0**-12 * (1 + 3e-4)  # shortcut / within CheckedLog2 tolerance
    if r < 0.4:
        return 2.0 ** int(rng.integers(-16, 3))  # powers of two that take the general path
    return log_uniform(rng, 1e-6, 5.3)


def int16_spec(rng: np.random.Generator, kind: str) -> dict:
    shape = INT16_SHAPES[int(rng.integers(len(INT16_SHAPES)))]
    in_scale = int16_scale(rng, kind)
    out_scale = 1.0 / 32768 if kind == "LOGISTIC" or rng.random() < 0.7 else (1.0 / 32768) * (1 + 4e-4)
    label = f"{kind} int16 {shape} in {in_scale:.6g} out {out_scale:.8g}"
    return spec(kind, "int16", shape, (in_scale, 0), (out_scale, 0), label, sweep_inputs(rng, shape, "int16"))


def chain_case(rng: np.random.Generator, dtype: str) -> tuple[Case, list[np.ndarray]]:
    """LOGISTIC -> TANH -> LOGISTIC: the planner may run the table kernels in place."""
    shape = INT8_SHAPES[int(rng.integers(len(INT8_SHAPES)))] if dtype == "int8" else [2, 32768]
    b = ModelBuilder()
    if dtype == "int8":
        x = b.tensor(shape, "int8", log_uniform(rng, 0.01, 0.2), int(rng.integers(-20, 20)))
        h1 = b.tensor(shape, "int8", 1.0 / 256, -128)
        h2 = b.tensor(shape, "int8", 1.0 / 128, 0)
        y = b.tensor(shape, "int8", 1.0 / 256, -128)
    else:
        x = b.tensor(shape, "int16", log_uniform(rng, 1e-4, 1e-2), 0)
        h1 = b.tensor(shape, "int16", 1.0 / 32768, 0)
        h2 = b.tensor(shape, "int16", 1.0 / 32768, 0)
        y = b.tensor(shape, "int16", 1.0 / 32768, 0)
    b.op("LOGISTIC", [x], [h1])
    b.op("TANH", [h1], [h2])
    b.op("LOGISTIC", [h2], [y])
    return Case(b.build([x], [y]), f"chain {dtype} {shape}"), [sweep_inputs(rng, shape, dtype)]


@pytest.fixture(scope="module")
def random_results() -> dict[str, list[str]]:
    """50 int8 / 40 int16 cases per op (5 ops per compiled model) plus in-place chains, all in
    ONE host binary; returns the mismatches per input type."""
    groups = {}
    for dtype, seed, make, n in [("int8", 7, int8_spec, 50), ("int16", 8, int16_spec, 40)]:
        rng = np.random.default_rng(seed)
        specs = [make(rng, kind) for kind in ["LOGISTIC", "TANH"] for _ in range(n)]
        order = rng.permutation(len(specs))
        groups[dtype] = packed_cases([specs[i] for i in order], per_model=5)
        groups[dtype] += [chain_case(rng, dtype) for _ in range(3)]
    return check_groups(groups)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_logistic_tanh_random(random_results, dtype):
    assert random_results[dtype] == []


def _graph(kind: str, dtype: str, in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> tuple[Graph, Op]:
    def t(i, s, z):
        return Tensor(i, f"t{i}", (4,), dtype, Quant(np.array([s], np.float32), np.array([z], np.int64)))
    op = Op(0, kind, [0], [1])
    return Graph([t(0, in_scale, in_zp), t(1, out_scale, out_zp)], [op], [0], [1]), op


@pytest.mark.parametrize("kind,dtype,in_q,out_q,reason", [
    ("LOGISTIC", "int8", (0.05, 0), (1 / 255, -128), "1/256"),
    ("LOGISTIC", "int16", (2**-12, 0), (1 / 32768, 1), "zero point"),
    ("LOGISTIC", "int16", (2**-12, 0), (1 / 16384, 0), "1/32768"),
    ("TANH", "int16", (2**-12, 3), (1 / 32768, 0), "zero point"),
    ("TANH", "int16", (6.0, 0), (1 / 32768, 0), "too large"),
    ("LOGISTIC", "int16", (1e-12, 0), (1 / 32768, 0), "too small"),
])
def test_logistic_tanh_rejects(kind, dtype, in_q, out_q, reason):
    g, op = _graph(kind, dtype, *in_q, *out_q)
    why = lowering_for(kind).check(op, g)
    assert why is not None and reason in why


def test_accepts_what_litert_accepts():
    for kind in ["LOGISTIC", "TANH"]:
        g, op = _graph(kind, "int8", 0.05, 3, 1 / 256, -128)
        assert lowering_for(kind).check(op, g) is None
        g, op = _graph(kind, "int16", 2**-12, 0, 1 / 32768, 0)
        assert lowering_for(kind).check(op, g) is None
