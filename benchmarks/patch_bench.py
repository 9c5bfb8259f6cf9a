#!/usr/bin/env python3
"""Patch-based inference benchmark: arena without sharing / with in-place sharing / with
--patch auto, the live-set lower bound, TFLM's arena (tflite-micro pip, print_allocations),
ratios, the extra MACs of patching, and bit-exactness of the patched C vs LiteRT BUILTIN_REF on
random inputs (100 per model by default), all measured in one run.

Usage: benchmarks/patch_bench.py [MODEL.tflite ...] [--samples N] [--budget 0.25] [--sanitize]
(default models: models/vww96_int8.tflite, models/vww96_gray_int8.tflite, digits_cnn_int8 and the
MLPerf Tiny / TFLM reference models in tests/data/models).
Exits non-zero when a model fails, TFLM's arena cannot be measured or the patched C is not bit-exact (the
error is printed per model).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from bench_report import exit_code, fail, geomean, model_table, reported
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile.compiler import compile_graph  # noqa: E402
from tinydeploy.compile.plan.arena import PlanOptions  # noqa: E402
from tinydeploy.compile.tflite.reader import load_model  # noqa: E402
from tinydeploy.evaluate.reference import reference_outputs  # noqa: E402
from tinydeploy.evaluate.tflm import tflm_measure  # noqa: E402
from tinydeploy.target.host import build_host  # noqa: E402
from tinydeploy.testing.opcheck import random_inputs  # noqa: E402

DEFAULT_MODELS = [ROOT / "models" / n for n in ("vww96_int8.tflite", "vww96_gray_int8.tflite",
                                                 "digits_cnn_int8.tflite")] + \
    sorted((ROOT / "tests" / "data" / "models").glob("*.tflite"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--samples", type=int, default=100, help="random inputs per model for the exactness check")
    ap.add_argument("--budget", type=float, default=0.25, help="--patch auto MAC budget (0.25 = +25%%)")
    ap.add_argument("--sanitize", action="store_true", help="check with an ASan+UBSan build")
    args = ap.parse_args()
    models = args.models or [p for p in DEFAULT_MODELS if p.exists()]
    console = Console(width=200)
    rows, compiled, failed = [], [], []
    for path in models:
        with reported(failed, path.name):
            g = load_model(path)
            t0 = time.perf_counter()
            off = compile_graph(g, options=PlanOptions(inplace=False))
            inplace = compile_graph(g, options=PlanOptions())
            patched = compile_graph(g, prefix=f"bench{len(compiled)}",
                                    options=PlanOptions(patch="auto", patch_budget=args.budget))
            seconds = time.perf_counter() - t0
            base = tflm_measure(path)
            rows.append((path, g, off, inplace, patched, base, seconds))
            compiled.append(patched)

    exact: dict[str, str] = {}
    if compiled and args.samples > 0:
        exe = build_host(compiled, sanitize=args.sanitize)
        for i, (path, g, *_rest) in enumerate(rows):
            xs = random_inputs(g, args.samples, np.random.default_rng(i))
            if g.tensors[g.inputs[0]].dtype == "float32":
                xs = [np.random.default_rng(i).uniform(0, 1, x.shape).astype(np.float32) for x in xs]
            try:
                ours, ref = exe.run(i, xs), reference_outputs(path, xs)
            except Exception as exc:
                fail(failed, path.name, exc)
                exact[path.name] = "[red]FAILED[/]"
                continue
            bad = sum(int((a.reshape(b.shape) != b).sum()) for a, b in zip(ours, ref))
            exact[path.name] = f"{args.samples}/{args.samples}" if bad == 0 else f"{bad} values differ"
            if bad:
                fail(failed, path.name, AssertionError(f"{bad} output values differ from LiteRT BUILTIN_REF"))

    table = model_table(f"arena bytes: no sharing / in-place / --patch auto (budget +{args.budget:.0%} MACs) "
                        "vs TFLM (same run)",
                        ("model", "no sharing", "in-place", "patch auto", "lower bound", "TFLM head", "in-place/TFLM",
                         "patch/TFLM", "split, grid", "extra MACs", "bit-exact" + (" (ASan)" if args.sanitize else "")),
                        left=("model", "split, grid"))
    ratios = []
    for path, g, off, inplace, patched, base, seconds in rows:
        head = base["arena_head_bytes"]
        pi = patched.patch
        where = f"op {pi.split_op} {pi.split_shape[1]}x{pi.split_shape[2]}x{pi.split_shape[3]}, " \
                f"{pi.grid[0]}x{pi.grid[1]}" if pi.enabled else "off"
        r_in, r_pa = inplace.arena_bytes / head, patched.arena_bytes / head
        ratios.append((path.name, r_in, r_pa))
        table.add_row(path.name, f"{off.arena_bytes:,}", f"{inplace.arena_bytes:,}", f"{patched.arena_bytes:,}",
                      f"{patched.lower_bound_bytes:,}", f"{head:,}", f"{r_in:.3f}", f"{r_pa:.3f}", where,
                      f"+{pi.macs_overhead:.1%}" if pi.enabled else "-", exact.get(path.name, "-"))
    console.print(table)
    for path, g, off, inplace, patched, base, seconds in rows:
        pi = patched.patch
        if pi.enabled:
            print(f"{path.name}: MACs {pi.macs:,} -> {pi.patched_macs:,}; graph in+out {patched.plan.io_bytes:,} B; "
                  f"{pi.reason}")
        else:
            print(f"{path.name}: patch off ({pi.reason})")
    for name in sorted(set(failed) - {path.name for path, *_ in rows}):
        print(f"{name}: no row (see its error above)")
    if ratios:
        print(f"geometric mean patch/TFLM head over {len(ratios)} models: {geomean(r for _, _, r in ratios):.3f}")
    return exit_code(failed, "model(s)")


if __name__ == "__main__":
    sys.exit(main())
