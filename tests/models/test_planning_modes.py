"""Every planning mode stays bit-exact (issue 14): each repo model (models/, tests/data/models/) compiled with the
default plan, the greedy planner, no in-place/no PAD folding/float edges in the arena, and patches from the input
(--patch auto --patch-budget 0.35 --input-outside-arena), all in ONE sanitized host binary that heap-allocates
exactly the planned arena, against LiteRT BUILTIN_REF on 100 random inputs per model and mode."""
import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile import PlanOptions, compile_graph, load_model
from tinydeploy.evaluate import random_inputs, reference_outputs
from tinydeploy.target.host import build_host

MODELS = sorted((ROOT / "models").glob("*.tflite")) + sorted(TEST_MODELS.glob("*.tflite"))
MODES = {
    "default": PlanOptions(),
    "greedy": PlanOptions(planner="greedy"),
    "plain": PlanOptions(inplace=False, fold_pad=False, float_io_outside=False),
    "patch-from-input": PlanOptions(patch="auto", patch_budget=0.35, input_outside_arena=True),
}
SAMPLES = 100


def _inputs(m, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = random_inputs(m.graph, SAMPLES, rng)
    return [rng.uniform(-1, 1, x.shape).astype(np.float32) if x.dtype == np.float32 else x for x in xs]


@pytest.mark.slow
def test_every_planning_mode_is_bit_exact_sanitized():
    assert len(MODELS) >= 8, MODELS
    cases = [(path, mode, compile_graph(load_model(path), prefix=f"pm{i}", options=opts))
             for i, (path, (mode, opts)) in enumerate((p, mo) for p in MODELS for mo in MODES.items())]
    patched = [path.name for path, mode, m in cases if mode == "patch-from-input" and m.patch and m.patch.enabled]
    assert "mcunet_like_80_float_io.tflite" in patched, patched   # the mode really patches somewhere
    exe = build_host([m for _, _, m in cases], sanitize=True)
    bad = []
    for i, (path, mode, m) in enumerate(cases):
        xs = _inputs(m, i // len(MODES))          # the same inputs for every mode of a model
        for k, (a, b) in enumerate(zip(exe.run(i, xs), reference_outputs(path, xs))):
            if not np.array_equal(a.reshape(b.shape), b):
                bad.append(f"{path.name} [{mode}] output {k}: {int((a.reshape(b.shape) != b).sum())} values differ")
    assert bad == []
