"""The arm-mve CONV_2D and FULLY_CONNECTED kernels (td_conv_s8_mve, td_conv_1x1_s8_mve_inplace,
td_fully_connected_s8_mve; lib/tinydeploy/mve/td_mve_conv*.c, td_mve_fc.c) ON THE TARGET: random convolutions
(some followed by a 1x1 convolution that runs in place) and fully-connected layers, in as few firmwares as fit
qemu-m55 (Cortex-M55, MVE), every output byte compared with LiteRT BUILTIN_REF. Plus the weight layout and
that the sources build warning-free everywhere (to nothing without MVE)."""
import shutil
import subprocess

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import out_size
from tinydeploy.compile.ops._common import requant_arrays
from tinydeploy.compile.ops._mve import mve_weights
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.random_ops import conv_layer, conv_model, fc_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases

SOURCES = [RUNTIME_DIR / "mve" / n for n in ("td_mve_conv.c", "td_mve_conv_tile.c", "td_mve_fc.c")]
WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror"]


def _shifts(m) -> list[int]:
    """Every conv/FC channel's requantization shift in a compiled model."""
    g, out = m.graph, []
    for op in g.ops:
        inp, w, y = (g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
        out += requant_arrays(g, op, inp, w, y, w.shape[0])[2].tolist()
    return out


def batched_conv(rng: np.random.Generator) -> tuple[bytes, str]:
    """A CONV_2D over two batches with channel counts of the model zoo (16 to 64, 3x3 or 1x1)."""
    n, h, w, cin, cout = 2, int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.choice([3, 16, 32])), \
        int(rng.choice([16, 18, 64]))
    k, stride, padding = int(rng.choice([1, 3])), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    oh, ow = out_size(padding, h, k, stride), out_size(padding, w, k, stride)
    if min(oh, ow) < 1:
        oh, ow, padding = out_size(0, h, k, stride), out_size(0, w, k, stride), 0
    scale, zp = float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    b = ModelBuilder()
    x = b.tensor([n, h, w, cin], "int8", scale, zp)
    ins, out_scale, act = conv_layer(b, rng, x, cin, scale, cout, k, k, (stride, stride), (1, 1), padding)
    y = b.tensor([n, oh, ow, cout], "int8", out_scale, int(rng.integers(-128, 128)))
    b.op("CONV_2D", ins, [y], options("Conv2DOptions", padding=padding, strideH=stride, strideW=stride,
                                      fusedActivationFunction=act))
    return b.build([x], [y]), f"conv {n}x{h}x{w}x{cin}->{cout} k{k} s{stride} pad{padding} act{act} zp{zp}"


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_mve_conv_and_fc_bit_exact_on_qemu_m55(tmp_path):
    def make(rng: np.random.Generator, i: int) -> tuple[bytes, str]:  # one list: one prefix per case
        return conv_model(rng) if i < 80 else batched_conv(rng) if i < 95 else fc_model(rng, big=i % 10 == 0)

    cases = variant_cases(make, 31, 130, kernels="arm-mve")
    sources = "".join(m.source for _, _, m, _ in cases)
    for kernel in ("td_conv_s8_mve(", "td_conv_1x1_s8_mve_inplace(", "td_fully_connected_s8_mve("):
        assert kernel in sources, kernel
    assert "_arm_dsp(" not in sources and "td_conv_s8(" not in sources  # no case fell back
    shifts = [s for _, _, m, _ in cases for s in _shifts(m)]
    assert min(shifts) < 0 < max(shifts)  # rescales above 1 (left shifts) are covered too
    bad = failures_on_target(cases, "qemu-m55", tmp_path / "fw")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_mve_weight_layout_pairs_rows_by_chunk_after_their_biases():
    w = np.arange(3 * 20).reshape(3, 20).astype(np.int8)  # 3 rows, K = 20 -> 32
    got = mve_weights(w, np.array([1, -2, 300])).tolist()
    pad = [0] * 12
    assert got == [1, 0, 0, 0, -2, -1, -1, -1, *range(16), *range(20, 36), 16, 17, 18, 19, *pad,
                   36, 37, 38, 39, *pad, 44, 1, 0, 0, *range(40, 56), 56, 57, 58, 59, *pad]
    for rows in range(1, 6):
        for k in (1, 15, 16, 17, 40):
            w = np.random.default_rng(rows * 100 + k).integers(-128, 128, (rows, 1, 1, k)).astype(np.int8)
            got = mve_weights(w, np.zeros(rows, np.int64))
            assert got.size == rows * (-(-k // 16) * 16 + 4)
            assert sorted(got[got != 0].tolist()) == sorted(w[w != 0].tolist())


@pytest.mark.parametrize("cc,flags", [
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O0"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-Os", "-fno-omit-frame-pointer"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O1", "-fno-omit-frame-pointer"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-O2"]), ("gcc", ["-O2"]),
    ("avr-gcc", ["-mmcu=atmega2560", "-O2"]),
    ("riscv64-unknown-elf-gcc", ["--specs=picolibc.specs", "-march=rv32imac", "-mabi=ilp32", "-O2"])])
def test_mve_sources_build_warning_free_everywhere(cc, flags, tmp_path):
    """With MVE (M55) the kernels, elsewhere an empty unit, without a warning; the asm loops find their
    registers at every optimization level, with a frame pointer too."""
    if not shutil.which(cc):
        pytest.skip(f"{cc} is not installed")
    for src in SOURCES:
        r = subprocess.run([cc, *flags, *WARN, "-I", str(RUNTIME_DIR), "-I", str(src.parent), "-c", str(src),
                            "-o", str(tmp_path / "o.o")], capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"{cc} {' '.join(flags)} {src.name}:\n{r.stderr}"
        syms = subprocess.run(["nm" if cc == "gcc" else cc.replace("gcc", "nm"), str(tmp_path / "o.o")],
                              capture_output=True, text=True, check=False).stdout
        assert ("td_" in syms) == ("-mcpu=cortex-m55" in flags), syms
