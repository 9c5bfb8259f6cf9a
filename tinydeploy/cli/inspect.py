"""`tinydeploy inspect MODEL`: ops, shapes, quantization, MACs, weights, planned arena."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..compile import float_model_error, load_model, op_rows
from ..errors import UnsupportedModelError
from . import app, console


@app.command()
def inspect(model: Path = typer.Argument(..., help="The .tflite model.")) -> None:
    """Show every op with shapes, quantization, MACs and weight bytes; flag unsupported ops."""
    g = load_model(model)
    rows = op_rows(g)
    table = Table(title=f"{model.name}  (sha256 {g.sha256[:12]}…)")
    for col in ("#", "op", "inputs", "outputs", "quantization", "MACs", "weights B", "status"):
        table.add_column(col, justify="right" if col in ("#", "MACs", "weights B") else "left")
    for r in rows:
        status = "[green]ok[/]" if r.problem is None else f"[red]{r.problem}[/]"
        table.add_row(str(r.index), r.kind, r.inputs, r.outputs, r.quant, f"{r.macs:,}", f"{r.weight_bytes:,}",
                      status)
    console.print(table)
    bad = [r for r in rows if r.problem]
    console.print(f"{len(rows)} ops, {sum(r.macs for r in rows):,} MACs, "
                  f"{sum(r.weight_bytes for r in rows):,} bytes of weights")
    if bad:
        float_error = float_model_error(g)
        if float_error is not None:
            raise float_error
        kinds = sorted({r.kind for r in bad})
        raise UnsupportedModelError(f"{len(bad)} op(s) cannot be compiled: {', '.join(kinds)}",
                                    "see the status column above")
    from ..compile import compile_graph

    m = compile_graph(g)
    console.print(f"planned arena: [bold]{m.arena_bytes:,}[/] bytes "
                  f"(live-set lower bound {m.lower_bound_bytes:,}, planner {m.options.planner})")
