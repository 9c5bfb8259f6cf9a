"""The arm-dsp ADD / SUB / MUL and AVERAGE / MAX pooling kernels (lib/tinydeploy/arm/td_arm_elementwise.c,
td_arm_pooling.c) ON THE TARGET: random single-op models in one firmware per board, run in QEMU, every output
byte compared with LiteRT BUILTIN_REF. Plus, on the host, the SMMLAR formulas of the elementwise constants
(ops/_arm_elementwise.py) against the reference's two-step rounding for every pair of int8 values."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._arm_elementwise import add_arm_fields, add_g, mul_arm_fields, output_stage
from tinydeploy.compile.ops.add_sub import add_multipliers
from tinydeploy.compile.ops.mul import mul_multiplier
from tinydeploy.testing.random_ops import binary_model, log_uniform, pool_model, zero_point
from tinydeploy.testing.target_cases import differences, run_on_board

ARM_FUNCS = ("td_add_s8_arm_dsp(", "td_mul_s8_arm_dsp(", "td_avg_pool_s8_arm_dsp(", "td_max_pool_s8_arm_dsp(")


#: pooling shapes that must be in every run: the repo models' global pools, 400-tap windows (two halfword
#: chunks), a window wider than 256 columns (the reference fallback), depth 1, 2 and 3 (no SIMD group)
FIXED_POOLS = [(1, 25, 5, 64, 25, 5, 1, 1, 1), (1, 8, 8, 64, 8, 8, 1, 1, 1), (1, 20, 20, 5, 20, 20, 1, 1, 0),
               (1, 1, 300, 3, 1, 300, 1, 1, 1), (1, 7, 9, 1, 3, 3, 2, 2, 0), (2, 6, 5, 2, 2, 3, 1, 2, 0),
               (1, 5, 5, 3, 5, 5, 1, 1, 1), (1, 33, 17, 4, 33, 17, 1, 1, 1)]


def target_cases(seed: int, n: int, samples: int = 2):
    """(label, tflite, compiled model, inputs) for n random cases, a third each elementwise, average and
    max pooling, the fixed pools first; one broadcast elementwise case in ten."""
    rng = np.random.default_rng(seed)
    models = [pool_model(rng, kind, geo) for geo in FIXED_POOLS for kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D")]
    while len(models) < n:
        i = len(models)
        kind = ["ADD", "SUB", "MUL", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD"][i % 6]
        models.append(pool_model(rng, kind) if "POOL" in kind else binary_model(rng, kind, broadcast=i % 10 == 3))
    cases = []
    for i, (model, label) in enumerate(models):
        m = compile_graph(parse_model(model, name=f"e{i}"), prefix=f"e{i}",
                          options=PlanOptions(planner="greedy", kernels="arm-dsp"))
        xs = [rng.integers(-128, 128, (samples, *m.graph.tensors[t].shape)).astype(np.int8) for t in m.graph.inputs]
        cases.append((label, model, m, xs))
    return cases


def all_pairs_cases(seed: int):
    """SUB with input 2 on the larger scale (the exact term negative) and MUL over every pair of int8
    values (two samples of 32768 elements, same shapes, so the arm-dsp kernels run): pins the rounding."""
    rng = np.random.default_rng(seed)
    pairs = [np.repeat(np.arange(-128, 128), 256).astype(np.int8), np.tile(np.arange(-128, 128), 256).astype(np.int8)]
    xs = [v.reshape(2, 32768) for v in pairs]
    cases = []
    for i, (kind, want) in enumerate((("SUB", ".swap = 1,"), ("MUL", "td_mul_s8_arm_dsp("))):
        while True:
            model, label = binary_model(rng, kind, shape=[32768])
            m = compile_graph(parse_model(model, name=f"p{i}"), prefix=f"p{i}",
                              options=PlanOptions(planner="greedy", kernels="arm-dsp"))
            if want in m.source:
                break
        cases.append(("all pairs " + label, model, m, xs))
    return cases


def compare(cases, runs) -> list[str]:
    return differences([(label, model, xs) for label, model, _, xs in cases], runs)


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
@pytest.mark.parametrize("board,n", [("qemu-m4", 150), ("qemu-m7", 60)])
def test_arm_dsp_elementwise_and_pooling_bit_exact_on_target(board, n, tmp_path):
    cases = target_cases(seed={"qemu-m4": 11, "qemu-m7": 12}[board], n=n)
    for name in ARM_FUNCS:  # every kernel runs, mostly (broadcasts and a few scales keep the reference)
        used = sum(name in m.source for _, _, m, _ in cases)
        assert used >= n // 10, f"{name} in only {used} of {len(cases)} cases"
    runs = run_on_board([m for _, _, m, _ in cases], [xs for *_, xs in cases], board, tmp_path / "fw")
    if board == "qemu-m4":  # a second firmware: their arenas would not fit next to the others
        pairs = all_pairs_cases(13)
        runs += run_on_board([m for _, _, m, _ in pairs], [xs for *_, xs in pairs], board, tmp_path / "fw2")
        cases += pairs
    bad = compare(cases, runs)
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


# ---- host: the constants' formulas vs the reference arithmetic, every pair of int8 values ----------

def srdhm(a: np.ndarray, b: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul as td_math.h writes it (nudge, then truncation)."""
    ab = a.astype(np.int64) * b
    nudged = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    return np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))


