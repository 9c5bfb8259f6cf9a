#!/usr/bin/env python3
"""Memory-plan benchmark: our arena (no sharing / views+in-place) vs TFLM's arena, measured in one run.

Per model: arena bytes with --no-inplace (greedy and exact), with in-place (exact), the live-set lower
bound, TFLM's arena head and total (tflite-micro pip, print_allocations), and the ratios.
Exits non-zero when a model fails or TFLM's arena cannot be measured (the error is printed per model).
Usage: benchmarks/plan_bench.py [MODEL.tflite ...]
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

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
    table = Table(title="arena bytes: tinydeploy vs TFLM (same run)")
    for col in ("model", "greedy, no sharing", "exact, no sharing", "exact + in-place", "lower bound",
                "TFLM head", "TFLM total", "ours/TFLM head"):
        table.add_column(col, justify="left" if col == "model" else "right")
    ratios, dw, failed = {}, [], []
    for path in models:
        try:
            row, ratios[path.name], has_dw = bench(path)
        except Exception as exc:  # report it, go on with the other models, exit non-zero at the end
            failed.append(path.name)
            table.add_row(path.name, "[red]FAILED[/]", *[""] * 6)
            print(f"{path.name}: error: {exc}", file=sys.stderr, flush=True)
            continue
        table.add_row(*row)
        if has_dw:
            dw.append(ratios[path.name])
    Console(width=160).print(table)
    if dw:
        print(f"geometric mean ours/TFLM head over CNNs with depthwise layers: "
              f"{math.exp(sum(math.log(r) for r in dw) / len(dw)):.3f} ({len(dw)} models)")
    if ratios:
        print(f"max ours/TFLM head over all models: {max(ratios.values()):.3f}")
    if failed:
        print(f"FAILED: {len(failed)} model(s) without a row: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
