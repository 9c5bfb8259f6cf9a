"""SOFTMAX (int8->int8, int8->int16, int16->int16) and LOG_SOFTMAX (int8) vs LiteRT BUILTIN_REF.

Seeded random shapes, betas and scales; every row of depth >= 256 holds all 256 int8 values (in
random order), other samples are uniform or concentrated near the row maximum (where the
fixed-point exp is most sensitive). Several independent ops share one compiled model.

LiteRT aborts the process on an int8->int8 row whose exponentials sum to 512 or more (possible
only for rows longer than 511), so such inputs are avoided: long int8->int8 rows use a large
beta * scale and every row is checked against a float estimate of the sum.
"""
import numpy as np
import pytest
from op_cases import log_uniform, packed_cases

from tinydeploy.compile.ir import Graph, Op, Quant, Tensor
from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.ops.softmax import softmax_s16_luts
from tinydeploy.testing.builder import options
from tinydeploy.testing.opcheck import check_groups


def random_shape(rng: np.random.Generator, depth: int, max_outer: int) -> list[int]:
    rank = int(rng.integers(1, 5))
    outer = [int(rng.integers(1, 4)) for _ in range(rank - 1)]
    while int(np.prod(outer)) > max_outer:
        outer = outer[1:]
    return outer + [depth]


def rows_int8(rng: np.random.Generator, n_rows: int, depth: int, style: str) -> np.ndarray:
    """n_rows x depth int8 rows: 'all' (every value when depth >= 256), 'uniform', 'near' (max)."""
    if style == "all" and depth >= 256:
        rows = [np.concatenate([np.arange(-128, 128), rng.integers(-128, 128, depth - 256)]) for _ in range(n_rows)]
        return np.stack([rng.permutation(r) for r in rows]).astype(np.int8)
    if style == "near":
        top = rng.integers(-128, 128, (n_rows, 1))
        return np.clip(top - rng.integers(0, 12, (n_rows, depth)), -128, 127).astype(np.int8)
    return rng.integers(-128, 128, (n_rows, depth)).astype(np.int8)


def rows_int16(rng: np.random.Generator, n_rows: int, depth: int, style: str) -> np.ndarray:
    if style == "near":
        top = rng.integers(-32768, 32768, (n_rows, 1))
        spread = int(rng.choice([50, 500, 5000]))
        return np.clip(top - rng.integers(0, spread, (n_rows, depth)), -32768, 32767).astype(np.int16)
    if style == "all":  # the extremes and zero always present
        r = rng.integers(-32768, 32768, (n_rows, depth))
        r[:, : min(depth, 3)] = [-32768, 32767, 0][: min(depth, 3)]
        return np.stack([rng.permutation(row) for row in r]).astype(np.int16)
    return rng.integers(-32768, 32768, (n_rows, depth)).astype(np.int16)


def exp_sum_ok(x: np.ndarray, beta_scale: float, limit: float = 400.0) -> bool:
    """Float estimate of every row's sum of exponentials is below `limit` (LiteRT aborts at 512)."""
    d = x.astype(np.float64) - x.max(axis=-1, keepdims=True)
    return bool((np.exp(beta_scale * d).sum(axis=-1) < limit).all())


def make_data(rng, shape, dtype, styles, beta_scale=None) -> np.ndarray:
    n_rows, depth = int(np.prod(shape[:-1])), shape[-1]
    gen = rows_int8 if dtype == "int8" else rows_int16
    samples = []
    for style in styles:
        for _ in range(20):
            x = gen(rng, n_rows, depth, style)
            if beta_scale is None or exp_sum_ok(x, beta_scale):
                break
        else:
            raise AssertionError(f"could not draw safe rows for beta*scale {beta_scale}")
        samples.append(x.reshape(shape))
    return np.stack(samples)


DEPTHS = [1, 1, 2, 3, 5, 8, 10, 16, 33, 64, 100, 256, 256, 300, 511, 1000, 3000]


