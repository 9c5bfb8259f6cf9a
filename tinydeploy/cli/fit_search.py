"""`tinydeploy fit-search BUILDER --data train.npz --board B`: resolution x width candidates of a Keras model
builder, each checked against the board with `fit`'s analysis, the ones that fit trained briefly and measured in
int8 (tinydeploy.quantize.search). A command of its own, not an option of `fit`: it takes a builder and data,
not a .tflite, and none of fit's plan options but the planner apply.

Exit code: 0 when some candidate fits, 1 when none does, 2 for bad input.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import TinyDeployError
from . import app, console, err_console
from ._options import KERNELS, PLANNER, board_plan_options

EXIT_BAD_INPUT = 2
KEEP = typer.Option(None, "--keep", help="Write each candidate's int8 .tflite into this new folder (those that do "
                    "not fit, untrained: *_untrained.tflite).")


def _out():
    from rich.console import Console

    return console if console.is_terminal else Console(width=150)


def _acc(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _time(us: float | None) -> str:
    if us is None:
        return "?"
    return f"{us / 1e6:,.1f} s" if us >= 1e6 else f"{us / 1000:,.1f} ms" if us >= 1000 else f"{us:,.0f} µs"


def _print(r) -> None:
    b = r.board
    out = _out()
    out.print(f"[bold]{escape(r.builder)}[/] on [bold]{b.id}[/] ({escape(b.name)}, {b.core}, "
              f"{b.clock_hz / 1e6:g} MHz; RAM budget {b.ram_budget:,} B, flash {b.flash_budget:,} B), "
              f"kernels {r.kernels}; {r.train_samples} training samples {list(r.data_shape[1:])}, "
              f"{r.epochs} epoch(s); accuracy on {escape(r.val_source)}", highlight=False, soft_wrap=True)
    table = Table(title="candidates (resolution x width)", title_justify="left")
    for col in ("resolution", "width", "input", "peak arena", "RAM", "flash", "MACs", "latency~", "float acc",
                "int8 acc", "fits"):
        table.add_column(col, justify="left" if col in ("input", "fits") else "right")
    for c in r.candidates:
        fits = "[green]yes[/]" if c.fits else "[red]no[/] (not trained)"
        row = [f"{c.resolution:g}", f"{c.width:g}", "x".join(map(str, c.input_shape)), f"{c.arena_bytes:,}",
               f"{c.ram_needed:,}", f"{c.flash_needed:,}", f"{c.macs:,}", _time(c.latency_us),
               _acc(c.float_accuracy), _acc(c.int8_accuracy), fits]
        if c.best:
            row[9] = f"[bold green]{row[9]} *best[/]"
        table.add_row(*row)
    out.print(table)
    best = r.best
    if best is not None:
        out.print(f"[bold green]best:[/] {best.name}: int8 accuracy {best.int8_accuracy:.1%} with a "
                  f"{best.arena_bytes:,} B arena and {best.macs:,} MACs (the best int8 accuracy among those "
                  "that fit)", highlight=False, soft_wrap=True)
    else:
        nearest = min(r.candidates, key=lambda c: c.ram_needed)
        out.print(f"[bold red]none fits {b.id}:[/] {escape(nearest.verdict)}", highlight=False, soft_wrap=True)
    if r.keep:
        out.print(f"kept   each candidate's .tflite in {escape(r.keep)}", highlight=False, soft_wrap=True)


@app.command("fit-search")
def fit_search(builder: str = typer.Argument(..., metavar="MODULE:FUNCTION",
                                             help="The model builder: module:function (importable from the "
                                                  "current folder) or path/to/file.py:function; function("
                                                  "input_shape, width) returns a keras.Model."),
               data: str = typer.Option(..., "--data", help="Labelled training data: train.npz (arrays x and y) "
                                                            "or train.npz:INPUTS,LABELS; inputs [N, H, W, C]."),
               board: str = typer.Option(..., "--board", "-b", help="Board id or alias (`tinydeploy boards`)."),
               val: str = typer.Option(None, "--val", help="Labelled validation data like --data (default: "
                                                           "20% of --data held out)."),
               epochs: int = typer.Option(2, "--epochs", min=0, help="Training epochs per fitting candidate."),
               resolutions: str = typer.Option("1,0.75,0.5", "--resolutions",
                                               help="Input resolution factors of the data's H x W."),
               widths: str = typer.Option("1,0.75,0.5", "--widths", help="Width multipliers for the builder."),
               keep: Path = KEEP,
               as_json: bool = typer.Option(False, "--json", help="Print everything as JSON (nothing else)."),
               planner: str = PLANNER, kernels: str = KERNELS) -> None:
    """Which resolution x width of a Keras model fits the board, and how accurate is it in int8? Per candidate:
    peak arena, RAM, flash, MACs, estimated latency, float and int8 accuracy; the best that fits is marked.
    Exit code 0: some candidate fits; 1: none does; 2: bad input."""
    from ..quantize import search_models

    def say(text: str) -> None:
        err_console.print(f"[dim]{escape(text)}[/]", highlight=False, soft_wrap=True)

    try:
        options = board_plan_options(board, planner, True, kernels)
        r = search_models(builder, data, board, val=val, epochs=epochs, resolutions=resolutions, widths=widths,
                          options=options, keep=keep, progress=None if as_json else say)
    except TinyDeployError as exc:
        exc.exit_code = EXIT_BAD_INPUT  # main() prints it; 1 means "does not fit" here
        raise
    if as_json:
        print(json.dumps(r.as_dict(), indent=2))
    else:
        _print(r)
    raise typer.Exit(0 if any(c.fits for c in r.candidates) else 1)
