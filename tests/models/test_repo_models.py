"""Our own models (models/: digits CNN int8 / float I/O / 16x8, MLP, VWW-96) vs LiteRT, sanitized.

The sanitized build heap-allocates exactly the planned arena, so any plan overlap (views, in-place,
row-streaming overlap) that corrupts data or overflows is caught.
"""
import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host

MODELS = sorted(p.name for p in (ROOT / "models").glob("*.tflite"))


@pytest.mark.slow
@pytest.mark.parametrize("name", MODELS)
def test_repo_model_bit_exact_sanitized(name):
    path = ROOT / "models" / name
    g = load_model(path)
    m = compile_graph(g)
    xs = random_inputs(g, 10, np.random.default_rng(len(name)))
    if g.tensors[g.inputs[0]].dtype == "float32":
        xs = [np.random.default_rng(0).uniform(0, 1, x.shape).astype(np.float32) for x in xs]
    for a, b in zip(build_host([m], sanitize=True).run(0, xs), reference_outputs(path, xs)):
        assert np.array_equal(a, b), f"{int((a != b).sum())} of {a.size} values differ"


def test_digits_accuracy_equals_host_reference():
    data = np.load(ROOT / "models" / "digits_test.npz")
    path = ROOT / "models" / "digits_cnn_int8.tflite"
    m = compile_graph(load_model(path))
    ours = build_host([m]).run(0, [data["x_int8"]])[0]
    ref = reference_outputs(path, [data["x_int8"]])[0]
    assert np.array_equal(ours, ref)
    accuracy = float((ours.reshape(len(data["y"]), -1).argmax(1) == data["y"]).mean())
    assert accuracy > 0.9
