"""The arm-dsp CONV_2D kernels (td_conv_s8_arm_dsp, td_conv_1x1_s8_arm_dsp_inplace) ON THE TARGET: random
convolutions, some followed by a 1x1 convolution that the planner runs in place, hundreds of them in one
firmware per board (QEMU), every output byte compared with LiteRT BUILTIN_REF."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._arm import conv_weights_arm_dsp
from tinydeploy.testing.random_ops import conv_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
@pytest.mark.parametrize("board,n", [("qemu-m4", 160), ("qemu-m7", 60)])
def test_arm_dsp_conv_bit_exact_on_target(board, n, tmp_path):
    cases = variant_cases(lambda rng, i: conv_model(rng), {"qemu-m4": 11, "qemu-m7": 12}[board], n)
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
