"""The HIL plugin itself, run in a fresh pytest (pytester): it stays out of the way when unused, its gates
fail when they should (corrupted weights, a slower or bigger model) with a readable message,
--update-baseline rewrites the baseline, unavailable boards/models skip with the reason, and the
example suite runs on a fleet of emulated boards in parallel."""
import json
import re

import pytest
from conftest import ROOT, TEST_MODELS

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

HELLO = TEST_MODELS / "hello_world_int8.tflite"
RESNET = TEST_MODELS / "resnet8_int8.tflite"
COMMITTED = json.loads((ROOT / "tests" / "hil" / "baselines.json").read_text())


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # labgrid's own pytest plugin (installed with labgrid) costs seconds of start-up and is not used here
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:labgrid", "-rs", *args, timeout=600)


def test_harmless_when_unused(pytester):
    """No --board, no HIL fixture: plain tests run, nothing is started or imported, no summary section."""
    pytester.makepyfile(test_plain='''
import sys

def test_plain():
    assert 1 + 1 == 2
    assert "tinydeploy.hil.targets" not in sys.modules and "tinydeploy.link.session" not in sys.modules
''')
    r = run(pytester)
    r.assert_outcomes(passed=1)
    assert "tinydeploy baselines" not in r.stdout.str()
    r = run(pytester, "--help")
    assert "--update-baseline" in r.stdout.str() and "labgrid:PLACE" in r.stdout.str()


def test_unknown_board_is_a_usage_error(pytester):
    pytester.makepyfile(test_x="def test_x(board):\n    pass\n")
    r = run(pytester, "--board", "qemu-m5")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    assert "qemu-m5" in r.stderr.str() and "qemu-m4" in r.stderr.str()  # the closest names


CORRUPT_TEST = f'''
import re
from pathlib import Path

from tinydeploy.target.protocol_firmware import device_project
from tinydeploy.hil import assert_bit_exact

MODEL = Path({str(HELLO)!r})


def corrupt_first_weight(c_file):
    """Change the first value of the first int8 weight array of the generated model.c."""
    text = c_file.read_text()
    m = re.search(r"static const [^;={{]*\\bint8_t \\w+\\[\\d+\\][^{{]*=\\s*\\{{\\s*(-?\\d+)", text)
    old = int(m[1])
    c_file.write_text(text[:m.start(1)] + str(old + 64 if old < 0 else old - 64) + text[m.end(1):])


def test_hello_bit_exact(board, deployed):
    # the firmware project the plugin will build, generated first so its weights can be damaged
    proj = device_project(MODEL, board.profile, board.project_dir(MODEL))
    corrupt_first_weight(next(proj.path.glob("lib/*/src/hello_world_int8.c")))
    d = deployed(MODEL)
    x = d.random_inputs(16, seed=1)
    assert_bit_exact(d.run(x), d.reference(x))
'''


def test_bit_exact_gate_fails_on_corrupted_weights(pytester, tmp_path):
    """The generated weight file in the firmware project is damaged (as a bad flash or a codegen bug would):
    the board's outputs drift from LiteRT and the gate says where, readably."""
    pytester.makepyfile(test_gate=CORRUPT_TEST)
    r = run(pytester, "--board", "qemu-m4", "--tinydeploy-build-dir", str(tmp_path / "build"))
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "AssertionError: not bit-exact with the reference:" in out
    assert re.search(r"output 0: \d+ of 16 values differ, in \d+ of 16 samples", out), out
    assert re.search(r"first difference: sample \d+, index \[[\d, ]+\]: device -?\d+ != reference -?\d+", out), out


GATES_TEST = f'''
import pytest

@pytest.mark.parametrize("key", ["hello_ok", "hello_slow", "hello_big", "hello_new"])
def test_hello_baseline(deployed, baseline, key):
    baseline.check(deployed({str(HELLO)!r}), key=key)
'''


def test_baseline_gates_and_update(pytester):
    """Against a tightened baseline the latency and RAM gates fail with an old -> new diff (instruction
    counts are deterministic: one instruction more than the committed baseline fails; --latency-tolerance
    allows more); a model without an entry fails and says how to record one; --update-baseline rewrites
    them all; then they pass."""
    real = COMMITTED["qemu-m4"]["hello_world_int8"]
    lat, ram = real["latency"], real["ram_bytes"]
    p = pytester.path / "baselines.json"
    p.write_text(json.dumps({"qemu-m4": {"hello_ok": real, "hello_slow": dict(real, latency=lat - 1),
                                         "hello_big": dict(real, ram_bytes=ram - 8)}}, indent=2))
    pytester.makepyfile(test_gate=GATES_TEST)
    r = run(pytester, "--board", "qemu-m4")
    r.assert_outcomes(passed=1, failed=3)
    out = r.stdout.str()
    assert f"hello_slow on qemu-m4: slower: latency {lat:,} instructions > baseline {lat - 1:,} (+" in out
    assert "latency mean (instructions)" in out and "If this change is intended, refresh it" in out
    assert f"hello_big on qemu-m4: bigger: RAM {ram:,} B > baseline {ram - 8:,} B" in out
    assert "hello_new on qemu-m4: no baseline recorded" in out and "Record one: pytest --board qemu-m4 " \
        "--update-baseline" in out
    assert re.search(r"regressed +qemu-m4 +hello_slow", out) and re.search(r"ok +qemu-m4 +hello_ok", out)

    # an explicit tolerance lets the one instruction through
    run(pytester, "--board", "qemu-m4", "-k", "slow", "--latency-tolerance", "0.01").assert_outcomes(passed=1)

    r = run(pytester, "--board", "qemu-m4", "--update-baseline", "-n", "2")  # parallel writers, one file
    r.assert_outcomes(passed=4)
    got = json.loads(p.read_text())["qemu-m4"]
    assert {k: (v["latency"], v["ram_bytes"]) for k, v in got.items()} == \
        {k: (lat, ram) for k in ("hello_ok", "hello_slow", "hello_big", "hello_new")}
    run(pytester, "--board", "qemu-m4", "--ram-tolerance", "0").assert_outcomes(passed=4)


