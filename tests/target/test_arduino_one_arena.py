"""Arduino ZIP: one arena serves the model and the device protocol (issue 15 item 4), and an example that
does not fit is left out with a warning when the library itself fits. Slow: the Serial example of a
model with a ~4 KB arena and ~16 KB of weights, built by arduino-builder for the Mega 2560 and served
over a simavr PTY, bit-exact with LiteRT, with one arena in its RAM."""
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from tools import require_tool

from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.arduino import export_arduino
from tinydeploy.testing.builder import single_fc


def fc_model(n_in: int, seed: int = 9) -> bytes:
    """x[1, n_in] -> FULLY_CONNECTED 4: 4 * n_in bytes of weights (flash on AVR), an arena of ~n_in bytes."""
    return single_fc(n_in, 4, seed, out_scale=0.5, out_zp=2)


@pytest.fixture(scope="module")
def arena4k(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("models") / "arena4k.tflite"
    p.write_bytes(fc_model(4000))
    return p


def test_mega_exports_both_examples_of_a_4k_arena_model(arena4k, tmp_path):
    lib = export_arduino(arena4k, tmp_path / "lib.zip", board="mega2560")
    m = lib.model
    assert 3900 < m.arena_bytes < 4300 and 15000 < m.weights_bytes < 17000
    assert lib.skipped == {} and lib.examples == ["Arena4kCheck", "Arena4kSerial"]
    assert lib.fit["check"].fits and lib.fit["serial"].fits
    # the Serial example adds the protocol's state, not a second arena
    assert 0 < lib.fit["serial"].ram_needed - lib.fit["check"].ram_needed < 1000 < m.arena_bytes
    names = zipfile.ZipFile(tmp_path / "lib.zip").namelist()
    assert "Arena4k/examples/Arena4kSerial/Arena4kSerial.ino" in names
    src = zipfile.ZipFile(tmp_path / "lib.zip").read("Arena4k/src/arena4k.c").decode()
    assert src.startswith("/* export-arduino") and "#define ARENA4K_NO_STATIC_ARENA" in src
    assert "arena4k_arena_storage[ARENA4K_ARENA_BYTES + 16]" in src


def test_example_that_does_not_fit_is_left_out_with_a_warning(tmp_path):
    """On the Uno (2 KB of SRAM) a 1.3 KB arena leaves room for the library and the Check example, not
    for the device protocol's buffers: the ZIP has the library and Check, and says why Serial is out."""
    model = tmp_path / "arena1k3.tflite"
    model.write_bytes(fc_model(1300))
    lib = export_arduino(model, tmp_path / "lib.zip", board="uno")
    assert lib.fit["library"].fits and lib.fit["check"].fits and not lib.fit["serial"].fits
    assert list(lib.skipped) == ["serial"] and "RAM needs" in lib.skipped["serial"]
    assert lib.examples == ["Arena1k3Check"]
    names = zipfile.ZipFile(tmp_path / "lib.zip").namelist()
    assert any("Arena1k3Check" in n for n in names) and not any("Serial" in n for n in names)
    r = subprocess.run([sys.executable, "-m", "tinydeploy", "export-arduino", str(model), "-o",
                        str(tmp_path / "cli.zip"), "--board", "uno"], capture_output=True, text=True, cwd=ROOT,
                       timeout=300, check=False)
    out = " ".join(r.stdout.split())
    assert r.returncode == 0, r.stderr
    assert "warning: example Arena1k3Serial left out: it does not fit uno (RAM needs" in out
    assert "examples Arena1k3Check (3 samples" in out


@pytest.mark.slow
@require_tool("arduino-builder", "simavr", "avr-gcc")
def test_serial_example_of_a_4k_arena_model_on_the_mega(arena4k, tmp_path):
    from tinydeploy.compile.tflite.reader import load_model
    from tinydeploy.evaluate.data import random_inputs
    from tinydeploy.link.client import DeviceClient
    from tinydeploy.target.arduino_build import SimavrPty, compile_example

    lib = export_arduino(arena4k, tmp_path / "lib.zip", board="mega2560")
    build = compile_example(tmp_path / "lib.zip", "Serial", "mega2560", tmp_path / "work")
    m = lib.model
    assert m.arena_bytes < build.ram_bytes < m.arena_bytes + 1500          # one arena in .bss, not two
    assert lib.fit["serial"].ram_needed - lib.board.stack_bytes >= build.ram_bytes
    g = load_model(arena4k)
    xs = random_inputs(g, 3, np.random.default_rng(4))
    want = reference_outputs(arena4k, xs)
    with SimavrPty(build.elf, "mega2560", tmp_path) as pty:
        client = DeviceClient(pty.url, [g.tensors[t].nbytes for t in g.outputs], expect_sha256=g.sha256)
        assert client.connect().arena_bytes == m.arena_bytes
        for s in range(3):
            assert client.run([xs[0][s].tobytes()]).outputs == [want[0][s].tobytes()], f"sample {s}"
        stats = client.stats()
        client.close()
    assert stats.canary_ok and stats.invokes == 3
