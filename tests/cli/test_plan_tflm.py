"""`tinydeploy plan` measures TFLM's arena in the same run: its numbers are tflm_measure()'s for the model; when
TFLM cannot run, or its log has no arena sizes, plan says so (and why) instead of printing a number."""
import json
import os
import subprocess
import sys

import pytest
from conftest import TEST_MODELS

from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import tflm

MODEL = TEST_MODELS / "hello_world_int8.tflite"


def plan(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tinydeploy", "plan", str(MODEL), *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.fixture
def no_tflm(tmp_path):
    """A PYTHONPATH whose `tflite_micro` shadows the installed one and fails to import."""
    pkg = tmp_path / "shadow" / "tflite_micro"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('tflite_micro disabled by the test')\n")
    return {"PYTHONPATH": os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")])}


def test_plan_reports_tflm_measure_numbers():
    want = tflm.tflm_measure(MODEL)
    assert want["arena_head_bytes"] > 0 and want["arena_total_bytes"] >= want["arena_head_bytes"]
    r = plan("--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert (got["tflm_arena_head_bytes"], got["tflm_arena_total_bytes"]) == \
        (want["arena_head_bytes"], want["arena_total_bytes"])
    assert got["tflm_error"] is None
    r = plan()
    assert f"TFLM arena head {want['arena_head_bytes']:,} B (total {want['arena_total_bytes']:,} B)" in r.stdout


def test_plan_says_when_tflm_cannot_run(no_tflm):
    r = plan("--json", env=no_tflm)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["tflm_arena_head_bytes"] is None and got["tflm_arena_total_bytes"] is None
    assert "TFLM could not run hello_world_int8.tflite" in got["tflm_error"]
    assert "tflite_micro disabled by the test" in got["tflm_error"]
    r = plan(env=no_tflm)
    assert r.returncode == 0, r.stderr
    assert "TFLM's arena not measured: TFLM could not run" in r.stdout and "TFLM arena head" not in r.stdout
    assert f"arena {got['arena_bytes']:,} B" in r.stdout  # our plan is still shown


def test_changed_log_format_is_an_error_not_minus_one(monkeypatch):
    probe = "import json; print(json.dumps({'log': 'Arena usage: 123 bytes', 'seconds': 0.0}))"
    monkeypatch.setattr(tflm, "_PROBE", probe)
    with pytest.raises(TinyDeployError, match="has no 'Arena allocation total N bytes' line"):
        tflm.tflm_measure(MODEL)
