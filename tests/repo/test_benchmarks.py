"""The benchmark scripts do not drop rows silently: a model that fails (here a truncated .tflite) or a TFLM
baseline that cannot be measured prints an error line for that model and makes the exit code non-zero."""
import os
import subprocess
import sys

import pytest
from conftest import ROOT, TEST_MODELS

BENCH = ROOT / "benchmarks"
GOOD = TEST_MODELS / "hello_world_int8.tflite"


def bench(script: str, *args, env=None):
    return subprocess.run([sys.executable, str(BENCH / script), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200", **(env or {})})


@pytest.fixture
def truncated(tmp_path):
    p = tmp_path / "truncated.tflite"
    p.write_bytes(GOOD.read_bytes()[:300])
    return p


@pytest.mark.parametrize("script, extra", [("plan_bench.py", []), ("host_bench.py", ["--repeat", "1"]),
                                           ("patch_bench.py", ["--samples", "2"])])
def test_failing_model_exits_non_zero_with_its_error(script, extra, truncated):
    r = bench(script, truncated, *extra)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "truncated.tflite: error: corrupt or truncated .tflite file" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_good_row_kept_bad_model_still_fails(truncated):
    r = bench("plan_bench.py", GOOD, truncated)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hello_world_int8.tflite" in r.stdout and "truncated.tflite: error:" in r.stderr
    assert bench("plan_bench.py", GOOD).returncode == 0


def test_tflm_baseline_missing_exits_non_zero(tmp_path):
    shadow = tmp_path / "shadow" / "tflite_micro"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('tflite_micro disabled by the test')\n")
    r = bench("plan_bench.py", GOOD, env={"PYTHONPATH": str(shadow.parent)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hello_world_int8.tflite: error: TFLM could not run hello_world_int8.tflite" in r.stderr, r.stderr
