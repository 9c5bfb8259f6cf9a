#!/usr/bin/env python3
"""Memory-plan benchmark: our arena (no sharing / views+in-place) vs TFLM's arena, measured in one run.

Per model: arena bytes with --no-inplace (greedy and exact), with in-place (exact), the live-set lower
bound, TFLM's arena head and total (tflite-micro pip, print_allocations), and the ratios.
Exits non-zero when a model fails or TFLM's arena cannot be measured (the error is printed per model).
Usage: benchmarks/plan_bench.py [MODEL.tflite ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

from bench_report import exit_code, geomean, model_table, reported
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile.compiler import compile_graph  # noqa: E402
from tinydeploy.compile.plan.arena import PlanOptions  # noqa: E402
from tinydeploy.compile.tflite.reader import load_model  # noqa: E402
from tinydeploy.evaluate.tflm import tflm_measure  # noqa: E402

DEFAULT_MODELS = sorted((ROOT / "tests" / "data" / "models").glob("*.tflite")) + \
    sorted((ROOT / "models").glob("*.tflite"))


def bench(path: Path) -> tuple[list[str], float, bool]:
    """One table row, ours/TFLM head, has depthwise layers; raises on any failure (no made-up row)."""
    g = load_model(path)
    plain = compile_graph(g, options=PlanOptions(planner="greedy", inplace=False))
    exact = compile_graph(g, options=PlanOptions(planner="exact", inplace=False))
    best = compile_graph(g, options=PlanOptions(planner="exact", inplace=True))
    base = tflm_measure(path)
    head = base["arena_head_bytes"]
    ratio = best.arena_bytes / head
    dw = any(op.kind == "DEPTHWISE_CONV_2D" for op in g.ops)
    row = [path.name + (" (dw)" if dw else ""), f"{plain.arena_bytes:,}", f"{exact.arena_bytes:,}",
           f"{best.arena_bytes:,}", f"{best.lower_bound_bytes:,}", f"{head:,}", f"{base['arena_total_bytes']:,}",
           f"{ratio:.3f}"]
    return row, ratio, dw


def main() -> int:
    models = [Path(p) for p in sys.argv[1:]] or DEFAULT_MODELS
    table = model_table("arena bytes: tinydeploy vs TFLM (same run)",
                        ("model", "greedy, no sharing", "exact, no sharing", "exact + in-place", "lower bound",
                         "TFLM head", "TFLM total", "ours/TFLM head"))
    ratios, dw, failed = {}, [], []
    for path in models:
        with reported(failed, path.name, table):
            row, ratios[path.name], has_dw = bench(path)
            table.add_row(*row)
            if has_dw:
                dw.append(ratios[path.name])
    Console(width=160).print(table)
    if dw:
        print(f"geometric mean ours/TFLM head over CNNs with depthwise layers: {geomean(dw):.3f} ({len(dw)} models)")
    if ratios:
        print(f"max ours/TFLM head over all models: {max(ratios.values()):.3f}")
    return exit_code(failed)


if __name__ == "__main__":
    sys.exit(main())
