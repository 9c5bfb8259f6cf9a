"""Patch-based inference on our models (models/: VWW-96 RGB and grayscale, digits CNN int8 /
float I/O / 16x8) and the shared MLPerf Tiny ones (ResNet-8: residual stages, DS-CNN KWS) vs
LiteRT BUILTIN_REF, sanitized (the arena is heap-allocated with exactly the
planned size, so a plan that overlaps live bytes or overflows shows up), all in one binary."""
import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host

CASES = [
    ("vww96_gray_int8.tflite", "auto"),
    ("vww96_int8.tflite", "auto"),
    ("vww96_int8.tflite", "7:3x2"),
    ("digits_cnn_int8.tflite", "auto"),
    ("digits_cnn_int8.tflite", "0:2x3"),
    ("digits_cnn_int8.tflite", "1:3x3"),
    ("digits_cnn_int8.tflite", "2:4x1"),
    ("digits_cnn_int8.tflite", "3:2x2"),
    ("digits_cnn_float_io.tflite", "3:2x2"),
    ("digits_16x8.tflite", "2:2x2"),
    ("digits_16x8.tflite", "3:4x4"),
    ("resnet8_int8.tflite", "auto"),
    ("resnet8_int8.tflite", "7:2x2"),
    ("kws_ref_model.tflite", "4:3x1"),
]


def _path(name):
    """Our models are in models/, the shared ones in tests/data/models; a missing one fails the test."""
    for p in (ROOT / "models" / name, TEST_MODELS / name):
        if p.exists():
            return p
    pytest.fail(f"{name} is in neither models/ nor tests/data/models", pytrace=False)


@pytest.fixture(scope="module")
def compiled():
    models = []
    for i, (name, spec) in enumerate(CASES):
        m = compile_graph(load_model(_path(name)), prefix=f"pm{i}", options=PlanOptions(patch=spec))
        models.append(m)
    return models


def test_patch_is_on_and_within_budget(compiled):
    for (name, spec), m in zip(CASES, compiled):
        assert m.patch is not None and m.patch.enabled, (name, spec, m.patch.reason)
        if spec == "auto":
            assert m.patch.macs_overhead <= 0.25 and m.arena_bytes < m.patch.unpatched_arena_bytes, name


def test_vww96_gray_auto_reaches_the_target(compiled):
    """Issue 5: with --patch auto <= 0.35x of TFLM's arena head (its activations, measured here with the
    tflite-micro package) on a 96x96 MobileNet-style VWW net."""
    from tinydeploy.evaluate.tflm import tflm_measure

    i = CASES.index(("vww96_gray_int8.tflite", "auto"))
    tflm_head = tflm_measure(_path("vww96_gray_int8.tflite"))["arena_head_bytes"]
    assert tflm_head > 0
    assert compiled[i].arena_bytes <= 0.35 * tflm_head, (compiled[i].arena_bytes, tflm_head)


def test_patched_models_bit_exact_sanitized(compiled):
    exe = build_host(compiled, sanitize=True)
    for i, ((name, spec), m) in enumerate(zip(CASES, compiled)):
        path = _path(name)
        xs = random_inputs(m.graph, 8, np.random.default_rng(i))
        if m.graph.tensors[m.graph.inputs[0]].dtype == "float32":
            xs = [np.random.default_rng(i).uniform(0, 1, x.shape).astype(np.float32) for x in xs]
        for a, b in zip(exe.run(i, xs), reference_outputs(path, xs)):
            assert np.array_equal(a.reshape(b.shape), b), f"{name} --patch {spec}: {int((a != b).sum())} differ"
