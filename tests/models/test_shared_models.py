"""Whole shared models (MLPerf Tiny KWS, ResNet-8, hello_world) vs LiteRT BUILTIN_REF, 0 bytes different."""
import numpy as np
import pytest
from conftest import TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host

MODELS = ["hello_world_int8", "kws_ref_model", "resnet8_int8"]


@pytest.mark.slow
@pytest.mark.parametrize("sanitize", [False, True], ids=["plain", "sanitize"])
@pytest.mark.parametrize("name", MODELS)
def test_shared_model_bit_exact(name, sanitize):
    path = TEST_MODELS / f"{name}.tflite"
    g = load_model(path)
    m = compile_graph(g)
    xs = random_inputs(g, 12, np.random.default_rng(sum(map(ord, name))))
    ours = build_host([m], sanitize=sanitize).run(0, xs)
    ref = reference_outputs(path, xs)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape
        assert np.array_equal(a, b), f"{int((a != b).sum())} of {a.size} output values differ"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kws_ref_model"])
def test_plan_without_inplace_is_also_exact(name):
    path = TEST_MODELS / f"{name}.tflite"
    g = load_model(path)
    m = compile_graph(g, options=PlanOptions(planner="greedy", inplace=False))
    xs = random_inputs(g, 6, np.random.default_rng(1))
    assert np.array_equal(build_host([m]).run(0, xs)[0], reference_outputs(path, xs)[0])
