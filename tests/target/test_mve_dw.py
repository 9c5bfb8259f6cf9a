"""The arm-mve DEPTHWISE_CONV_2D, pooling and ADD / MUL kernels (lib/tinydeploy/mve/td_mve_dw.c, td_mve_pool.c,
td_mve_elementwise.c) ON THE TARGET: random single-op models, hundreds in one firmware on qemu-m55 (QEMU
mps3-an547 runs MVE), every output byte compared with LiteRT BUILTIN_REF. On the host: the layouts."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._mve_dw import dw_mve_transposed, dw_table_mve, dw_weights_mve
from tinydeploy.compile.ops.window import Window
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.random_ops import binary_model, dw_model, pool_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases

BOARD = "qemu-m55"


def out_of_place(cases):
    """The cases compiled again without in-place planning (a single op is always its input's last reader)."""
    again = []
    for i, (label, model, m, xs) in enumerate(cases):
        opts = PlanOptions(planner="greedy", kernels="arm-mve", inplace=False, alignment=(16, 4, 1)[i % 3])
        again.append((label, model, compile_graph(parse_model(model, name=f"d{i}"), prefix=f"d{i}", options=opts), xs))
    return again


def check(cases, calls, tmp_path):
    sources = "".join(m.source for _, _, m, _ in cases)
    for call in calls:  # the cases really run the Helium kernels, not a fallback
        assert f"{call}(" in sources, call
    bad = failures_on_target(cases, BOARD, tmp_path / "fw")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


#: (h, w, c, filter, stride, dilation, padding 0 SAME / 1 VALID): the kernel's paths that small random maps
#: rarely take: 3x3 two lines at once (kws' 25x5), 3x3 one line with line stride or dilation 2, wide lines
#: of other windows, and one plane at a time (a 100x100 plane: 8 would pass 64 KB)
FIXED_DW = [(25, 5, 12, 3, (1, 1), (1, 1), 0), (5, 25, 9, 3, (1, 1), (1, 1), 0), (13, 11, 5, 3, (1, 1), (1, 1), 1),
            (12, 10, 3, 3, (2, 1), (1, 1), 0), (9, 12, 4, 3, (1, 1), (2, 1), 0), (14, 14, 6, 3, (2, 2), (1, 1), 0),
            (10, 17, 7, 5, (1, 1), (1, 1), 0), (11, 16, 3, 3, (1, 1), (1, 2), 1), (100, 100, 2, 3, (1, 1), (1, 1), 0),
            (1, 9, 17, 3, (1, 1), (1, 1), 0), (16, 2, 8, 3, (1, 1), (1, 1), 0)]


def dw_fixed(rng: np.random.Generator, h, w, c, k, stride, dilation, padding) -> tuple[bytes, str]:
    """A DEPTHWISE_CONV_2D of the given geometry; per-channel scales spread so that some channels rescale
    above 1 (left shifts) and others far below, input zero point near the ends, ReLU or none."""
    oh = -(-h // stride[0]) if padding == 0 else (h - dilation[0] * (k - 1) - 1) // stride[0] + 1
    ow = -(-w // stride[1]) if padding == 0 else (w - dilation[1] * (k - 1) - 1) // stride[1] + 1
    b = ModelBuilder()
    zp = int(rng.choice([-128, -125, 127, 3]))
    x = b.tensor([1, h, w, c], "int8", 0.05, zp)
    w_scale = 10 ** rng.uniform(-3.5, -0.5, c)
    wt = b.tensor([1, k, k, c], "int8", w_scale, 0, data=rng.integers(-128, 128, (1, k, k, c)), axis=3)
    bias = b.tensor([c], "int32", 0.05 * w_scale, 0, data=rng.integers(-40000, 40000, c))
    y = b.tensor([1, oh, ow, c], "int8", float(0.05 * np.median(w_scale) * 10 ** rng.uniform(-0.5, 1.5)),
                 int(rng.integers(-128, 128)))
    act = int(rng.choice([0, 1]))
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], options(
        "DepthwiseConv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1], dilationHFactor=dilation[0],
        dilationWFactor=dilation[1], depthMultiplier=1, fusedActivationFunction=act))
    return b.build([x], [y]), f"dw fixed {h}x{w}x{c} f{k} s{stride} d{dilation} pad{padding} zp{zp} act{act}"


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_mve_depthwise_bit_exact_on_target(tmp_path):
    def make(rng, i):
        return dw_fixed(rng, *FIXED_DW[i // 2]) if i < 2 * len(FIXED_DW) else dw_model(rng)

    cases = variant_cases(make, 31, 90, kernels="arm-mve")
    cases = cases[::2] + out_of_place(cases[1::2])  # each fixed geometry both ways
    check(cases, ["td_depthwise_conv_s8_mve", "td_depthwise_conv_s8_mve_inplace"], tmp_path)


def binary_cases(seed: int, n: int):
    """n random ADD / SUB / MUL of same shapes (one in eight broadcast: the fallback must still be right),
    then SUB and MUL over every pair of int8 values (two samples of 32768 elements): pins the rounding."""
    rng = np.random.default_rng(seed)
    models = [binary_model(rng, ("ADD", "SUB", "MUL")[i % 3], broadcast=i % 8 == 5) for i in range(n)]
    pairs = [np.repeat(np.arange(-128, 128), 256).astype(np.int8), np.tile(np.arange(-128, 128), 256).astype(np.int8)]
    models += [binary_model(rng, kind, shape=[32768]) for kind in ("ADD", "SUB", "MUL")]
    cases = []
    for i, (model, label) in enumerate(models):
        m = compile_graph(parse_model(model, name=f"e{i}"), prefix=f"e{i}",
                          options=PlanOptions(planner="greedy", kernels="arm-mve", alignment=(16, 4, 1)[i % 3]))
        xs = [rng.integers(-128, 128, (2, *m.graph.tensors[t].shape)).astype(np.int8) for t in m.graph.inputs]
        if i >= n:
            xs = [v.reshape(2, 32768) for v in pairs]
        cases.append((label, model, m, xs))
    return cases


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_mve_add_sub_mul_bit_exact_on_target(tmp_path):
    check(binary_cases(32, 72), ["td_add_s8_mve", "td_sub_s8_mve", "td_mul_s8_mve"], tmp_path)


#: pools that must be in every run: the repo models' global pools, windows of more than 256 taps (word sums),
#: depths below and around one vector (1, 3, 8, 17), two batches
FIXED_POOLS = [(1, 25, 5, 64, 25, 5, 1, 1, 1), (1, 8, 8, 64, 8, 8, 1, 1, 1), (1, 20, 20, 5, 20, 20, 1, 1, 0),
               (1, 17, 17, 3, 17, 17, 1, 1, 1), (1, 7, 9, 1, 3, 3, 2, 2, 0), (2, 6, 5, 17, 2, 3, 1, 2, 0),
               (1, 9, 9, 8, 3, 3, 1, 1, 0)]


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_mve_pooling_bit_exact_on_target(tmp_path):
    fixed = [(geo, kind) for geo in FIXED_POOLS for kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D")]

    def make(rng, i):
        return pool_model(rng, *fixed[i][::-1]) if i < len(fixed) else pool_model(rng, ("AVERAGE_POOL_2D", "MAX_POOL_2D")[i % 2])

    check(variant_cases(make, 33, 72, kernels="arm-mve"), ["td_avg_pool_s8_mve", "td_max_pool_s8_mve"], tmp_path)


def test_mve_depthwise_layout():
    w = np.arange(2 * 3 * 5).reshape(1, 2, 3, 5).astype(np.int8)  # taps (fy, fx) 2x3, 5 channels
    assert dw_weights_mve(w, False)[:6].tolist() == [0, 5, 10, 15, 20, 25]  # channel 0, row by row
    assert dw_weights_mve(w, True)[:6].tolist() == [0, 15, 5, 20, 10, 25]  # channel 0, column by column
    table = dw_table_mve(np.array([7, 0, 0, 0, 0]), w, -3, np.full(5, 1 << 30), np.array([-1, 2, 0, -5, -31]), True)
    assert table[:4].tolist() == [1, 0, 0, 0]
    assert table[4:8].tolist() == [7 - 3 * 75, 1 << 30, -1, 0]
    assert table[-4:-1].tolist() == [-3 * int(w[..., 4].sum()), 1 << 30, -31]
    kws = Window(3, 3, 1, 1, 1, 1, 1, 1, 25, 5)  # 25x5 map: lines of 25 (5 x 7 vectors, not 25 x 2)
    assert dw_mve_transposed(kws) and not dw_mve_transposed(kws._replace(out_h=5, out_w=25))
