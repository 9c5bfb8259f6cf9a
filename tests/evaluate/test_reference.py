"""--reference auto|litert|tflm|none: a model LiteRT refuses (per-channel biases with quantized_dimension 3, as
TFLM's person_detect) is checked against TFLM's interpreter, decided before anything is built."""
import json

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli
from reference_standin import bias_axis_3

from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import choose_reference, reference_outputs


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    return bias_axis_3(DIGITS, tmp_path_factory.mktemp("standin") / "digits_bias_axis3.tflite")


def digits(n):
    return [np.load(DIGITS_DATA)["x_int8"][:n]]


def test_auto_falls_back_to_tflm_when_litert_refuses(standin):
    oracle = choose_reference(standin, "auto")
    assert oracle.kind == "tflm" and oracle.checked
    assert "LiteRT refused the model: quantized_dimension" in oracle.note and "TFLM" in oracle.note
    assert choose_reference(DIGITS, "auto").kind == "litert" and choose_reference(DIGITS).note == ""
    with pytest.raises(TinyDeployError, match="LiteRT refused the model: quantized_dimension must be in range"):
        choose_reference(standin, "litert")
    assert choose_reference(standin, "tflm").kind == "tflm"
    none = choose_reference(standin, "none")
    assert not none.checked and none.outputs(digits(2)) is None and "unchecked" in none.note
    with pytest.raises(TinyDeployError, match="unknown reference 'tflite'"):
        choose_reference(standin, "tflite")


def test_tflm_outputs_equal_litert_on_the_unpatched_model(standin):
    """The patch changes nothing TFLM computes: its outputs are LiteRT's of the original, byte for byte."""
    xs = digits(40)
    want = reference_outputs(DIGITS, xs)
    got = choose_reference(standin).outputs(xs)
    assert len(got) == 1 and got[0].dtype == np.int8 and got[0].shape == want[0].shape == (40, 1, 10)
    assert np.array_equal(got[0], want[0])
    sample = choose_reference(standin).sampler(xs, chunk=16)  # the monitor's one-at-a-time view
    assert all(sample(k) == [want[0][k].tobytes()] for k in (0, 15, 16, 39))


def test_nothing_runs_it_means_unchecked_with_a_note():
    oracle = choose_reference(b"not a flatbuffer" * 8, "auto")
    assert oracle.kind == "none" and "LiteRT refused" in oracle.note and "TFLM refused" in oracle.note
    with pytest.raises(TinyDeployError, match="TFLM refused the model"):
        choose_reference(b"not a flatbuffer" * 8, "tflm")


def test_eval_on_host_says_which_reference(standin, tmp_path):
    r = cli("eval", standin, "--board", "host", "--inputs", f"{DIGITS_DATA}:x_int8", "--labels", f"{DIGITS_DATA}:y",
            "--limit", "50", "--json", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["reference"]["name"] == "tflm" and "quantized_dimension" in rep["reference"]["note"]
    assert rep["bit_exact"] == {"checked": True, "reference": "tflm", "agree": 50, "all": True,
                                "mismatched_samples": []}
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"] > 0.9
    assert "reference    TFLM's interpreter" in r.stdout and "50/50 samples identical to TFLM" in r.stdout

    r = cli("eval", standin, "--board", "host", "--inputs", f"{DIGITS_DATA}:x_int8", "--limit", "5",
            "--reference", "none", "--json", tmp_path / "n.json")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "n.json").read_text())
    assert rep["bit_exact"]["checked"] is False and rep["reference"]["name"] == "none"
    assert "bit-exact    unchecked" in r.stdout and "exactness is unchecked" in r.stdout


def test_litert_refusal_stops_before_anything_is_built(standin, tmp_path):
    for cmd in (["eval", standin, "--inputs", f"{DIGITS_DATA}:x_int8"], ["monitor", "--model", standin],
                ["test", standin]):
        r = cli(*cmd, "--board", "qemu-m4", "--reference", "litert", "--project-dir" if cmd[0] != "test"
                else "--build-dir", tmp_path / cmd[0])
        assert r.returncode == 1, (cmd[0], r.stdout, r.stderr)
        assert "LiteRT refused the model: quantized_dimension must be in range" in r.stderr, r.stderr
        assert "--reference tflm" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / cmd[0]).exists()  # no firmware project was even started


def test_monitor_on_host_checks_against_tflm(standin):
    r = cli("monitor", "--board", "host", "--model", standin, "--inputs", f"{DIGITS_DATA}:x_int8", "--count",
            "20", "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert all(ln["bit_exact"] is True for ln in lines[:-1]) and len(lines) == 21
    s = lines[-1]["summary"]
    assert s["reference"]["name"] == "tflm" and s["bit_exact"] == {"agree": 20, "checked": 20, "reference": "tflm"}


def test_test_command_on_host_checks_against_tflm(standin, tmp_path):
    r = cli("test", standin, "--board", "host", "--samples", "6", "--json", tmp_path / "t.json",
            "--build-dir", tmp_path / "hil")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reference TFLM's interpreter" in r.stdout
    report = json.loads((tmp_path / "t.json").read_text())
    tests = {t["nodeid"].split("::")[-1].split("[")[0]: t for t in report["tests"]}
    assert tests["test_bit_exact"]["outcome"] == "passed"
    assert tests["test_bit_exact"]["properties"]["tinydeploy_metrics"]["reference"]["name"] == "tflm"


def test_hil_target_checks_a_deployment_against_its_reference(standin, tmp_path):
    """What the plugin's --reference sets (Target.reference): chosen at deploy, before the firmware is built."""
    from tinydeploy.hil.targets import LocalTarget

    t = LocalTarget("host", build_dir=tmp_path / "hil")
    try:
        d = t.deploy(standin)
        assert d.oracle.kind == "tflm"
        xs = digits(8)
        assert np.array_equal(d.run(xs).outputs[0], d.reference(xs)[0])
        assert np.array_equal(d.reference(xs)[0], reference_outputs(DIGITS, xs)[0])
        e = d.eval(xs)
        assert e.bit_exact and e.report["reference"]["name"] == "tflm"
        assert t.reset().oracle is d.oracle
        t.reference = "none"
        t.release_deployment()
        d = t.deploy(standin)
        assert not d.eval(xs).report["bit_exact"]["checked"]
        with pytest.raises(TinyDeployError, match="no reference for digits_bias_axis3.tflite: --reference none"):
            d.reference(xs)
        t.reference = "litert"
        t.release_deployment()
        with pytest.raises(TinyDeployError, match="LiteRT refused the model"):
            t.deploy(standin)
        assert t.current is None
    finally:
        t.close()
