"""`tinydeploy plan MODEL`: the memory plan, its peak, and TFLM's arena measured in the same run."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from ..compile import compile_graph, load_model, plot_plan, step_rows
from ..errors import TinyDeployError
from ..evaluate import tflm_measure
from ..target import invoke_stack_bytes
from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, PATCH, PATCH_BUDGET, PLANNER, plan_options


@app.command()
def plan(model: Path = typer.Argument(..., help="The .tflite model."),
         planner: str = PLANNER, inplace: bool = INPLACE,
         patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
         input_outside: bool = INPUT_OUTSIDE,
         as_json: bool = typer.Option(False, "--json", help="Print a JSON summary only."),
         plot: Path = typer.Option(None, "--plot", help="Write a PNG of buffers over time x address."),
         tflm: bool = typer.Option(True, "--tflm/--no-tflm", help="Measure TFLM's arena for comparison.")) -> None:
    """Show the arena plan: live bytes per op, peak, lower bound, stack, and TFLM's arena."""
    g = load_model(model)
    options = plan_options(planner, inplace, patch, patch_budget, input_outside)
    m = compile_graph(g, options=options, source_name=model.name)
    p = m.plan
    g = m.graph  # after the passes (reordered, patched): the schedule that runs
    base, tflm_error = {"arena_head_bytes": None, "arena_total_bytes": None}, None
    if tflm:
        try:
            base = tflm_measure(model)
        except TinyDeployError as exc:  # our plan stands; TFLM's numbers are absent, and why is said
            tflm_error = exc.message
    summary = {
        "model": model.name, "sha256": g.sha256, "plan_options": p.options.describe(),
        "arena_bytes": p.arena_bytes, "io_bytes": p.io_bytes, "lower_bound_bytes": p.lower_bound_bytes,
        "scratch_bytes": p.scratch_bytes, "stack_bytes": invoke_stack_bytes(m),
        "float_io_outside_arena_bytes": sum(g.tensors[t].nbytes for t in g.external
                                            if g.tensors[t].dtype == "float32"),
        # the caller's buffers beside the arena (float edges; integer inputs with --input-outside-arena)
        "io_outside_arena_bytes": m.io_buffer_bytes,
        "input_outside_arena_bytes": sum(g.tensors[t].nbytes for t in g.inputs if t in g.external),
        "tflm_arena_head_bytes": base["arena_head_bytes"], "tflm_arena_total_bytes": base["arena_total_bytes"],
        "tflm_error": tflm_error,
        "optimal": p.optimal, "inplace_ops": p.inplace_ops,
        "patch": m.patch.as_dict() if m.patch else {"enabled": False, "reason": "off"},
    }
    if plot:
        plot_plan(g, p, plot, model.name)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    rows = step_rows(g, p)
    peak = max(rows, key=lambda r: r.live_bytes) if rows else None
    table = Table(title=f"memory plan of {model.name} ({p.options.describe()})")
    for col in ("#", "op", "live buffers", "live bytes", "outputs @ offset"):
        table.add_column(col, justify="right" if col in ("#", "live buffers", "live bytes") else "left")
    for r in rows:
        style = "bold yellow" if peak and r.index == peak.index else None
        table.add_row(str(r.index), r.kind, str(r.live_buffers), f"{r.live_bytes:,}", r.output_offsets, style=style)
    console.print(table)
    head = summary["tflm_arena_head_bytes"]
    console.print(f"arena [bold]{p.arena_bytes:,}[/] B (lower bound {p.lower_bound_bytes:,} B, "
                  f"{'optimal' if p.optimal else 'best found'}; in/out {p.io_bytes:,} B; scratch {p.scratch_bytes:,} B"
                  f" included; stack {summary['stack_bytes']} B)")
    if m.io_buffer_bytes:
        all_float = summary["float_io_outside_arena_bytes"] == m.io_buffer_bytes
        entry = f"{m.prefix}_invoke_{'f32' if all_float else 'io'}"
        console.print(f"{'float ' if all_float else ''}inputs/outputs outside the arena: {m.io_buffer_bytes:,} B "
                      f"(input {summary['input_outside_arena_bytes']:,} B; the caller's buffers with {entry}; the "
                      "arena holds only the integer tensors)", highlight=False)
    if peak:
        console.print(f"peak at op {peak.index} ({peak.kind}): {peak.live_bytes:,} B live")
    if tflm_error:
        console.print(f"[yellow]TFLM's arena not measured[/]: {tflm_error}", highlight=False, soft_wrap=True)
    elif head:
        console.print(f"TFLM arena head {head:,} B (total {summary['tflm_arena_total_bytes']:,} B): "
                      f"ours is [bold]{p.arena_bytes / head:.2f}x[/] of TFLM's head")
    pi = m.patch
    if pi is not None and pi.enabled:
        shape = "x".join(map(str, pi.split_shape[1:])) if pi.split_shape else "?"
        before = f", {pi.unpatched_arena_bytes:,} B without" if pi.unpatched_arena_bytes else ""
        console.print(f"patch: stage of {pi.stage_ops} ops up to op {pi.split_op} (output {shape}) in a "
                      f"{pi.grid[0]}x{pi.grid[1]} grid: arena {pi.arena_bytes:,} B{before}; MACs "
                      f"{pi.macs:,} -> {pi.patched_macs:,} (+{pi.extra_macs:,}, +{pi.macs_overhead:.1%}); "
                      + ("tiles read the input from the caller's buffer; " if pi.from_input else "") + pi.reason)
    elif pi is not None:
        console.print(f"patch: off ({pi.reason})")
    if plot:
        console.print(f"plot written to {plot}")
