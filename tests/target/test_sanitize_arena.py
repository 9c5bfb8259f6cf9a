"""`run --sanitize` heap-allocates the arena with exactly the planned size: ASan must catch a kernel that
writes past it. Shown with an arena 16 bytes short (build_host(arena_short_bytes=16)), and that the exact
size runs clean and bit-exact."""
import numpy as np
import pytest
from conftest import TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host

MODEL = TEST_MODELS / "kws_ref_model.tflite"  # the top of its arena is written by a depthwise kernel


@pytest.fixture(scope="module")
def kws():
    m = compile_graph(load_model(MODEL))
    return m, random_inputs(m.graph, 2, np.random.default_rng(3))


def test_arena_16_bytes_short_is_caught(kws):
    m, xs = kws
    with pytest.raises(TinyDeployError) as exc:
        build_host([m], sanitize=True, arena_short_bytes=16).run(0, xs)
    msg = exc.value.message
    assert "SUMMARY: AddressSanitizer: heap-buffer-overflow" in msg, msg
    assert "located 0 bytes to the right of" in msg and f"{m.arena_bytes - 16}-byte region" in msg, msg
    assert " in td_" in msg.splitlines()[0], msg  # in a kernel, not in the runner's fread of the input


def test_exact_arena_passes_sanitized(kws):
    m, xs = kws
    ours = build_host([m], sanitize=True).run(0, xs)[0]
    assert np.array_equal(ours.reshape(2, -1), reference_outputs(MODEL, xs)[0].reshape(2, -1))
