"""The HIL plugin itself, run in a fresh pytest (pytester): it stays out of the way when unused, its gates
fail when they should (corrupted weights, a slower or bigger model) with a readable message,
--update-baseline rewrites the baseline, unavailable boards/models skip with the reason, and the
example suite runs on a fleet of emulated boards in parallel."""
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SHARED_MODELS

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

HELLO = SHARED_MODELS / "hello_world_int8.tflite"
RESNET = SHARED_MODELS / "resnet8_int8.tflite"
COMMITTED = json.loads((ROOT / "tests" / "hil" / "baselines.json").read_text())

BIT_EXACT_TEST = f'''
from tinydeploy.hil import assert_bit_exact

def test_hello_bit_exact(deployed):
    d = deployed({str(HELLO)!r})
    x = d.random_inputs(16, seed=1)
    assert_bit_exact(d.run(x), d.reference(x))
'''

BASELINE_TEST = f'''
def test_hello_baseline(deployed, baseline):
    baseline.check(deployed({str(HELLO)!r}), key="hello")
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # labgrid's own pytest plugin (installed with labgrid) costs seconds of start-up and is not used here
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:labgrid", "-rs", *args, timeout=600)


def test_harmless_when_unused(pytester):
    """No --board, no HIL fixture: plain tests run, nothing is started or imported, no summary section."""
    pytester.makepyfile(test_plain='''
import sys

def test_plain():
    assert 1 + 1 == 2
    assert "tinydeploy.hil.fixtures" not in sys.modules and "tinydeploy.session" not in sys.modules
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


def _corrupt_first_weight(c_file: Path) -> tuple[int, int]:
    """Change the first value of the first int8 weight array of a generated model.c."""
    text = c_file.read_text()
    m = re.search(r"static const [^;={]*\bint8_t \w+\[\d+\][^{]*=\s*\{\s*(-?\d+)", text)
    old = int(m[1])
    new = old + 64 if old < 0 else old - 64
    c_file.write_text(text[:m.start(1)] + str(new) + text[m.end(1):])
    return old, new


def test_bit_exact_gate_fails_on_corrupted_weights(pytester, tmp_path):
    """The generated weight file in the firmware project is damaged (as a bad flash or a codegen bug would):
    the board's outputs drift from LiteRT and the gate says where, readably."""
    from tinydeploy.device_project import device_project
    from tinydeploy.hil.fixtures import LocalTarget

    build = tmp_path / "build"
    proj = device_project(HELLO, "qemu-m4", LocalTarget("qemu-m4", build_dir=build).project_dir(HELLO))
    old, new = _corrupt_first_weight(next(proj.path.glob("lib/*/src/hello_world_int8.c")))
    pytester.makepyfile(test_gate=BIT_EXACT_TEST)
    r = run(pytester, "--board", "qemu-m4", "--tinydeploy-build-dir", str(build))
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert "AssertionError: not bit-exact with the reference:" in out
    assert re.search(r"output 0: \d+ of 16 values differ, in \d+ of 16 samples", out), out
    assert re.search(r"first difference: sample \d+, index \[[\d, ]+\]: device -?\d+ != reference -?\d+", out), out
    # the same test on the intact firmware passes: the gate failed because of the weights, nothing else
    r = run(pytester, "--board", "qemu-m4")
    r.assert_outcomes(passed=1)


def _baseline_file(pytester, **change) -> Path:
    entry = dict(COMMITTED["qemu-m4"]["hello_world_int8"], **change)
    p = pytester.path / "baselines.json"
    p.write_text(json.dumps({"qemu-m4": {"hello": entry}}, indent=2))
    return p


def test_latency_gate_fails_on_a_tightened_baseline(pytester):
    real = COMMITTED["qemu-m4"]["hello_world_int8"]["latency"]
    _baseline_file(pytester, latency=int(real * 0.9))
    pytester.makepyfile(test_gate=BASELINE_TEST)
    r = run(pytester, "--board", "qemu-m4")
    r.assert_outcomes(failed=1)
    out = r.stdout.str()
    assert f"hello on qemu-m4: slower: latency {real:,} instructions > baseline {int(real * 0.9):,} +2%" in out
    assert "latency mean (instructions)" in out and "--update-baseline" in out
    assert re.search(r"regressed +qemu-m4 +hello", out)  # the summary table


def test_ram_gate_fails_on_a_tightened_baseline(pytester):
    ram = COMMITTED["qemu-m4"]["hello_world_int8"]["ram_bytes"]
    _baseline_file(pytester, ram_bytes=ram - 8)
    pytester.makepyfile(test_gate=BASELINE_TEST)
    r = run(pytester, "--board", "qemu-m4")
    r.assert_outcomes(failed=1)
    assert f"bigger: RAM {ram:,} B > baseline {ram - 8:,} B" in r.stdout.str()
    # a tolerance in bytes lets it through
    run(pytester, "--board", "qemu-m4", "--ram-tolerance", "8").assert_outcomes(passed=1)


def test_update_baseline_rewrites_the_file(pytester):
    real = COMMITTED["qemu-m4"]["hello_world_int8"]
    p = _baseline_file(pytester, latency=1, ram_bytes=1)
    pytester.makepyfile(test_gate=BASELINE_TEST)
    r = run(pytester, "--board", "qemu-m4", "--update-baseline")
    r.assert_outcomes(passed=1)
    assert re.search(r"updated +qemu-m4 +hello", r.stdout.str())
    got = json.loads(p.read_text())["qemu-m4"]["hello"]
    assert got["latency"] == real["latency"] and got["ram_bytes"] == real["ram_bytes"]
    run(pytester, "--board", "qemu-m4").assert_outcomes(passed=1)
    # no entry at all: fails and says how to record one
    p.write_text("{}")
    r = run(pytester, "--board", "qemu-m4")
    r.assert_outcomes(failed=1)
    assert "hello on qemu-m4: no baseline recorded" in r.stdout.str() and "Record one" in r.stdout.str()


def test_skip_reasons(pytester):
    """Each skip says why: the marker's boards, a model too big for the board, a real board not attached."""
    pytester.makepyfile(test_skips=f'''
import pytest

@pytest.mark.board("qemu-rv32")
def test_only_rv32(board):
    pass

def test_resnet_fits(deployed):
    deployed({str(RESNET)!r})
''')
    r = run(pytester, "--board", "qemu-m4,simavr-mega,nucleo_f446re")
    out = r.stdout.str()
    r.assert_outcomes(passed=1, skipped=5)
    assert "only for qemu-rv32; this run's board is qemu-m4" in out
    assert "only for qemu-rv32; this run's board is simavr-mega" in out
    assert re.search(r"resnet8_int8.tflite does not fit simavr-mega: .*RAM: +35,584 of 8,192 B", out), out
    assert re.search(r"board nucleo_f446re unavailable: (PlatformIO platform \S+ is not installed|no "
                     r"nucleo_f446re attached)", out), out


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

    r = td("--keep", str(tmp_path / "suite"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "test_bit_exact[qemu-m4]" in r.stdout and "passed" in r.stdout
    assert re.search(r"latency +mean 4,080 instructions", r.stdout) and "canary intact" in r.stdout
    assert (tmp_path / "suite" / "test_hello_world_int8_hil.py").is_file()
    r = td("--max-latency", "100")
    assert r.returncode == 1
    assert "latency max 4,080 instructions > limit 100 instructions" in r.stdout + r.stderr