def softmax8_spec(rng: np.random.Generator, out_dtype: str, depth: int | None = None) -> dict:
    depth = depth or int(rng.choice(DEPTHS))
    shape = random_shape(rng, depth, max_outer=max(1, 3000 // depth))
    long_s8 = out_dtype == "int8" and depth > 511
    beta = 1.0 if rng.random() < 0.5 else float(np.float32(log_uniform(rng, 0.1, 4.0)))
    r = rng.random()
    if long_s8:
        beta_scale = log_uniform(rng, 0.05, 40.0)
    elif r < 0.1:
        beta_scale = log_uniform(rng, 2e-8, 1e-5)  # just above LiteRT's 2^-26 minimum
    elif r < 0.2:
        beta_scale = log_uniform(rng, 8.0, 100.0)  # multiplier capped at 2^30 - 1
    else:
        beta_scale = log_uniform(rng, 1e-3, 1.0)
    in_scale = float(np.float32(beta_scale / beta))
    in_zp = int(rng.integers(-128, 128))
    if out_dtype == "int8":
        out_q = (1.0 / 256 * (1 + float(rng.uniform(-9e-4, 9e-4))) if rng.random() < 0.2 else 1.0 / 256, -128)
    else:
        out_q = (1.0 / 65536, -32768) if rng.random() < 0.8 else (0.01, 3)  # LiteRT ignores it
    styles = ["all", "uniform", "uniform" if long_s8 else "near"]
    data = make_data(rng, shape, "int8", styles, beta * in_scale if long_s8 else None)
    label = f"SOFTMAX int8->{out_dtype} {shape} beta {beta:.4g} in {in_scale:.4g}/{in_zp} out {out_q}"
    return dict(kind="SOFTMAX", in_dtype="int8", out_dtype=out_dtype, shape=shape, in_q=(in_scale, in_zp),
                out_q=out_q, opts=options("SoftmaxOptions", beta=beta), label=label, data=data)


def softmax16_spec(rng: np.random.Generator, depth: int | None = None) -> dict:
    depth = depth or int(rng.choice(DEPTHS))
    shape = random_shape(rng, depth, max_outer=max(1, 3000 // depth))
    beta = 1.0 if rng.random() < 0.5 else float(np.float32(log_uniform(rng, 0.1, 4.0)))
    r = rng.random()
    # beta * scale * 65535 / 10 is the multiplier of (input - max); ~1 maps the int16 range onto [-10, 0]
    # (above ~0.3 the left shift of (input - max) wraps around in int32, as in LiteRT)
    beta_scale = log_uniform(rng, 1e-8, 1e-5) if r < 0.15 else (
        log_uniform(rng, 1e-3, 0.5) if r < 0.3 else (
            log_uniform(rng, 0.5, 1e4) if r < 0.4 else log_uniform(rng, 1e-5, 1e-3)))
    in_scale = float(np.float32(beta_scale / beta))
    out_scale = 1.0 / 32768 if rng.random() < 0.8 else (1.0 / 32768) * (1 + float(rng.uniform(-9e-4, 9e-4)))
    data = make_data(rng, shape, "int16", ["all", "uniform", "near"])
    label = f"SOFTMAX int16 {shape} beta {beta:.4g} in {in_scale:.4g} out {out_scale:.8g}"
    return dict(kind="SOFTMAX", in_dtype="int16", out_dtype="int16", shape=shape, in_q=(in_scale, 0),
                out_q=(out_scale, 0), opts=options("SoftmaxOptions", beta=beta), label=label, data=data)


def log_softmax_spec(rng: np.random.Generator, depth: int | None = None) -> dict:
    depth = depth or int(rng.choice(DEPTHS))
    shape = random_shape(rng, depth, max_outer=max(1, 3000 // depth))
    r = rng.random()
    in_scale = log_uniform(rng, 2e-8, 1e-4) if r < 0.1 else (
        log_uniform(rng, 8.0, 100.0) if r < 0.2 else log_uniform(rng, 1e-3, 1.0))
    in_zp = int(rng.integers(-128, 128))
    data = make_data(rng, shape, "int8", ["all", "uniform", "near"])
    label = f"LOG_SOFTMAX int8 {shape} in {in_scale:.4g}/{in_zp}"
    return dict(kind="LOG_SOFTMAX", in_dtype="int8", out_dtype="int8", shape=shape, in_q=(in_scale, in_zp),
                out_q=(16.0 / 256, 127), opts=options("LogSoftmaxOptions"), label=label, data=data)


FAMILIES = {"s8": (11, lambda rng, depth: softmax8_spec(rng, "int8", depth)),
            "s8_s16": (12, lambda rng, depth: softmax8_spec(rng, "int16", depth)),
            "s16": (13, softmax16_spec),
            "log": (14, log_softmax_spec)}


@pytest.fixture(scope="module")
def random_results() -> dict[str, list[str]]:
    """All families' random cases (45 each, 8 ops per model) compiled into ONE host binary."""
    groups = {}
    for family, (seed, make) in FAMILIES.items():
        rng = np.random.default_rng(seed)
        fixed = [1, 256, 3000, 1, 256]  # always include these depths, then random ones
        groups[family] = packed_cases([make(rng, fixed[i] if i < len(fixed) else None) for i in range(45)],
                                      per_model=8)
    return check_groups(groups)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_softmax_random(random_results, family):
    assert random_results[family] == []


def test_softmax_s16_tables():
    exp_lut, recip_lut = softmax_s16_luts()
    assert exp_lut.shape == recip_lut.shape == (513,)
    assert exp_lut[-1] == 32767 and recip_lut[0] == 32767 and recip_lut[-1] == 16384
    assert np.all(np.diff(exp_lut.astype(int)) >= 0) and np.all(np.diff(recip_lut.astype(int)) <= 0)


def _graph(kind, in_dtype, out_dtype, in_q, out_q, beta, shape=(2, 8)):
    def t(i, dtype, q):
        return Tensor(i, f"t{i}", shape, dtype, Quant(np.array([q[0]], np.float32), np.array([q[1]], np.int64)))
    opts = options("SoftmaxOptions", beta=beta) if beta is not None else None
    op = Op(0, kind, [0], [1], opts)
    return Graph([t(0, in_dtype, in_q), t(1, out_dtype, out_q)], [op], [0], [1]), op


@pytest.mark.parametrize("kind,in_dtype,out_dtype,in_q,out_q,beta,reason,shape", [
    ("SOFTMAX", "int8", "int8", (0.1, 0), (1 / 256, -128), None, "too small", (2, 8)),  # no options: beta 0
    ("SOFTMAX", "int8", "int8", (1e-9, 0), (1 / 256, -128), 1.0, "too small", (2, 8)),
    ("SOFTMAX", "int8", "int8", (0.1, 0), (1 / 256, -127), 1.0, "zero point -128", (2, 8)),
    ("SOFTMAX", "int8", "int8", (0.1, 0), (1 / 250, -128), 1.0, "1/256", (2, 8)),
    ("SOFTMAX", "int16", "int16", (0.1, 0), (1 / 32768, 5), 1.0, "zero point 0", (2, 8)),
    ("SOFTMAX", "int16", "int16", (0.1, 0), (1 / 30000, 0), 1.0, "1/32768", (2, 8)),
    ("SOFTMAX", "int16", "int16", (0.1, 0), (1 / 32768, 0), 1.0, "1 to 4", (1, 1, 1, 2, 8)),
    ("SOFTMAX", "int16", "int8", (0.1, 0), (1 / 256, -128), 1.0, "int16 output", (2, 8)),
    ("LOG_SOFTMAX", "int8", "int8", (0.1, 0), (16 / 256, 126), None, "zero point 127", (2, 8)),
    ("LOG_SOFTMAX", "int8", "int8", (1e-9, 0), (16 / 256, 127), None, "too small", (2, 8)),
    ("LOG_SOFTMAX", "int16", "int16", (0.1, 0), (16 / 256, 127), None, "int8 only", (2, 8)),
])
def test_softmax_rejects(kind, in_dtype, out_dtype, in_q, out_q, beta, reason, shape):
    g, op = _graph(kind, in_dtype, out_dtype, in_q, out_q, beta, shape)
    why = lowering_for(kind).check(op, g)
    assert why is not None and reason in why, why


def test_softmax_accepts_limits():
    # beta * scale just above 2^-26, output scale at the edge of LiteRT's tolerance
    g, op = _graph("SOFTMAX", "int8", "int8", (1.5e-8, 0), (1 / 256 * (1 + 9e-4), -128), 1.0)
    assert lowering_for("SOFTMAX").check(op, g) is None
    g, op = _graph("SOFTMAX", "int8", "int16", (0.1, 0), (0.5, 7), 1.0)  # LiteRT ignores int16 output quant
    assert lowering_for("SOFTMAX").check(op, g) is None
