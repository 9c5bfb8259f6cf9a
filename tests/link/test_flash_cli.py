"""`tinydeploy flash`: dry run, the clear failure for a real board with nothing installed/attached, and a
real flash of an emulated board (pio run -t upload -> QEMU on a pty) that eval then uses."""
import json
import re
import time

import pytest
from device_helpers import cli, firmware_dir, public_model

from tinydeploy.link.flashing import STATE

MODEL = public_model("hello_world_int8")


def test_dry_run_lists_every_step_and_runs_nothing(tmp_path):
    r = cli("flash", MODEL, "--board", "qemu-m4", "--dry-run", "--project-dir", tmp_path / "proj")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "dry run" in out and "pio run -e qemu-m4" in out and "-t upload" in out and "-serial pty" in out
    assert not (tmp_path / "proj").exists()


@pytest.mark.parametrize("board,platform", [("esp32", "espressif32"), ("stm32", "ststm32"), ("uno", "atmelavr")])
def test_real_board_fails_fast_with_the_commands_to_run_online(board, platform, tmp_path):
    t0 = time.monotonic()
    r = cli("flash", MODEL, "--board", board, "--project-dir", tmp_path / "p")
    assert r.returncode == 1
    err = " ".join(r.stderr.split())
    assert f"PlatformIO platform `{platform}` is not installed" in err
    assert "is attached" in err and "USB ID" in err
    assert f"pio pkg install -g -p platformio/{platform}" in err and "tinydeploy flash" in err
    assert "Traceback" not in r.stderr and time.monotonic() - t0 < 30
    assert not (tmp_path / "p").exists()
    dry = cli("flash", MODEL, "--board", board, "--dry-run")
    assert dry.returncode == 0 and "missing: PlatformIO platform" in dry.stdout and "-t upload" in dry.stdout


def test_real_board_missing_port_is_named():
    r = cli("flash", MODEL, "--board", "esp32", "--port", "/dev/ttyUSB77")
    assert r.returncode == 1 and "/dev/ttyUSB77 does not exist" in " ".join(r.stderr.split())


def test_host_and_unknown_boards():
    r = cli("flash", MODEL, "--board", "host")
    assert r.returncode == 1 and "needs no flashing" in r.stderr
    r = cli("flash", MODEL, "--board", "qemu-m5")
    assert r.returncode == 1 and "did you mean" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_flash_emulated_board_then_eval_on_its_port(tmp_path):
    proj = firmware_dir(MODEL, "qemu-m4")  # shared with the eval tests: built once (locked), reused
    r = cli("flash", MODEL, "--board", "qemu-m4", "--project-dir", proj)
    assert r.returncode == 0, r.stderr
    m = re.search(r"serial port: (/dev/pts/\d+)", r.stdout)
    assert m, r.stdout
    try:
        state = json.loads((proj / STATE).read_text())
        assert state["url"] == m[1]
        import numpy as np
        np.save(tmp_path / "x.npy", np.linspace(-3, 3, 16, dtype=np.float32).reshape(16, 1, 1))  # float: quantized
        ev = cli("eval", MODEL, "--port", m[1], "--inputs", tmp_path / "x.npy", "--json", tmp_path / "r.json")
        assert ev.returncode == 0, ev.stderr
        rep = json.loads((tmp_path / "r.json").read_text())
        assert rep["bit_exact"]["all"] and rep["board"] == "qemu-m4" and rep["samples"] == 16
        # inside the project, monitor finds the model from the SHA-256 the board reports
        mon = cli("monitor", "--port", m[1], "--count", "3", "--json", cwd=proj)
        assert mon.returncode == 0, mon.stderr
        exact = json.loads(mon.stdout.splitlines()[-1])["summary"]["bit_exact"]
        assert (exact["agree"], exact["checked"], exact["reference"]) == (3, 3, "litert"), exact
        # flashing again reuses the build (manifest matches) and replaces the running emulator
        again = cli("flash", MODEL, "--board", "qemu-m4", "--project-dir", proj)
        assert again.returncode == 0 and "reuse the protocol firmware project" in again.stderr
        assert "skip:" in again.stderr and "stopped the emulator flashed before" in again.stderr
    finally:
        stop = cli("flash", "--stop", "--project-dir", proj)
    assert stop.returncode == 0 and "stopped the emulator" in stop.stdout
    assert not (proj / STATE).exists()