def rdbp(x: np.ndarray, e: int) -> np.ndarray:
    """td_rounding_divide_by_pot: x / 2^e rounded half away from zero."""
    mask = (1 << e) - 1
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))


def mult_dr(x: np.ndarray, m: int, shift: int) -> np.ndarray:
    """td_mul_by_quantized_mult_dr."""
    return rdbp(srdhm(x << max(shift, 0), m), max(-shift, 0))


class Q:
    def __init__(self, scale: float, zero_point: int) -> None:
        self.scale, self.zero_point = float(np.float32(scale)), zero_point


def check_output_stage(raw: np.ndarray, f: dict, mult: int, shift: int, zp: int, what: str) -> None:
    """The output stage on twice every raw value (and on random raws in their range, and on the small ones
    where the ties are) equals the reference's RDBP(SRDHM(raw, m), e) + zero point, saturated."""
    rng = np.random.default_rng(abs(int(raw.sum())) % 1000)
    raw = np.concatenate([raw, rng.integers(raw.min(), raw.max() + 1, 20000), np.arange(-5000, 5001)])
    got = output_stage(2 * raw, f["output_multiplier"], f["output_round"], f["output_shift"])
    want = np.clip(mult_dr(raw, mult, shift) + zp, -128, 127)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{what}: raw {raw[bad[0]]} ours {got[bad[0]]} reference {want[bad[0]]}"


def test_elementwise_constants_reproduce_the_two_step_rounding_for_every_input_pair():
    rng = np.random.default_rng(5)
    v = np.arange(-128, 128)
    x, y = (a.reshape(-1) for a in np.meshgrid(v, v, indexing="ij"))
    fast = {"ADD": 0, "SUB": 0, "MUL": 0}
    for i in range(150):
        kind = ("ADD", "SUB", "MUL")[i % 3]
        a = Q(log_uniform(rng, 0.002, 0.5), zero_point(rng))
        b = Q(float(rng.choice([a.scale, 2 * a.scale, a.scale / 2, log_uniform(rng, 0.002, 0.5)])), zero_point(rng))
        what = f"{kind} {vars(a)} {vars(b)}"
        if kind == "MUL":
            out = Q(a.scale * b.scale * log_uniform(rng, 1.0, 1000.0), zero_point(rng))
            mult, shift = mul_multiplier(a, b, out)
            fields = mul_arm_fields(a, b, out, mult, shift)
            if fields:
                f = dict(fields)
                assert (f["input1_offset"], f["input2_offset"]) == (-a.zero_point, -b.zero_point)
                check_output_stage((x - a.zero_point) * (y - b.zero_point), f, mult, shift, out.zero_point, what)
        else:
            out = Q(max(a.scale, b.scale) * log_uniform(rng, 0.2, 5.0 if i % 4 else 500.0), zero_point(rng))
            mults = m1, sh1, m2, sh2, mo, sho, _ = add_multipliers(a, b, out, 20)
            fields = add_arm_fields(kind, a, b, out, mults)
            if fields:
                f = dict(fields)
                s1, s2 = mult_dr((v - a.zero_point) << 20, m1, sh1), mult_dr((v - b.zero_point) << 20, m2, sh2)
                if kind == "SUB":
                    s2 = -s2
                (st, sg) = (s2, s1) if f["swap"] else (s1, s2)
                g = add_g(v, f["g_offset"], f["g_multiplier"], f["g_round"], f["g_shift"])
                assert (f["g_scale"] * g == 2 * sg).all(), f"{what}: the rescaled term"
                assert (f["t_offset"] + f["t_scale"] * v == 2 * st).all(), f"{what}: the exact term"
                check_output_stage(s1[x + 128] + s2[y + 128], f, mo, sho, out.zero_point, what)
        fast[kind] += bool(fields)
    assert fast["ADD"] >= 40 and fast["SUB"] >= 40 and fast["MUL"] >= 25, fast


def test_arm_dsp_lowering_picks_the_fast_kernels_only_where_they_apply():
    rng = np.random.default_rng(9)
    same, _ = binary_model(rng, "ADD", shape=[3, 5])
    bcast, _ = binary_model(rng, "SUB", shape=[3, 5], broadcast=True)
    pool, _ = pool_model(rng, "AVERAGE_POOL_2D", (1, 6, 6, 5, 3, 3, 1, 1, 0))
    arm = [compile_graph(parse_model(mdl), options=PlanOptions(kernels="arm-dsp")).source for mdl in (same, bcast, pool)]
    ref = [compile_graph(parse_model(mdl)).source for mdl in (same, bcast, pool)]
    assert "td_add_s8_arm_dsp(" in arm[0] and "td_add_arm_params" in arm[0] and "td_add_s8(" not in arm[0]
    assert "td_sub_s8(" in arm[1] and "_arm_dsp(" not in arm[1]  # broadcast: the reference kernel
    assert "td_avg_pool_s8_arm_dsp(" in arm[2]
    assert not any("_arm_dsp" in s for s in ref)
