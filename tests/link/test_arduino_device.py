"""The real-board protocol firmware (sketches/device/arduino_device.cpp, Arduino framework) compiled with
the real arduino-builder for the Mega 2560, run in simavr with its Serial on a PTY, driven by `eval`."""
import json
import shutil
import subprocess

import pytest
from device_helpers import DIGITS_DATA, MODELS, cli
from tools import require_tool

from tinydeploy.compile.compiler import RUNTIME_DIR, compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.link.emulators import _spawn, _wait_pty
from tinydeploy.paths import DEVICE_SKETCH_DIR as SKETCH_DIR
from tinydeploy.target.boards import load_board
from tinydeploy.target.protocol_firmware import glue_source

pytestmark = [pytest.mark.slow, require_tool("arduino-builder", "simavr")]


def test_arduino_device_on_simavr_mega(tmp_path):
    from tinydeploy.target.arduino_build import pty_harness

    model = MODELS / "digits_mlp_int8.tflite"
    m = compile_graph(load_model(model), source_name=model.name)
    sk = tmp_path / "TdDevice"
    sk.mkdir()
    (sk / "TdDevice.ino").write_text("/* the board main is arduino_device.cpp */\n")
    for p in [SKETCH_DIR / "arduino_device.cpp", SKETCH_DIR / "td_board.h", *RUNTIME_DIR.glob("*.[ch]")]:
        shutil.copy2(p, sk)
    (sk / "td_glue.c").write_text(glue_source(m, "mega2560"))
    (sk / f"{m.prefix}.c").write_text(m.source)
    (sk / f"{m.prefix}.h").write_text(m.header)
    flags = f"-D{m.prefix.upper()}_NO_STATIC_ARENA -DTD_BOARD_COUNTER_UNIT=2 -DTD_BOARD_CLOCK_HZ=16000000UL"
    (tmp_path / "build").mkdir()
    r = subprocess.run(["arduino-builder", "-compile", "-hardware", "/usr/share/arduino/hardware", "-tools",
                        "/usr/share/arduino/hardware/tools/avr", "-fqbn", "arduino:avr:mega:cpu=atmega2560",
                        "-prefs", "compiler.cpp.extra_flags=-DDECIMAL_DIG=9", "-prefs", f"compiler.c.extra_flags={flags}",
                        "-build-path", str(tmp_path / "build"), str(sk / "TdDevice.ino")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    elf = tmp_path / "build" / "TdDevice.ino.elf"
    emu = _spawn(load_board("simavr-mega"), [str(pty_harness()), str(elf), "atmega2560", "16000000"],
                 tmp_path / "simavr.log")
    try:
        url = _wait_pty(emu, 15)
        ev = cli("eval", model, "--port", url, "--inputs", f"{DIGITS_DATA}:x_mlp_int8", "--labels",
                 f"{DIGITS_DATA}:y", "-n", "16", "--json", tmp_path / "r.json")
    finally:
        emu.stop()
    assert ev.returncode == 0, ev.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["bit_exact"]["all"] and rep["board"] == "mega2560" and rep["latency"]["unit"] == "µs"
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"]
    assert rep["memory"]["canary_ok"] and rep["memory"]["stack_peak_bytes"] > 0
