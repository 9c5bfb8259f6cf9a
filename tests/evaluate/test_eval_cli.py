"""`tinydeploy eval` as a command (host board: fast), its report files and input handling."""
import json

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli, public_model

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.data import load_labels, prepare_inputs, quantize, split_key


def test_eval_host_reports(tmp_path):
    r = cli("eval", DIGITS, "--board", "host", "--inputs", f"{DIGITS_DATA}:x_int8", "--labels", f"{DIGITS_DATA}:y",
            "--json", tmp_path / "r.json", "--plot", tmp_path / "r.png", "--save-outputs", tmp_path / "y.npy")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["samples"] == 360 and rep["bit_exact"]["all"]
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"] > 0.95
    assert rep["latency"]["unit"] == "µs" and len(rep["counts"]) == 360
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.load(tmp_path / "y.npy").shape == (360, 10)  # inputs [N, 8, 8, 1] for [1, 8, 8, 1]: batch axis replaced
    assert rep["reference"]["name"] == "litert" and rep["latency"]["mean_us"] == rep["latency"]["mean"]
    assert "accuracy     device" in r.stdout and "bit-exact    360/360 samples identical to LiteRT" in r.stdout
    assert not list(tmp_path.glob(".*"))  # atomic writes leave no temp files


def test_float_inputs_are_quantized_like_the_shipped_int8():
    data = np.load(DIGITS_DATA)
    g = load_model(DIGITS)
    (q,) = prepare_inputs(g, [data["x_float"]])
    assert q.dtype == np.int8 and q.shape == (360, 1, 8, 8, 1) and np.array_equal(q.ravel(), data["x_int8"].ravel())


def test_quantize_rounds_half_away_and_clamps():
    assert quantize(np.array([0.5, -0.5, 1.5, 1000.0, -1000.0]), 1.0, 0, np.int8).tolist() == [1, -1, 2, 127, -128]


def test_input_and_label_errors(tmp_path):
    g = load_model(DIGITS)
    with pytest.raises(TinyDeployError, match="must be int8"):
        prepare_inputs(g, [np.zeros((2, 8, 8, 1), np.complex64)])
    with pytest.raises(TinyDeployError, match="is not"):
        prepare_inputs(g, [np.zeros((2, 7), np.int8)])
    assert split_key(f"{DIGITS_DATA}:y") == (DIGITS_DATA, "y") and split_key("a.npy") == (split_key("a.npy")[0], None)
    assert load_labels(f"{DIGITS_DATA}:y").shape == (360,)
    r = cli("eval", DIGITS, "--board", "host", "--inputs", f"{DIGITS_DATA}:nope")
    assert r.returncode == 1 and "has no array 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = cli("eval", DIGITS, "--inputs", f"{DIGITS_DATA}:x_int8")
    assert r.returncode == 1 and "--board B or --port P" in r.stderr


def test_eval_refuses_a_board_running_another_model(tmp_path):
    """--port to a device that runs digits, eval asked for hello_world: stale firmware is refused."""
    from tinydeploy.compile.compiler import compile_graph
    from tinydeploy.target.host_device import HostDevice, build_host_device

    with HostDevice(build_host_device(compile_graph(load_model(DIGITS)))) as dev:
        np.save(tmp_path / "x.npy", np.zeros((2, 1, 1), np.float32))
        r = cli("eval", public_model("hello_world_int8"), "--port", dev.url, "--inputs", tmp_path / "x.npy")
    assert r.returncode == 1 and "runs another model" in r.stderr
