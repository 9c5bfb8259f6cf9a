"""The arm-dsp DEPTHWISE_CONV_2D kernel (td_depthwise_conv_s8_arm_dsp) ON THE TARGET: hundreds of random
single-op models in one firmware per board (qemu-m4, qemu-m7), plus a small DS-CNN-like model compiled
with the default planner, every output byte compared with LiteRT BUILTIN_REF. On the host: the weight
layout and table, and the fast requantization's identity with the reference two-step rounding."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._arm_depthwise import dw_table_arm_dsp, dw_weights_arm_dsp, fast_requant_ok
from tinydeploy.compile.ops.window import SAME, VALID
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.random_ops import dw_model
from tinydeploy.testing.target_cases import differences, run_in_batches

ARM_CALL = "td_depthwise_conv_s8_arm_dsp"  # and its in-place twin


def dscnn_like(rng: np.random.Generator) -> bytes:
    """A small DS-CNN-shaped stack on a 25x5 feature map: conv 3x3 -> (depthwise 3x3 SAME + 1x1 conv) x 2
    -> average pool -> fully connected; ReLU throughout, random int8 weights."""
    b = ModelBuilder()
    scale, c = 0.05, 24
    x = first = b.tensor([1, 25, 5, 8], "int8", scale, -3)

    def layer(kind: str, inp, cin: int, cout: int, k: int):
        w_scale = rng.uniform(0.004, 0.02, cout)
        shape = [1, k, k, cout] if kind == "DEPTHWISE_CONV_2D" else [cout, k, k, cin]
        axis = 3 if kind == "DEPTHWISE_CONV_2D" else 0
        w = b.tensor(shape, "int8", w_scale, 0, data=rng.integers(-127, 128, shape), axis=axis)
        bias = b.tensor([cout], "int32", scale * w_scale, 0, data=rng.integers(-3000, 3000, cout))
        y = b.tensor([1, 25, 5, cout], "int8", scale * 2, -128)
        opts = {"padding": SAME, "strideH": 1, "strideW": 1, "fusedActivationFunction": 1}
        if kind == "DEPTHWISE_CONV_2D":
            b.op(kind, [inp, w, bias], [y], options("DepthwiseConv2DOptions", depthMultiplier=1, **opts))
        else:
            b.op(kind, [inp, w, bias], [y], options("Conv2DOptions", **opts))
        return y

    x = layer("CONV_2D", x, 8, c, 3)
    for _ in range(2):
        scale *= 2
        x = layer("DEPTHWISE_CONV_2D", x, c, c, 3)
        scale *= 2
        x = layer("CONV_2D", x, c, c, 1)
    p = b.tensor([1, 1, 1, c], "int8", scale * 2, -128)
    b.op("AVERAGE_POOL_2D", [x], [p], options("Pool2DOptions", padding=VALID, strideH=1, strideW=1, filterHeight=25,
                                              filterWidth=5))
    r = b.tensor([1, c], "int8", scale * 2, -128)
    b.op("RESHAPE", [p, b.tensor([2], "int32", data=np.array([1, c]))], [r], options("ReshapeOptions", newShape=[1, c]))
    fw_scale = rng.uniform(0.004, 0.02, 12)
    fw = b.tensor([12, c], "int8", fw_scale, 0, data=rng.integers(-127, 128, (12, c)), axis=0)
    out = b.tensor([1, 12], "int8", 0.1, 0)
    b.op("FULLY_CONNECTED", [r, fw], [out], options("FullyConnectedOptions"))
    return b.build([first], [out])


def odd_model() -> bytes:
    """11x11x3 in and out (363 bytes each): planned byte-aligned, the kernel's scratch starts at an odd
    offset (726) and the kernel must align it for its LDRDs."""
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.tensor([1, 11, 11, 3], "int8", 0.05, 7)
    w = b.tensor([1, 3, 3, 3], "int8", np.full(3, 0.01), 0, data=rng.integers(-127, 128, (1, 3, 3, 3)), axis=3)
    y = b.tensor([1, 11, 11, 3], "int8", 0.04, -3)
    b.op("DEPTHWISE_CONV_2D", [x, w], [y], options("DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1,
                                                   depthMultiplier=1))
    return b.build([x], [y])


def run_cases(board: str, n: int, seed: int, tmp_path, extra: list[tuple[str, bytes, PlanOptions]] = ()):
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):  # every other case without in-place planning: both arm-dsp kernels run
        model, label = dw_model(rng)
        align = 1 if i % 7 == 3 else 16  # byte-aligned plans: the kernel aligns its scratch itself
        cases.append((label, model, PlanOptions(planner="greedy", kernels="arm-dsp", inplace=bool(i % 2),
                                                alignment=align)))
    cases += list(extra)
    compiled, inputs = [], []
    for i, (_, model, opts) in enumerate(cases):
        m = compile_graph(parse_model(model, name=f"c{i}"), prefix=f"c{i}", options=opts)
        t = m.graph.tensors[m.graph.inputs[0]]
        compiled.append(m)
        inputs.append([rng.integers(-128, 128, (2, *t.shape)).astype(np.int8)])
    runs = run_in_batches(compiled, inputs, board, tmp_path)  # firmwares whose arenas fit 256 KB of RAM
    bad = differences([(label, model, xs) for (label, model, _), xs in zip(cases, inputs)], runs)
    return compiled, bad


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
@pytest.mark.parametrize("board,n,seed", [("qemu-m4", 200, 31), ("qemu-m7", 80, 32)])
def test_arm_dsp_depthwise_bit_exact_on_target(board, n, seed, tmp_path):
    extra = [("odd scratch offset", odd_model(), PlanOptions(kernels="arm-dsp", inplace=False, alignment=1))]
    if board == "qemu-m4":  # the default planner on a whole model: in place or not, whatever it picks
        extra.append(("ds-cnn-like (default planner)", dscnn_like(np.random.default_rng(5)),
                      PlanOptions(kernels="arm-dsp")))
    compiled, bad = run_cases(board, n, seed, tmp_path, extra)
    assert "(void *)(arena + 726)" in compiled[n].source  # the odd scratch offset
    assert not bad, f"{len(bad)} of {len(compiled)} cases differ:\n" + "\n".join(bad[:20])
    arm = [m for m in compiled[:n] if ARM_CALL in m.source]
    in_place = sum(f"{ARM_CALL}_inplace(" in m.source for m in arm)
    fast = sum(_fast(m.source) for m in arm)
    assert len(arm) > 0.8 * n and 0.2 * len(arm) < in_place < 0.8 * len(arm)  # both arm-dsp kernels ran
    assert 0.3 * len(arm) < fast < len(arm)  # both requantizations ran
    if board == "qemu-m4":  # the DS-CNN-like model's two depthwise layers took the arm-dsp kernel (or its twin)
        assert compiled[-1].source.count(f"{ARM_CALL}(") + compiled[-1].source.count(f"{ARM_CALL}_inplace(") == 2


def _fast(source: str) -> bool:
    """Word 0 of the (one) arm-dsp table in a generated C file: the fast requantization flag."""
    body = source.split("table_arm[", 1)[1].split("{", 1)[1]
    return body.split(",", 1)[0].strip() == "1"


def test_arm_dsp_depthwise_lowering_choices():
    """Depth multiplier 1 int8 takes the arm-dsp kernel or its in-place twin (with their scratch); multiplier 2
    and the default kernels keep the reference; both depthwise layers of the DS-CNN-like model go arm-dsp."""
    rng = np.random.default_rng(4)
    seen = {}
    for i in range(60):
        model, label = dw_model(rng)
        m = compile_graph(parse_model(model, name="m"), prefix="m", options=PlanOptions(kernels="arm-dsp"))
        ref = compile_graph(parse_model(model, name="m"), prefix="m")
        seen[" m2 " in label] = seen.get(" m2 " in label, 0) + 1
        assert (ARM_CALL in m.source) == (" m1 " in label), label
        assert ARM_CALL not in ref.source and "_arm" not in ref.source and "td_depthwise_conv_s8" in ref.source
        if ARM_CALL in m.source:
            assert "scratch_size(&m_op0_params)" in m.source and m.plan.scratch_bytes > 0
    assert seen.get(True) and seen.get(False)
    model = dscnn_like(np.random.default_rng(5))
    m = compile_graph(parse_model(model, name="k"), prefix="k", options=PlanOptions(kernels="arm-dsp"))
    assert m.source.count(f"{ARM_CALL}_inplace(") == 2  # the default planner runs both in place


def test_depthwise_weight_layout_keeps_every_byte():
    w = np.arange(1 * 3 * 3 * 6).reshape(1, 3, 3, 6).astype(np.int8)  # w[t][c] = 6 t + c
    got = dw_weights_arm_dsp(w).tolist()
    assert got[:16] == [0, 1, 6, 7, 2, 3, 8, 9, 12, 13, 18, 19, 14, 15, 20, 21]  # quad 0: taps (0, 1), (2, 3)
    assert got[32:36] == [48, 49, 50, 51] and got[36:42] == [4, 5, 10, 11, 16, 17]  # odd tap 8; leftovers
    for fh, fw, c in [(1, 1, 1), (3, 3, 4), (5, 5, 7), (2, 3, 9), (7, 7, 3), (1, 4, 13)]:
        w = np.random.default_rng(c).integers(-128, 128, (1, fh, fw, c)).astype(np.int8)
        assert sorted(dw_weights_arm_dsp(w).tolist()) == sorted(w.reshape(-1).tolist())


def test_depthwise_table_layout():
    w = np.ones((1, 3, 3, 5), np.int8)
    t = dw_table_arm_dsp(np.arange(5), w, 3, -5, np.full(5, 2**30 + 7), np.full(5, -4)).tolist()
    assert t[:4] == [1, 0, 0, 0] and len(t) == 4 + 16 * 2
    assert t[4:8] == [2 * (c + 27) for c in range(4)]  # doubled bias + 3 * 9 taps
    assert t[8:16] == [2**30 + 7, 8 - 80] * 4 and t[16:20] == [4] * 4  # (m, 2^(e-1) + off 2^e), e
    assert t[20:24] == [62, 0, 0, 0]
    slow = dw_table_arm_dsp(None, w, 3, -5, np.full(5, 2**30 + 7), np.array([-4, 1, -4, -4, -4]))
    assert slow[:4].tolist() == [0, 0, 0, 0] and slow[4:8].tolist() == [27] * 4 and slow[9] == -4 and slow[11] == 1


def _two_step(x: np.ndarray, m: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """td_mul_by_quantized_mult_dr in Python integers, as td_math.h writes it (right shifts only)."""
    out = []
    for xi, mi, si in zip(x.tolist(), m.tolist(), shift.tolist()):
        ab = xi * mi + ((1 << 30) if xi * mi >= 0 else 1 - (1 << 30))
        h = abs(ab) // (1 << 31) * (1 if ab >= 0 else -1)  # C division truncates toward zero
        mask = (1 << -si) - 1
        out.append((h >> -si) + (1 if (h & mask) > (mask >> 1) + (1 if h < 0 else 0) else 0))
    return np.array(out, dtype=np.int64)


def _fast_kernel(x: np.ndarray, m: np.ndarray, shift: np.ndarray, off: int) -> np.ndarray:
    """td_arm_dw_requant as the kernel computes it: SMMLAR(2x, m, k) = k + floor((2xm + 2^31) / 2^32) must
    be an int32, then + (2x >> 31), arithmetic shift right by e."""
    e = -shift
    h = 2 ** (e - 1) + off * 2**e + ((2 * x * m + 2**31) >> 32)
    assert (np.abs(h) < 2**31).all()
    return (h + ((2 * x) >> 31)) >> e


@pytest.mark.parametrize("off", [-128, -5, 0, 127])
def test_fast_requantization_matches_two_step_rounding(off):
    """The kernel's shortcut equals the reference two-step rounding (plus the output offset) for both
    signs, shifts 1..31, multiplier edges (2^30, 2^31 - 1, 0), x = -1 and ties, up to the range check."""
    rng = np.random.default_rng(200 + off)
    n = 60_000
    m = rng.integers(2**30, 2**31, n, dtype=np.int64)
    m[:2000], m[2000:4000], m[4000:4500] = 2**30, 2**31 - 1, 0
    shift = -rng.integers(1, 32, n)
    x = np.where(rng.random(n) < 0.5, rng.integers(-2**30 + 1, 2**30, n), rng.integers(-3000, 3000, n))
    x[::97], x[1::97] = -1, 1
    x[:2000:2] = rng.integers(-2**20, 2**20, 1000) * 2 + 1  # m = 2^30, odd x: x m / 2^31 is a tie
    e = -shift
    fits = (np.abs(x) < 2**30) & (np.abs(2 ** (e - 1) + off * 2**e) + (np.abs(x) * m >> 31) + 2 < 2**31)
    x, m, shift = x[fits], m[fits], shift[fits]
    assert x.size > n // 3 and (-shift >= 22).any() and (-shift == 1).any()
    assert fast_requant_ok(np.abs(x), m, shift, off)
    got, want = _fast_kernel(x, m, shift, off), _two_step(x, m, shift) + off
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"x={x[bad[0]]} m={m[bad[0]]} shift={shift[bad[0]]}: {got[bad[0]]} != {want[bad[0]]}"


def test_fast_requantization_range_check():
    assert fast_requant_ok(np.array([2**29]), np.array([2**30]), np.array([-3]), 127)
    assert not fast_requant_ok(np.array([2**30]), np.array([2**30]), np.array([-3]), 0)  # 2x overflows
    assert not fast_requant_ok(np.array([10]), np.array([2**30]), np.array([0]), 0)  # no right shift
    assert not fast_requant_ok(np.array([10]), np.array([2**29]), np.array([-3]), 0)  # not normalized
    assert not fast_requant_ok(np.array([10]), np.array([2**30]), np.array([-25]), 127)  # k overflows


def test_scratch_constants_match_the_kernel():
    """The compiler sizes the kernel's scratch with the kernel's own constants (a smaller plan would let the
    kernel write past its scratch; TD_CHECK_SCRATCH only asserts in TD_DEBUG builds)."""
    import re

    from tinydeploy.compile.ops import _arm_depthwise
    from tinydeploy.paths import RUNTIME_DIR

    src = (RUNTIME_DIR / "arm" / "td_arm_depthwise.h").read_text()
    for name, value in (("CHUNK", _arm_depthwise.CHUNK), ("LAYER_WORDS", _arm_depthwise.LAYER_WORDS)):
        assert int(re.search(rf"#define TD_ARM_DW_{name} (\d+)", src).group(1)) == value, name
