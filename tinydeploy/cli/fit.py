"""`tinydeploy fit MODEL --board B [--json] [--plot fit.png]`: does it fit, with the whole truth.

Exit code: 0 when the model fits the board, 1 when it does not, 2 for bad input (no such model or board,
a float model, an unsupported op, a bad option): the same yes/no as build, flash and export-arduino.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import TinyDeployError
from . import app, console
from ._options import INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, board_plan_options

EXIT_BAD_INPUT = 2


def _out():
    """The console, wide when it is no terminal (logs and pipes: no folded table columns)."""
    from rich.console import Console

    return console if console.is_terminal else Console(width=150)


def _say(text: str) -> None:
    _out().print(text, highlight=False, soft_wrap=True)


def _items(items: list[tuple[str, int]]) -> str:
    return " + ".join(f"{name} {n:,}" for name, n in items if n)


def _print(a) -> None:
    from ..target import latency_text, shown_candidates

    r, b, m = a.report, a.board, a.compiled
    _say(f"[bold]{escape(a.model)}[/] on [bold]{b.id}[/] ({escape(b.name)}, {b.core}, {b.clock_hz / 1e6:g} MHz), "
         f"kernels {m.options.kernels}, {a.macs:,} MACs")
    table = Table(title="memory regions", title_justify="left")
    for col in ("region", "kind", "size", "used", "what"):
        table.add_column(col, justify="right" if col in ("size", "used") else "left")
    for reg in a.regions:
        table.add_row(reg.name, reg.kind, f"{reg.size:,}", f"{reg.used:,}", escape(_items(reg.items) or reg.note))
    _out().print(table)
    over = "" if r.fits_flash else "  [red]TOO BIG[/]"
    _say(f"flash  {r.flash_needed:,} of {b.flash_budget:,} B budget{over}")
    over = "" if r.fits_ram else "  [red]TOO BIG[/]"
    _say(f"SRAM   {r.ram_needed:,} of {b.ram_budget:,} B budget{over}: arena {m.arena_bytes:,} B (best plan, "
         f"lower bound {m.lower_bound_bytes:,} B; kernel scratch {m.scratch_bytes:,} B in it), arena budget "
         f"{a.arena_budget:,} B")
    for note in r.notes:
        _say(f"       {escape(note)}")
    for k, u in a.uses.items():
        from ..target import USE_TEXT

        _say(f"with   {USE_TEXT[k]}: flash {u.flash_needed:,} B, RAM {u.ram_needed:,} B: "
             + ("fits" if u.fits else "[red]does not fit[/]"))
    peak = Table(title="layers that set the peak (live arena bytes)", title_justify="left")
    for col in ("op", "kind", "live bytes", "% of budget", "live tensors"):
        peak.add_column(col, justify="right" if col in ("op", "live bytes", "% of budget") else "left")
    for p in a.peaks:
        share = f"{p.live_bytes / a.arena_budget:.0%}" if a.arena_budget else "-"
        names = ", ".join(f"{n} {s:,}" for n, s in p.tensors[:3])
        peak.add_row(str(p.index), p.kind, f"{p.live_bytes:,}", share, escape(names))
    _out().print(peak)
    if a.suggestions:
        title = "other options" if a.fits else "what would make it fit"
        cand = Table(title=title, title_justify="left")
        for col in ("candidate", "arena", "RAM", "flash", "MACs", "fits", "how"):
            cand.add_column(col, justify="right" if col in ("arena", "RAM", "flash", "MACs") else "left")
        rows = shown_candidates(a.suggestions)
        for c in rows:
            macs = f"{c.macs:,}" + (f" ({c.extra_macs:+,})" if c.extra_macs else "")
            cand.add_row(escape(c.name), f"{c.arena_bytes:,}", f"{c.ram_needed:,}", f"{c.flash_needed:,}", macs,
                         "yes" if c.fits else "no", escape(c.note))
        _out().print(cand)
        if len(rows) < len(a.suggestions):
            _say(f"       {len(a.suggestions) - len(rows)} more resolution x width estimates in --json")
    if a.fits_on and not a.fits:
        _say(f"fits as it is on: {', '.join(a.fits_on[:8])}")
    _say(f"time   {escape(latency_text(a.latency))}")
    for note in (a.latency or {}).get("notes", []):
        _say(f"       {escape(note)}")
    _say(("[bold green]fits:[/] " if a.fits else "[bold red]does not fit:[/] ") + escape(a.verdict))


@app.command()
def fit(model: Path = typer.Argument(..., help="The .tflite model."),
        board: str = typer.Option(..., "--board", "-b", help="Board id or alias (`tinydeploy boards`)."),
        as_json: bool = typer.Option(False, "--json", help="Print everything as JSON (nothing else)."),
        plot: Path = typer.Option(None, "--plot", help="Write a PNG of live memory per layer against the "
                                                       "board's budget."),
        suggest: bool = typer.Option(True, "--suggest/--no-suggest", help="Try what would make it fit "
                                     "(patch-based inference, input outside the arena, smaller variants)."),
        kernels: str = KERNELS, patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
        input_outside: bool = INPUT_OUTSIDE) -> None:
    """Does the model fit the board? Flash per region (weights, code, runtime), SRAM (arena, scratch, stack,
    runtime, protocol), the layers that set the peak, what would make it fit, and the estimated latency.
    Exit code 0: fits; 1: does not fit; 2: bad input."""
    from ..target import analyze_fit, plot_fit

    try:
        if plot is not None and plot.suffix.lower() != ".png":
            raise TinyDeployError(f"--plot {plot} must end in .png", "e.g. --plot fit.png")
        options = board_plan_options(board, "exact", True, kernels, patch, patch_budget, input_outside)
        a = analyze_fit(model, board, options, suggest=suggest)
        if plot is not None:
            plot_fit(a, plot)
    except TinyDeployError as exc:
        exc.exit_code = EXIT_BAD_INPUT  # main() prints it; 1 means "does not fit" here
        raise
    if as_json:
        print(json.dumps(a.as_dict(), indent=2))
    else:
        _print(a)
        if plot is not None:
            _say(f"plot   written to {plot}")
    raise typer.Exit(0 if a.fits else 1)
