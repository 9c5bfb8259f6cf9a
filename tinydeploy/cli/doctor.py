"""`tinydeploy doctor [--board B ...] [--json]`: check the set-up by doing the real thing, quickly."""
from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from . import app, console

STYLE = {"ok": "green", "missing": "bold red", "warn": "yellow", "info": "cyan"}


@app.command()
def doctor(board: list[str] = typer.Option(None, "--board", "-b", metavar="BOARD",
                                           help="Check what this board needs (repeatable). Default: the "
                                           "emulated boards and the test suite."),
           as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
           budget: float = typer.Option(55, "--budget", min=5, help="Seconds allowed for all checks."),
           quiet: bool = typer.Option(False, "--quiet", "-q", help="Show only the parts that are not ok.")) -> None:
    """Check the set-up: build and boot small programs with each toolchain and emulator the boards need,
    PlatformIO offline, arduino-builder; each part with the command that fixes it.

    Exit status 1 when a part the boards need is missing (warnings and information rows never fail).
    """
    from ..doctor import run_doctor

    report = run_doctor(board or None, budget=budget)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
        raise typer.Exit(0 if report.ok else 1)
    what = "the emulated boards and the test suite" if report.default else ", ".join(report.boards)
    t = Table(title=f"tinydeploy doctor: {what}", show_lines=False)
    t.add_column("part", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("detail", overflow="fold")
    t.add_column("fix", overflow="fold")
    for c in report.checks:
        if quiet and c.status == "ok":
            continue
        t.add_row(c.part, f"[{STYLE[c.status]}]{c.status}[/]", c.detail, c.fix)
    # Pipes get 80 columns by default: widen so the table stays readable in logs.
    out = console if console.is_terminal else Console(width=max(console.width, 160))
    if t.row_count:
        out.print(t)
    if report.ok:
        out.print(f"[green]all needed parts work[/] ({report.seconds:.1f} s)", highlight=False)
        return
    out.print(f"[bold red]missing parts[/] ({report.seconds:.1f} s); to fix them run:", highlight=False)
    for line in report.fixes():
        out.print(f"  {line}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)
