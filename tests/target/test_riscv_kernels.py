"""The riscv kernel variant (lib/tinydeploy/riscv/, td_riscv.h) ON THE TARGET: random conv (some followed by a
1x1 conv that runs in place), depthwise (in place, and out of place: batches of two and plans without
in-place ops) models in one firmware for qemu-rv32, every output byte compared with LiteRT BUILTIN_REF.
On the host: the weight layouts."""
import re

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._riscv import conv_weights_riscv, dw_weights_riscv
from tinydeploy.testing.random_ops import conv_model, dw_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases

RISCV_CALLS = ("td_conv_s8_riscv(", "td_conv_1x1_s8_riscv_inplace(", "td_depthwise_conv_s8_riscv(",
               "td_depthwise_conv_s8_riscv_inplace(")


def out_of_place(make, seed: int, n: int) -> list:
    """n cases as variant_cases makes them, planned without in-place ops (the kernels' out-of-place forms)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        model, label = make(rng, i)
        m = compile_graph(parse_model(model, name=f"o{i}"), prefix=f"o{i}",
                          options=PlanOptions(planner="greedy", kernels="riscv", inplace=False, alignment=1))
        t = m.graph.tensors[m.graph.inputs[0]]
        cases.append((label + " (out of place)", model, m, [rng.integers(-128, 128, (2, *t.shape)).astype(np.int8)]))
    return cases


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_riscv_kernels_bit_exact_on_qemu_rv32(tmp_path):
    # two firmwares: variant_cases names every group's models c0, c1, ...
    groups = [variant_cases(lambda rng, i: conv_model(rng), 21, 90, kernels="riscv")
              + out_of_place(lambda rng, i: dw_model(rng), 23, 30),
              variant_cases(lambda rng, i: dw_model(rng), 22, 90, kernels="riscv")]
    cases = [c for group in groups for c in group]
    sources = "".join(m.source for _, _, m, _ in cases)
    for call in RISCV_CALLS:  # the variant really runs (not the reference fallback)
        assert call in sources, call
    # only the cases no riscv kernel takes (depth multiplier 2) call the reference
    assert len(re.findall(r"td_depthwise_conv_s8(_inplace)?\(", sources)) < len(cases) // 10
    bad = [line for k, group in enumerate(groups) for line in failures_on_target(group, "qemu-rv32", tmp_path / f"g{k}")]
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_conv_weight_layout_blocks_four_channels_k_by_k():
    w = np.arange(5 * 3).reshape(5, 1, 1, 3).astype(np.int8)  # 5 filters, K = 3 -> Kp 4
    got = conv_weights_riscv(w).tolist()
    assert got[:16] == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, 0, 0, 0, 0]  # block of 4, k by k
    assert got[16:] == [12, 13, 14, 0]  # the leftover filter, a plain row padded to Kp
    for f in range(1, 10):
        w = np.random.default_rng(f).integers(-128, 128, (f, 3, 1, 5)).astype(np.int8)
        got = conv_weights_riscv(w)
        assert got.size == f * 16 and sorted(got[got != 0].tolist()) == sorted(w[w != 0].tolist())


def test_depthwise_weight_layout_is_channel_major():
    w = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4).astype(np.int8)  # 2x3 taps, 4 channels
    assert dw_weights_riscv(w).reshape(4, 6).tolist() == w.reshape(6, 4).T.tolist()
