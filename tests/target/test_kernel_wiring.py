"""The board profile's kernel_variant reaches the compiler (PlanOptions.kernels) on every path that builds
for a board: firmware projects, PlatformIO projects, Arduino ZIPs, cross-checks; --kernels overrides it."""
import subprocess
import sys
import zipfile

import pytest
from conftest import TEST_MODELS
from tools import require_tool

from tinydeploy.compile import PlanOptions
from tinydeploy.errors import TinyDeployError
from tinydeploy.target import board_options, device_project, export_arduino, generate_project, kernels_for

HELLO = TEST_MODELS / "hello_world_int8.tflite"  # three FULLY_CONNECTED ops: arm-dsp has a kernel for them


@pytest.mark.parametrize("board,kernels", [
    ("qemu-m4", "arm-dsp"), ("qemu-m7", "arm-dsp"), ("qemu-m55", "arm-mve"), ("nucleo_f446re", "arm-dsp"),
    ("nano33ble", "arm-dsp"), ("qemu-rv32", "riscv"), ("simavr-mega", "avr"), ("esp32-c3", "riscv"),
    ("esp32dev", "reference"), ("uno", "avr"), ("pico", "reference"), ("host", "reference")])
def test_each_board_s_own_kernels(board, kernels):
    assert kernels_for(board) == kernels
    assert board_options(board).kernels == kernels


def test_kernels_choice_overrides_the_board_and_is_refused_where_it_cannot_run():
    base = PlanOptions(planner="greedy")
    assert board_options("qemu-m4", base, "reference") == PlanOptions(planner="greedy", kernels="reference")
    assert board_options(None, base, "auto").kernels == "reference"     # no board (convert): generic C
    assert board_options(None, base, "arm-dsp").kernels == "arm-dsp"
    for board in ("qemu-rv32", "pico", "host"):
        with pytest.raises(TinyDeployError, match="cannot run the arm-dsp kernels"):
            board_options(board, base, "arm-dsp")
    # a Helium core has the DSP extension: it may run the arm-dsp kernels, a Cortex-M4 not the Helium ones
    assert board_options("qemu-m55", base, "arm-dsp").kernels == "arm-dsp"
    with pytest.raises(TinyDeployError, match="cannot run the arm-mve kernels"):
        board_options("qemu-m4", base, "arm-mve")
    with pytest.raises(TinyDeployError, match="cannot run the avr kernels"):
        board_options("qemu-rv32", base, "avr")
    with pytest.raises(TinyDeployError, match="unknown --kernels"):
        board_options("qemu-m4", base, "helium")


def test_firmware_project_follows_the_board(tmp_path):
    m4 = device_project(HELLO, "qemu-m4", tmp_path / "m4", dry_run=True)
    rv = device_project(HELLO, "qemu-rv32", tmp_path / "rv", dry_run=True)
    assert "td_fully_connected_s8_arm_dsp(" in m4.model.source and "kernels=arm-dsp" in m4.model.source
    assert "_arm_dsp" not in rv.model.source and "td_fully_connected_s8_riscv(" in rv.model.source
    assert "kernels=riscv" in rv.model.source
    ref = device_project(HELLO, "qemu-m4", tmp_path / "m4", dry_run=True, options=PlanOptions())
    assert "_arm_dsp" not in ref.model.source
    # the cache key of the firmware names the variant: a reference build is never reused for arm-dsp
    assert m4.manifest["key"]["kernels"] == "arm-dsp" and ref.manifest["key"]["kernels"] == "reference"
    assert m4.manifest["key"]["project_sha256"] != ref.manifest["key"]["project_sha256"]


def test_platformio_project_ships_the_arm_sources(tmp_path):
    proj = generate_project(HELLO, "qemu-m4", tmp_path / "p", with_reference=False)
    assert proj.model.options.kernels == "arm-dsp"
    assert (tmp_path / "p" / "lib" / "tinydeploy" / "src" / "td_arm_fully_connected.c").is_file()
    assert "_arm_dsp(" in (tmp_path / "p" / "lib" / proj.model.prefix / "src" / f"{proj.model.prefix}.c").read_text()


def test_arduino_zip_for_an_arm_dsp_board_holds_the_arm_sources(tmp_path):
    lib = export_arduino(HELLO, tmp_path / "hello.zip", board="nano33ble")
    names = zipfile.ZipFile(tmp_path / "TinyDeploy.zip").namelist()     # the runtime library beside it
    assert "TinyDeploy/src/td_arm_fully_connected.c" in names
    assert "_arm_dsp(" in zipfile.ZipFile(tmp_path / "hello.zip").read(f"{lib.name}/src/{lib.model.prefix}.c").decode()
    avr = export_arduino(HELLO, tmp_path / "avr.zip", board="mega2560")
    assert avr.model.options.kernels == "avr"


@require_tool("arm-none-eabi-gcc")
def test_cross_check_compiles_the_arm_sources(tmp_path):
    from tinydeploy.target import cross_compile

    proj = generate_project(HELLO, "nucleo_f446re", tmp_path / "p", with_reference=False)
    res = cross_compile(proj.model, "nucleo_f446re")
    assert "td_arm_fully_connected.c" in res.files and proj.model.options.kernels == "arm-dsp"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_run_on_the_host_refuses_arm_dsp(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((1, 1), np.int8))
    r = _cli("run", HELLO, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy", "--kernels", "arm-dsp")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "cannot run the arm-dsp kernels" in r.stderr and not (tmp_path / "y.npy").exists()


def test_convert_is_generic_unless_asked(tmp_path):
    assert _cli("convert", HELLO, "-o", tmp_path / "ref").returncode == 0
    assert "_arm_dsp" not in (tmp_path / "ref" / "hello_world_int8.c").read_text()
    assert _cli("convert", HELLO, "-o", tmp_path / "arm", "--kernels", "arm-dsp").returncode == 0
    assert "_arm_dsp(" in (tmp_path / "arm" / "hello_world_int8.c").read_text()