def test_skip_reasons(pytester, monkeypatch):
    """Each skip says why: the marker's boards, a model too big for the board, a real board not attached.
    Under CI (or --board-unavailable fail) a board that is not there, or a model that does not fit, fails."""
    from tinydeploy.compile.compiler import compile_graph
    from tinydeploy.compile.tflite.reader import load_model
    from tinydeploy.target.fit import check_fit

    fit = check_fit(compile_graph(load_model(RESNET)), "simavr-mega")  # the numbers the reason must quote
    too_big = rf"resnet8_int8.tflite does not fit simavr-mega: .*RAM: +{fit.ram_needed:,} of {fit.board.ram_budget:,} B"
    assert not fit.fits_ram
    pytester.makepyfile(test_skips=f'''
import pytest

@pytest.mark.board("qemu-rv32")
def test_only_rv32(board):
    pass

def test_resnet_fits(deployed):
    deployed({str(RESNET)!r})
''')
    r = run(pytester, "--board", "qemu-m4,simavr-mega,nucleo_f446re", "--board-unavailable", "skip")
    out = r.stdout.str()
    r.assert_outcomes(passed=1, skipped=5)
    assert "only for qemu-rv32; this run's board is qemu-m4" in out
    assert "only for qemu-rv32; this run's board is simavr-mega" in out
    assert re.search(too_big, out), out
    assert re.search(r"board nucleo_f446re unavailable: (PlatformIO platform \S+ is not installed|no "
                     r"nucleo_f446re attached)", out), out
    # with --board-unavailable fail, or in CI by default, a board that is not there or a model that does
    # not fit fails the run instead
    r = run(pytester, "--board", "nucleo_f446re,simavr-mega", "--board-unavailable", "fail", "-k", "resnet")
    r.assert_outcomes(errors=1, failed=1)
    assert "board nucleo_f446re unavailable" in r.stdout.str() and re.search(too_big, r.stdout.str())
    monkeypatch.setenv("CI", "true")
    run(pytester, "--board", "nucleo_f446re,simavr-mega", "-k", "resnet").assert_outcomes(errors=1, failed=1)


def test_example_suite_on_a_fleet(pytester):
    """tests/hil as a user runs it on two other emulated boards at once, one xdist worker per board's
    emulators (every worker holds its own, on its own port), against the committed baselines."""
    suite = ROOT / "tests" / "hil" / "test_models.py"
    r = run(pytester, str(suite), "--board", "qemu-rv32,simavr-mega", "-n", "2", "-k", "hello_world")
    r.assert_outcomes(passed=6)
    out = r.stdout.str()
    assert re.search(r"ok +qemu-rv32 +hello_world_int8", out) and re.search(r"ok +simavr-mega +hello_world_int8", out)


def test_tinydeploy_test_command(tmp_path):
    """`tinydeploy test MODEL --board B`: generates the suite, runs it, prints the summary; a budget the
    model misses makes it fail (exit 1) with the gate's message; --keep leaves a suite pytest can rerun."""
    import subprocess
    import sys

    def td(*args):
        return subprocess.run([sys.executable, "-m", "tinydeploy", "test", str(HELLO), "--board", "qemu-m4",
                               "--samples", "4", *args], capture_output=True, text=True, timeout=600,
                              cwd=tmp_path, env={**__import__("os").environ, "COLUMNS": "160"})

    # its latency is the one the exact baseline gate measures (tests/hil/test_models.py re-measures it)
    mean, top = (COMMITTED["qemu-m4"]["hello_world_int8"][k] for k in ("latency", "latency_max"))
    r = td("--keep", str(tmp_path / "suite"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_bit_exact[qemu-m4]" in r.stdout and "passed" in r.stdout
    assert re.search(rf"latency +mean {mean:,} instructions", r.stdout) and "canary intact" in r.stdout
    assert (tmp_path / "suite" / "test_hello_world_int8_hil.py").is_file()
    r = td("--max-latency", "100")
    assert r.returncode == 1
    assert f"latency max {top:,} instructions > limit 100 instructions" in r.stdout + r.stderr
