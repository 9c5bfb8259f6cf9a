"""Kernel tests on a target: many random models in ONE firmware (tinydeploy.evaluate.baked), every output
compared with LiteRT. For kernel variants that only exist on a target (PlanOptions.kernels="arm-dsp", ...),
where the host runner of opcheck.py cannot check them.

    cases = variant_cases(lambda rng, i: conv_model(rng), seed=1, n=100, kernels="riscv")
    bad = failures_on_target(cases, "qemu-rv32", work_dir)   # one line per case that differs
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compile import CompiledModel
from ..evaluate import CaseRun, run_on_board

__all__ = ["CaseRun", "run_on_board", "run_in_batches", "differences", "variant_cases", "failures_on_target"]


def run_in_batches(models: list[CompiledModel], inputs: list[list[np.ndarray]], board: str, work: Path,
                   arena_budget: int = 180_000, **kwargs) -> list[CaseRun]:
    """run_on_board over as many firmwares as it takes for each one's arenas to fit the board's RAM."""
    runs: list[CaseRun] = []
    start, size = 0, 0
    for k, m in enumerate([*models, None]):
        if m is None or (size + m.arena_bytes > arena_budget and k > start):
            runs += run_on_board(models[start:k], inputs[start:k], board, Path(work) / f"fw{start}", **kwargs)
            start, size = k, 0
        if m is not None:
            size += m.arena_bytes
    return runs


def differences(cases: list[tuple[str, bytes, list[np.ndarray]]], runs: list[CaseRun]) -> list[str]:
    """One line per case (label, .tflite bytes, inputs) whose first output differs from LiteRT BUILTIN_REF's."""
    from ..evaluate import reference_outputs

    bad = []
    for (label, model, xs), run in zip(cases, runs):
        ref = reference_outputs(model, xs)[0]
        got = run.outputs[0].reshape(ref.shape)
        if (got != ref).any():
            idx = tuple(int(i) for i in np.argwhere(got != ref)[0])
            bad.append(f"{label}: at {idx} ours {got[idx]} LiteRT {ref[idx]} ({int((got != ref).sum())} differ)")
    return bad


def variant_cases(make, seed: int, n: int, samples: int = 2,
                  kernels: str = "arm-dsp") -> list[tuple[str, bytes, CompiledModel, list]]:
    """n random cases (label, model, compiled, inputs) for a kernel variant: make(rng, i) gives a model's
    .tflite bytes and label; greedy plans, a third of them byte-aligned and a third 4-aligned; `samples`
    random int8 inputs each."""
    from ..compile import PlanOptions, compile_graph, parse_model

    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        model, label = make(rng, i)
        m = compile_graph(parse_model(model, name=f"c{i}"), prefix=f"c{i}",
                          options=PlanOptions(planner="greedy", kernels=kernels, alignment=(16, 4, 1)[i % 3]))
        t = m.graph.tensors[m.graph.inputs[0]]
        cases.append((label, model, m, [rng.integers(-128, 128, (samples, *t.shape)).astype(np.int8)]))
    return cases


def failures_on_target(cases: list[tuple[str, bytes, CompiledModel, list]], board: str, work: Path) -> list[str]:
    """Run the cases in as few firmwares as fit the board; one line per case that differs from LiteRT."""
    runs = run_in_batches([m for _, _, m, _ in cases], [xs for *_, xs in cases], board, work)
    return differences([(label, model, xs) for label, model, _, xs in cases], runs)
