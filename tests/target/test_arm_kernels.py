"""The arm-dsp kernel variants (PlanOptions.kernels="arm-dsp", lib/tinydeploy/arm/) ON THE TARGET: hundreds
of random single-op models compiled into one firmware per board, run in QEMU, every output byte compared
with LiteRT BUILTIN_REF on the same inputs. Plus what the option does to the generated C, and that the
arm/ sources build warning-free everywhere (to nothing without the DSP extension)."""
import shutil
import subprocess

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.testing.random_ops import fc_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases

ARM = RUNTIME_DIR / "arm"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror", "-O2"]


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
@pytest.mark.parametrize("board,n", [("qemu-m4", 300), ("qemu-m7", 70)])
def test_arm_dsp_kernels_bit_exact_on_target(board, n, tmp_path):
    cases = variant_cases(lambda rng, i: fc_model(rng, big=i % 20 == 0), {"qemu-m4": 7, "qemu-m7": 8}[board], n)
    assert all("td_fully_connected_s8_arm_dsp" in m.source for _, _, m, _ in cases)
    bad = failures_on_target(cases, board, tmp_path / "fw")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_kernels_option_changes_only_arm_dsp_models():
    model, _ = fc_model(np.random.default_rng(3))
    ref = compile_graph(parse_model(model, name="m"), prefix="m")
    same = compile_graph(parse_model(model, name="m"), prefix="m", options=PlanOptions(kernels="reference"))
    arm = compile_graph(parse_model(model, name="m"), prefix="m", options=PlanOptions(kernels="arm-dsp"))
    assert PlanOptions().describe() == PlanOptions(kernels="reference").describe()
    assert "kernels" not in PlanOptions().describe() and "kernels=arm-dsp" in arm.options.describe()
    assert same.source == ref.source and same.header == ref.header
    assert "__ARM_FEATURE_DSP" not in ref.source and "td_fully_connected_s8(" in ref.source
    assert "#if !defined(__ARM_FEATURE_DSP)\n#error" in arm.source
    assert "td_fully_connected_s8_arm_dsp(" in arm.source and "m_op0_weights_arm" in arm.source
    with pytest.raises(TinyDeployError, match="unknown kernel variant"):
        PlanOptions(kernels="neon")


def test_fc_weight_layout_keeps_every_byte():
    from tinydeploy.compile.ops._arm import fc_weights_arm_dsp, folded_bias

    w = np.arange(6 * 7).reshape(6, 7).astype(np.int8)
    assert fc_weights_arm_dsp(w).tolist() == [0, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 17, 21, 22, 23, 24,
                                              4, 11, 18, 25, 5, 12, 19, 26, 6, 13, 20, 27, *range(28, 42)]
    for units in range(1, 10):
        for depth in range(1, 10):
            w = np.random.default_rng(units * 10 + depth).integers(-128, 128, (units, depth)).astype(np.int8)
            assert sorted(fc_weights_arm_dsp(w).tolist()) == sorted(w.reshape(-1).tolist())
    big = np.full((1, 70000), 127, np.int8)  # the folded bias wraps like LiteRT's int32 accumulator
    assert folded_bias(np.array([5]), big, 128).tolist() == [((5 + 128 * 127 * 70000 + 2**31) % 2**32) - 2**31]


@pytest.mark.parametrize("cc,flags", [
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb"]), ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mthumb"]),
    ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb"]), ("arm-none-eabi-gcc", ["-mcpu=cortex-m0plus", "-mthumb"]),
    ("gcc", []), ("avr-gcc", ["-mmcu=atmega2560"]),
    ("riscv64-unknown-elf-gcc", ["--specs=picolibc.specs", "-march=rv32imac", "-mabi=ilp32"])])
def test_arm_sources_build_warning_free_everywhere(cc, flags, tmp_path):
    """With the DSP extension (M4/M7/M55) the kernels, elsewhere an empty unit, without a warning."""
    if not shutil.which(cc):
        pytest.skip(f"{cc} is not installed")
    for src in sorted(ARM.glob("*.c")):
        r = subprocess.run([cc, *flags, *WARN, "-I", str(RUNTIME_DIR), "-c", str(src), "-o", str(tmp_path / "o.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"{cc} {' '.join(flags)} {src.name}:\n{r.stderr}"
