"""The arm-dsp CONV_2D kernels (td_conv_s8_arm_dsp, td_conv_1x1_s8_arm_dsp_inplace) ON THE TARGET: random
convolutions, some followed by a 1x1 convolution that the planner runs in place, hundreds of them in one
firmware per board (QEMU), every output byte compared with LiteRT BUILTIN_REF."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._arm import conv_weights_arm_dsp
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.target_cases import arm_dsp_cases, failures_on_target


def conv_layer(b: ModelBuilder, rng: np.random.Generator, x: int, cin: int, scale: float, cout: int, kh: int,
               kw: int, stride: tuple[int, int], dilation: tuple[int, int], padding: int) -> tuple[int, float, str]:
    """One CONV_2D on x: per-channel or per-tensor weights (some rescales above 1), zero or random bias."""
    per_channel = bool(rng.integers(0, 2))
    w_scale = 10 ** rng.uniform(-3.5, -0.5, cout if per_channel else 1)
    out_scale = float(scale * np.median(w_scale) * 10 ** rng.uniform(-0.7, 2.5))
    w = b.tensor([cout, kh, kw, cin], "int8", w_scale, 0,
                 data=rng.integers(-128 if rng.integers(0, 4) == 0 else -127, 128, (cout, kh, kw, cin)), axis=0)
    bias = rng.integers(-60000, 60000, cout) if rng.integers(0, 5) else np.zeros(cout, np.int64)
    ins = [x, w, b.tensor([cout], "int32", scale * w_scale, 0, data=bias)]  # LiteRT wants a bias here
    act = int(rng.choice([0, 1, 3]))
    return ins, out_scale, act


def conv_model(rng: np.random.Generator) -> tuple[bytes, str]:
    """A random int8 convolution (odd channel counts, 1x1 to 5x5, strides 1-2, dilation, SAME/VALID, input
    offsets near +-128), half the time followed by a 1x1 convolution that runs in place."""
    h, w_ = int(rng.integers(1, 11)), int(rng.integers(1, 11))
    cin = int(rng.choice([rng.integers(1, 9), rng.integers(9, 40)]))
    cout = int(rng.choice([rng.integers(1, 9), rng.integers(9, 40)]))
    kh, kw = int(rng.choice([1, 1, 3, 3, 5, 2])), int(rng.choice([1, 1, 3, 3, 5, 4]))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    dilation = (1, 1) if rng.integers(0, 4) else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = int(rng.integers(0, 2))  # 0 SAME, 1 VALID
    if padding == 1:
        h, w_ = h + dilation[0] * (kh - 1), w_ + dilation[1] * (kw - 1)
    in_zp = int(rng.choice([rng.integers(-128, -120), rng.integers(120, 128), rng.integers(-128, 128)]))
    scale = float(rng.uniform(0.005, 0.1))
    b = ModelBuilder()
    x = b.tensor([1, h, w_, cin], "int8", scale, in_zp)
    ins, out_scale, act = conv_layer(b, rng, x, cin, scale, cout, kh, kw, stride, dilation, padding)
    oh = -(-h // stride[0]) if padding == 0 else (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = -(-w_ // stride[1]) if padding == 0 else (w_ - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = b.tensor([1, oh, ow, cout], "int8", out_scale, int(rng.integers(-128, 128)))
    b.op("CONV_2D", ins, [y], options("Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                                      dilationHFactor=dilation[0], dilationWFactor=dilation[1],
                                      fusedActivationFunction=act))
    label = f"conv {h}x{w_}x{cin}->{cout} k{kh}x{kw} s{stride} d{dilation} pad{padding} act{act} zp{in_zp}"
    out = y
    if rng.integers(0, 2):
        c2 = int(rng.choice([rng.integers(1, 9), rng.integers(9, 48)]))
        ins2, scale2, act2 = conv_layer(b, rng, y, cout, out_scale, c2, 1, 1, (1, 1), (1, 1), 0)
        out = b.tensor([1, oh, ow, c2], "int8", scale2, int(rng.integers(-128, 128)))
        b.op("CONV_2D", ins2, [out], options("Conv2DOptions", padding=0, strideH=1, strideW=1,
                                             fusedActivationFunction=act2))
        label += f" then 1x1 ->{c2}"
    return b.build([x], [out]), label


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
@pytest.mark.parametrize("board,n", [("qemu-m4", 160), ("qemu-m7", 100)])
def test_arm_dsp_conv_bit_exact_on_target(board, n, tmp_path):
    cases = arm_dsp_cases(lambda rng, i: conv_model(rng), {"qemu-m4": 11, "qemu-m7": 12}[board], n)
    sources = "".join(m.source for _, _, m, _ in cases)
    assert "td_conv_s8_arm_dsp(" in sources and "td_conv_1x1_s8_arm_dsp_inplace(" in sources
    bad = failures_on_target(cases, board, tmp_path / "fw")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_conv_weight_layout_pairs_filters_and_pads_k():
    w = np.arange(3 * 5).reshape(3, 1, 1, 5).astype(np.int8)  # 3 filters, K = 5 -> 8
    words = conv_weights_arm_dsp(w).astype(np.int32).view(np.int8).tolist()
    assert words == [0, 1, 2, 3, 5, 6, 7, 8, 4, 0, 0, 0, 9, 0, 0, 0, 10, 11, 12, 13, 14, 0, 0, 0]
    for f in range(1, 6):
        for k in range(1, 10):
            w = np.random.default_rng(f * 10 + k).integers(-128, 128, (f, 1, 1, k)).astype(np.int8)
            got = conv_weights_arm_dsp(w).astype(np.int32).view(np.int8)
            assert got.size == f * -(-k // 4) * 4
            assert sorted(got[got != 0].tolist()) == sorted(w[w != 0].tolist())


def test_arm_dsp_conv_scratch_is_planned():
    """The im2col scratch comes out of the arena plan (it shows in `plan`), sized as the kernel asks."""
    model, _ = conv_model(np.random.default_rng(5))
    ref = compile_graph(parse_model(model, name="m"), prefix="m", options=PlanOptions(planner="greedy"))
    arm = compile_graph(parse_model(model, name="m"), prefix="m",
                        options=PlanOptions(planner="greedy", kernels="arm-dsp"))
    assert ref.scratch_bytes == 0 and arm.scratch_bytes > 0
    assert any(b.scratch_of is not None for b in arm.plan.buffers)
    assert "TD_CHECK_SCRATCH(td_conv_s8_arm_dsp_scratch_size(" in arm.source
