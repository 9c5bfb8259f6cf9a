"""One pass per command: every command reads the .tflite once and compiles it once, and the compiled model
flows down to the project, the firmware and the session (no second read for a SHA-256, no second compile).

Each command runs in this process (tinydeploy.cli.main with sys.argv set) with the reader, the compiler
and raw reads of the model file counted (pass_counter.py); `tinydeploy test` runs its suite in a pytest
subprocess, counted there by the same wrappers loaded as a plugin.
"""
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_MODELS
from device_helpers import DIGITS, DIGITS_DATA, firmware_dir
from pass_counter import install

HELLO = TEST_MODELS / "hello_world_int8.tflite"
ONE_PASS = {"parse": 1, "compile": 1, "file_read": 1}


@pytest.fixture
def td(monkeypatch, tmp_path, capsys):
    """td(*args, model=M) runs `tinydeploy *args` in-process and returns the reads/compiles of M it made."""
    from tinydeploy.cli import main

    monkeypatch.chdir(tmp_path)  # anything a command writes by default lands here

    def run(*args, model=HELLO, counted=None):
        with monkeypatch.context() as mp:
            counts = install([model], mp.setattr)
            mp.setattr(sys, "argv", ["tinydeploy", *map(str, args)])
            try:
                main()
            except SystemExit as exc:
                out = capsys.readouterr()
                assert not exc.code, f"tinydeploy {' '.join(map(str, args))} exited {exc.code}:\n" \
                                     f"{out.out[-3000:]}\n{out.err[-3000:]}"
            result = dict(counts)
        if counted is not None:  # what a subprocess counted
            extra = json.loads(Path(counted).read_text())
            result = {k: result[k] + extra.get(k, 0) for k in result}
        return result

    return run


def test_inspect(td):
    assert td("inspect", HELLO) == ONE_PASS


def test_convert(td, tmp_path):
    assert td("convert", HELLO, "-o", tmp_path / "out") == ONE_PASS
    assert (tmp_path / "out" / "hello_world_int8.c").is_file()


def test_run_on_host(td, tmp_path):
    np.save(tmp_path / "x.npy", np.arange(-3, 3, dtype=np.int8).reshape(6, 1, 1))
    assert td("run", HELLO, "--board", "host", "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy") == ONE_PASS
    assert np.load(tmp_path / "y.npy").shape == (6, 1, 1)


def test_plan(td):
    assert td("plan", HELLO, "--json") == ONE_PASS  # TFLM measures in its own process, from the file


def test_boards_read_no_model(td):
    assert td("boards") == td("boards", "qemu-m4") == {"parse": 0, "compile": 0, "file_read": 0}


def test_export_platformio(td, tmp_path):
    assert td("export-platformio", HELLO, "-o", tmp_path / "lib") == ONE_PASS


def test_export_arduino(td, tmp_path):
    assert td("export-arduino", HELLO, "-o", tmp_path / "m.zip") == ONE_PASS


def test_flash_dry_run(td, tmp_path):
    assert td("flash", HELLO, "--board", "qemu-m4", "--dry-run", "--project-dir", tmp_path / "p") == ONE_PASS


def test_eval_and_monitor_on_host(td, tmp_path):
    np.save(tmp_path / "x.npy", np.arange(-3, 3, dtype=np.int8).reshape(6, 1, 1))
    assert td("eval", HELLO, "--board", "host", "--inputs", tmp_path / "x.npy") == ONE_PASS
    assert td("monitor", "--board", "host", "--model", HELLO, "--count", "3", "--json") == ONE_PASS


@pytest.mark.slow
def test_build_emulated(td, tmp_path):
    assert td("build", HELLO, "--board", "qemu-m4", "-o", tmp_path / "proj") == ONE_PASS


@pytest.mark.slow
def test_flash_then_monitor_through_the_port(td, tmp_path):
    from tinydeploy.link import stop_emulator

    pdir = tmp_path / "flashed"  # its own project: flash rewrites and uploads it
    try:
        assert td("flash", HELLO, "--board", "qemu-m4", "--project-dir", pdir) == ONE_PASS
        url = json.loads((pdir / ".tinydeploy-emulator.json").read_text())["url"]
        assert td("monitor", "--port", url, "--model", HELLO, "--count", "3", "--plain") == ONE_PASS
    finally:
        stop_emulator(pdir)


@pytest.mark.slow
def test_monitor_emulated(td):
    assert td("monitor", "--board", "qemu-m4", "--model", HELLO, "--count", "3", "--json",
              "--project-dir", firmware_dir(HELLO, "qemu-m4")) == ONE_PASS


@pytest.mark.slow
def test_eval_emulated(td):
    assert td("eval", DIGITS, "--board", "qemu-m4", "--inputs", f"{DIGITS_DATA}:x_int8", "--labels",
              f"{DIGITS_DATA}:y", "--limit", "5", "--project-dir", firmware_dir(DIGITS, "qemu-m4"),
              model=DIGITS) == ONE_PASS


@pytest.mark.slow
def test_test_command(td, tmp_path, monkeypatch):
    """The suite runs in a pytest subprocess: the counters go there as a plugin. Read and compiled once (the
    HIL plugin takes the model's SHA-256 from the compiled graph and tells a rewritten file by its stat)."""
    out = tmp_path / "counts.json"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                                   os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("PYTEST_PLUGINS", "pass_counter")
    monkeypatch.setenv("TD_PASS_MODEL", str(HELLO))
    monkeypatch.setenv("TD_PASS_OUT", str(out))
    counts = td("test", HELLO, "--board", "qemu-m4", "--samples", "3", "--build-dir", tmp_path / "hil", counted=out)
    assert dict(counts) == ONE_PASS, counts


@pytest.mark.slow
def test_demo(monkeypatch, tmp_path, capsys):
    from tinydeploy.demo import main

    monkeypatch.chdir(tmp_path)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        counts = install([DIGITS], monkeypatch.setattr)
        rc = main(["--count", "3", "--project", str(tmp_path / "demo")])
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    assert rc == 0, capsys.readouterr().out[-3000:]
    assert dict(counts) == ONE_PASS


def test_the_counters_see_every_way_in(monkeypatch):
    """Through the lazy public face, the defining module, a name bound at import time, a raw read."""
    import hashlib

    import tinydeploy.cli.convert
    import tinydeploy.compile
    from tinydeploy.compile.tflite import reader

    counts = install([HELLO], monkeypatch.setattr)
    g = tinydeploy.compile.load_model(HELLO)
    reader.load_model(HELLO)
    tinydeploy.compile.compile_graph(g)
    tinydeploy.cli.convert.compile_graph(g)
    hashlib.sha256(HELLO.read_bytes())
    with open(HELLO, "rb"):
        pass
    assert dict(counts) == {"parse": 2, "compile": 2, "file_read": 4}
