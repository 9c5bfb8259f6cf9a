"""On qemu-m4: a model LiteRT refuses (the person_detect stand-in: biases with quantized_dimension 3) runs
bit-exact against TFLM's interpreter in eval, monitor and test; eval and monitor print time beside the
instruction count (an estimate at the profile's 25 MHz) and report "mean_us"."""
import json

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli
from reference_standin import bias_axis_3

from tinydeploy.evaluate import time_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    return bias_axis_3(DIGITS, tmp_path_factory.mktemp("standin") / "digits_bias_axis3.tflite")


def test_eval_monitor_and_test_on_qemu_m4_against_tflm(standin, tmp_path):
    proj = tmp_path / "fw"
    r = cli("eval", standin, "--board", "qemu-m4", "--inputs", f"{DIGITS_DATA}:x_int8", "--labels",
            f"{DIGITS_DATA}:y", "--limit", "60", "--json", tmp_path / "r.json", "--project-dir", proj, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["reference"]["name"] == "tflm" and rep["bit_exact"]["all"] and rep["bit_exact"]["agree"] == 60
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"]
    lat = rep["latency"]
    assert lat["unit"] == "instructions" and rep["clock_hz"] == 25_000_000
    assert lat["mean_us"] == pytest.approx(lat["mean"] / 25) and lat["time_estimate"] is True
    assert f"time         mean {time_text(lat['mean'], 25_000_000)}\n" in r.stdout, r.stdout
    assert time_text(lat["mean"], 25_000_000).endswith(" ms at 25 MHz (estimate: 1 instruction per cycle)")
    assert "60/60 samples identical to TFLM" in r.stdout

    r = cli("monitor", "--board", "qemu-m4", "--model", standin, "--inputs", f"{DIGITS_DATA}:x_int8", "--count",
            "12", "--json", "--project-dir", proj, timeout=900)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.splitlines()[-1])["summary"]
    assert s["reference"]["name"] == "tflm" and s["bit_exact"] == {"agree": 12, "checked": 12, "reference": "tflm"}
    assert s["latency"]["mean_us"] == pytest.approx(s["latency"]["mean"] / 25)
    r = cli("monitor", "--board", "qemu-m4", "--model", standin, "--count", "3", "--plain", "--project-dir", proj,
            timeout=900)
    assert r.returncode == 0 and "at 25 MHz (estimate: 1 instruction per cycle)" in r.stdout, r.stdout + r.stderr

    r = cli("test", standin, "--board", "qemu-m4", "--samples", "8", "--json", tmp_path / "t.json",
            "--build-dir", tmp_path / "hil", timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reference TFLM's interpreter" in r.stdout and "at 25 MHz (estimate" in r.stdout
    report = json.loads((tmp_path / "t.json").read_text())
    tests = {t["nodeid"].split("::")[-1].split("[")[0]: t for t in report["tests"]}
    assert tests["test_bit_exact"]["outcome"] == "passed"
    assert np.isfinite(tests["test_bit_exact"]["properties"]["tinydeploy_metrics"]["latency_mean"])
