"""`tinydeploy monitor --board B | --port P [--model M] [--inputs X]`: the model on the board, live."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from . import app, console, err_console
from ._options import INPLACE, INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, PLANNER, REFERENCE, board_plan_options


@app.command()
def monitor(board: str = typer.Option(None, "--board", "-b", help="Board id; emulated boards are started here."),
            port: str = typer.Option(None, "--port", "-p", help="A board/emulator already running the firmware."),
            model: Path = typer.Option(None, "--model", "-m", help="The .tflite (with --port: found from the "
                                                                   "board's SHA-256 if it was flashed here)."),
            inputs: str = typer.Option(None, "--inputs", "-i", help=".npy/.npz/FILE.npz:KEY; default: random."),
            labels: str = typer.Option(None, "--labels", "-l", help="Labels for the running accuracy."),
            count: int = typer.Option(None, "--count", "-n", help="Stop after N samples (default: until Ctrl-C)."),
            plain: bool = typer.Option(False, "--plain", help="One text line per sample (logs)."),
            json_out: bool = typer.Option(False, "--json", help="JSON lines: one per sample, then a summary."),
            no_reference: bool = typer.Option(False, "--no-reference", hidden=True, help="= --reference none."),
            reference: str = REFERENCE,
            project_dir: Path = typer.Option(None, "--project-dir", help="Firmware project folder."),
            planner: str = PLANNER, inplace: bool = INPLACE, kernels: str = KERNELS,
            patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
            input_outside: bool = INPUT_OUTSIDE) -> None:
    """Stream samples to the board and watch speed, memory, accuracy and agreement with the reference."""
    import numpy as np

    from ..evaluate import choose_reference, load_arrays, load_labels, prepare_inputs, random_inputs, run_monitor
    from ..link import open_session

    if plain and json_out:
        raise typer.BadParameter("--plain or --json, not both")
    mode = "json" if json_out else "plain" if plain or not console.is_terminal else "live"
    quiet = mode == "json"
    ref_mode = "none" if no_reference else reference
    # decided before anything is built; with --port and no --model, once the board names its model
    oracle = choose_reference(model, ref_mode) if model is not None else None
    opts = board_plan_options(board, planner, inplace, kernels, patch, patch_budget, input_outside)
    with open_session(model, board, port, opts, project_dir,
                      log=(lambda m: None) if quiet else (lambda m: err_console.print(f"[dim]{m}[/]",
                                                                                      highlight=False))) as s:
        g = s.model.graph
        xs = prepare_inputs(g, load_arrays(inputs, len(g.inputs))) if inputs else \
            random_inputs(g, 64, np.random.default_rng(0))
        ys = load_labels(labels) if labels else None
        if ys is not None and ys.shape[0] != xs[0].shape[0]:
            raise typer.BadParameter(f"{ys.shape[0]} labels for {xs[0].shape[0]} samples")
        emit = (lambda line: print(line, flush=True)) if mode != "live" else None
        oracle = oracle or choose_reference(s.model_path, ref_mode)
        if oracle.note and not quiet:
            err_console.print(f"[yellow]reference: {oracle.note}[/]", highlight=False)
        st = run_monitor(s, xs, ys, count, mode, reference=oracle, emit=emit, console=console)
    summary = st.summary()
    if mode == "json":
        print(json.dumps({"summary": summary}), flush=True)
    elif mode == "plain":
        from ..evaluate import render
        console.print(render(st, f"{s.model_path.name} on {s.hello.name}: {st.n} samples"))
