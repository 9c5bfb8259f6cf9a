"""The digits model's accuracy on its test set equals LiteRT's (every repo model in every planning mode is
checked bit for bit, sanitized, in test_planning_modes.py)."""
import numpy as np
from conftest import ROOT

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host


def test_digits_accuracy_equals_host_reference():
    data = np.load(ROOT / "models" / "digits_test.npz")
    path = ROOT / "models" / "digits_cnn_int8.tflite"
    m = compile_graph(load_model(path))
    ours = build_host([m]).run(0, [data["x_int8"]])[0]
    ref = reference_outputs(path, [data["x_int8"]])[0]
    assert np.array_equal(ours, ref)
    accuracy = float((ours.reshape(len(data["y"]), -1).argmax(1) == data["y"]).mean())
    assert accuracy > 0.9
