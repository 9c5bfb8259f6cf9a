"""The riscv kernel variant (lib/tinydeploy/riscv/, td_riscv.h) ON THE TARGET: random conv (some followed by a
1x1 conv that runs in place), depthwise (in place, and out of place: batches of two and plans without
in-place ops), fully-connected, pooling and ADD / SUB models (some broadcast: the reference kernel) in two firmwares for qemu-rv32,
every output byte compared with LiteRT BUILTIN_REF. On the host: the weight layouts and the ADD table."""
import re
import shutil
import subprocess

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops._riscv import add_tables_riscv, conv_weights_riscv, dw_weights_riscv
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.testing.random_ops import binary_model, conv_model, dw_model, fc_model, pool_model
from tinydeploy.testing.target_cases import differences, failures_on_target, run_on_board, variant_cases

RISCV_CALLS = ("td_conv_s8_riscv(", "td_conv_1x1_s8_riscv_inplace(", "td_depthwise_conv_s8_riscv(",
               "td_depthwise_conv_s8_riscv_inplace(", "td_add_s8_riscv(", "td_fully_connected_s8_riscv(",
               "td_avg_pool_s8_riscv(", "td_max_pool_s8_riscv(")


WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror"]


def more_cases(make, seed: int, n: int, prefix: str, **plan) -> list:
    """n cases as variant_cases makes them, but models named <prefix><i> (to share a firmware with its
    c0, c1, ...), random data for every input, and PlanOptions(**plan) on top of greedy and riscv."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        model, label = make(rng, i)
        m = compile_graph(parse_model(model, name=f"{prefix}{i}"), prefix=f"{prefix}{i}",
                          options=PlanOptions(planner="greedy", kernels="riscv", alignment=(16, 4, 1)[i % 3], **plan))
        xs = [rng.integers(-128, 128, (2, *m.graph.tensors[t].shape)).astype(np.int8) for t in m.graph.inputs]
        cases.append((label + ("" if plan.get("inplace", True) else " (out of place)"), model, m, xs))
    return cases


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_riscv_kernels_bit_exact_on_qemu_rv32(tmp_path):
    # two firmwares: variant_cases names every group's models c0, c1, ...
    groups = [variant_cases(lambda rng, i: conv_model(rng), 21, 55, kernels="riscv")
              + more_cases(lambda rng, i: dw_model(rng), 23, 20, "o", inplace=False)
              + more_cases(lambda rng, i: binary_model(rng, ("ADD", "SUB")[i % 2], broadcast=i % 7 == 6), 24, 36, "e"),
              variant_cases(lambda rng, i: dw_model(rng), 22, 55, kernels="riscv")
              + more_cases(lambda rng, i: fc_model(rng, big=i % 4 == 3), 25, 36, "f")
              + more_cases(lambda rng, i: pool_model(rng, ("AVERAGE_POOL_2D", "MAX_POOL_2D")[i % 2]), 26, 36, "p")]
    cases = [c for group in groups for c in group]
    sources = "".join(m.source for _, _, m, _ in cases)
    for call in RISCV_CALLS:  # the variant really runs (not the reference fallback)
        assert call in sources, call
    # only the cases no riscv kernel takes (depth multiplier 2, broadcasting) call the reference
    assert len(re.findall(r"td_depthwise_conv_s8(_inplace)?\(", sources)) < len(cases) // 10
    assert len(re.findall(r"td_(add|sub)_s8\(", sources)) < len(cases) // 10
    bad = [line for k, group in enumerate(groups) for line in failures_on_target(group, "qemu-rv32", tmp_path / f"g{k}")]
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_riscv_whole_models_bit_exact_on_qemu_rv32(tmp_path):
    """kws, resnet8 and digits as the boards build them (default planner, in-place ops, riscv kernels)."""
    root = RUNTIME_DIR.parents[1]
    paths = [root / "tests/data/models/kws_ref_model.tflite", root / "tests/data/models/resnet8_int8.tflite",
             root / "models/digits_cnn_int8.tflite"]
    rng = np.random.default_rng(27)
    cases, models = [], []
    for k, path in enumerate(paths):
        data = path.read_bytes()
        m = compile_graph(parse_model(data, name=f"w{k}"), prefix=f"w{k}", options=PlanOptions(kernels="riscv"))
        t = m.graph.tensors[m.graph.inputs[0]]
        cases.append((path.stem, data, [rng.integers(-128, 128, (2, *t.shape)).astype(np.int8)]))
        models.append(m)
    sources = "".join(m.source for m in models)
    for call in ("td_conv_s8_riscv(", "td_conv_1x1_s8_riscv_inplace(", "td_depthwise_conv_s8_riscv_inplace(",
                 "td_add_s8_riscv(", "td_fully_connected_s8_riscv(", "td_avg_pool_s8_riscv("):
        assert call in sources, call
    bad = differences(cases, run_on_board(models, [xs for *_, xs in cases], "qemu-rv32", tmp_path / "fw"))
    assert not bad, "\n".join(bad)


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


def test_add_table_is_the_reference_two_step_rescaling():
    """Spot values of the table against the C formula written out with Python integers."""
    def dr(x, m, s):  # td_mul_by_quantized_mult_dr
        x = ((x << max(s, 0)) + 2**31) % 2**32 - 2**31
        ab = x * m
        v = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
        high = v >> 31 if v >= 0 else -((-v) >> 31)
        r = max(-s, 0)
        mask = (1 << r) - 1
        return (high >> r) + int((high & mask) > (mask >> 1) + int(high < 0))

    table = add_tables_riscv((-5, 127), (1518500250, 1073741824), (-1, -3), subtract=True)
    for x in range(-128, 128):
        assert table[x + 128] == dr((x - 5) << 20, 1518500250, -1)
        assert table[x + 384] == -dr((x + 127) << 20, 1073741824, -3)


@pytest.mark.parametrize("cc,flags", [
    ("riscv64-unknown-elf-gcc", ["--specs=picolibc.specs", "-march=rv32imc", "-mabi=ilp32", "-O2"]),
    ("riscv64-unknown-elf-gcc", ["--specs=picolibc.specs", "-march=rv32imc", "-mabi=ilp32", "-Os"]),  # esp32-c3
    ("gcc", ["-O2"]), ("avr-gcc", ["-mmcu=atmega2560", "-Os"]), ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb"])])
def test_riscv_sources_build_warning_free_everywhere(cc, flags, tmp_path):
    """On RISC-V the kernels, elsewhere an empty unit (the folder ships flat to every board), no warning."""
    assert shutil.which(cc), f"{cc} is not installed (scripts/setup.sh installs it)"
    for src in sorted((RUNTIME_DIR / "riscv").glob("*.c")):
        r = subprocess.run([cc, *flags, *WARN, "-I", str(RUNTIME_DIR), "-c", str(src), "-o", str(tmp_path / "o.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"{cc} {' '.join(flags)} {src.name}:\n{r.stderr}"
