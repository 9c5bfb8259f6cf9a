"""The batch rule of `run` and `eval --save-outputs`: for a model with batch dimension 1, inputs [N, *shape[1:]]
give outputs [N, *out_shape[1:]] (the batch axis replaced, as Keras' predict); inputs [N, *shape] keep
[N, *out_shape]."""
import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli
from reference_standin import relu_640

from tinydeploy.compile import load_model
from tinydeploy.evaluate import batch_outputs


@pytest.fixture(scope="module")
def relu(tmp_path_factory):
    return relu_640(tmp_path_factory.mktemp("batch") / "relu_640.tflite")


@pytest.mark.parametrize("shape,out", [((7, 640), (7, 640)), ((7, 1, 640), (7, 1, 640)), ((1, 640), (1, 640))])
def test_run_replaces_the_batch_axis_only_when_the_inputs_do(relu, tmp_path, shape, out):
    x = np.random.default_rng(3).integers(-128, 128, shape).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    r = cli("run", relu, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert r.returncode == 0, r.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.shape == out and np.array_equal(y.reshape(-1), np.maximum(x, -10).reshape(-1))


def test_batch_outputs_rule():
    g = load_model(DIGITS)  # input [1, 8, 8, 1], output [1, 10]
    outs = [np.zeros((4, 1, 10), np.int8)]
    assert batch_outputs(g, [np.zeros((4, 8, 8, 1))], outs)[0].shape == (4, 10)
    assert batch_outputs(g, [np.zeros((4, 1, 8, 8, 1))], outs)[0].shape == (4, 1, 10)
    assert batch_outputs(g, [np.zeros((4, 64))], outs)[0].shape == (4, 1, 10)  # not [N, *shape[1:]]: kept


def test_eval_save_outputs_follows_the_rule(tmp_path):
    x = np.load(DIGITS_DATA)["x_int8"][:6]  # [6, 8, 8, 1]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "x5.npy", x[:, None])  # [6, 1, 8, 8, 1]
    for name, want in (("x", (6, 10)), ("x5", (6, 1, 10))):
        r = cli("eval", DIGITS, "--board", "host", "--inputs", tmp_path / f"{name}.npy", "--save-outputs",
                tmp_path / f"y_{name}.npy")
        assert r.returncode == 0, r.stderr
        assert np.load(tmp_path / f"y_{name}.npy").shape == want
    assert np.array_equal(np.load(tmp_path / "y_x.npy"), np.load(tmp_path / "y_x5.npy").reshape(6, 10))
