"""`tinydeploy run MODEL --board host --input X.npy --output Y.npy`: run generated C on a batch."""
from __future__ import annotations

from pathlib import Path

import typer

from ..compile import compile_graph, load_model
from ..errors import TinyDeployError
from ..evaluate import batch_outputs, load_inputs, save_outputs
from ..target import build_host
from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, PLANNER, board_plan_options


@app.command()
def run(model: Path = typer.Argument(..., help="The .tflite model."),
        input: Path = typer.Option(..., "--input", "-i", help=".npy [N, *shape] or .npz input_0, input_1, ... "
                                   "([N, *shape[1:]] when the batch dimension is 1: outputs [N, *out_shape[1:]])"),
        output: Path = typer.Option(..., "--output", "-o", help=".npy (output 0) or .npz output_0, ..."),
        board: str = typer.Option("host", "--board", help="Only 'host' runs here; see `tinydeploy boards`."),
        sanitize: bool = typer.Option(False, "--sanitize", help="Build with ASan+UBSan; arena heap-allocated "
                                                                 "with exactly the planned size."),
        planner: str = PLANNER, inplace: bool = INPLACE,
        patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
        input_outside: bool = INPUT_OUTSIDE, kernels: str = KERNELS) -> None:
    """Convert, compile with the host C compiler, run every sample, write the outputs."""
    if board != "host":
        raise TinyDeployError(f"`run` executes on the host only (got --board {board})",
                              "use --board host, or `tinydeploy eval` for boards")
    # arm-dsp: refused
    options = board_plan_options("host", planner, inplace, kernels, patch, patch_budget, input_outside)
    g = load_model(model)
    xs = load_inputs(input, len(g.inputs))
    m = compile_graph(g, options=options, source_name=model.name)
    outs = build_host([m], sanitize=sanitize).run(0, xs)
    save_outputs(output, batch_outputs(g, xs, outs))
    console.print(f"ran {xs[0].shape[0] if xs else 1} sample(s) of {model.name} on host "
                  f"({'sanitized, ' if sanitize else ''}arena {m.arena_bytes:,} B) -> {output}")
