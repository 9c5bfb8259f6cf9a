"""`tinydeploy flash [MODEL] --board B [--port P] [--dry-run]`: build (or reuse) and upload the firmware."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console, err_console
from ._options import INPLACE, INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, PLANNER, board_plan_options


@app.command()
def flash(model: Path = typer.Argument(None, help="The .tflite model (left out inside a flashed project)."),
          board: str = typer.Option(None, "--board", "-b", help="Board id or alias (`tinydeploy boards`)."),
          port: str = typer.Option(None, "--port", "-p", help="Real boards: the serial port to upload through. "
                                                              "Emulated: a local TCP port for the UART."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Print every step, run nothing."),
          project_dir: Path = typer.Option(None, "--project-dir", "-o",
                                           help="Firmware project folder (default build/device/<model>-<board>)."),
          stop: bool = typer.Option(False, "--stop", help="Stop the emulator a previous flash left running."),
          planner: str = PLANNER, inplace: bool = INPLACE, kernels: str = KERNELS,
          patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
          input_outside: bool = INPUT_OUTSIDE) -> None:
    """Build the device protocol firmware (reused when unchanged) and upload it (emulated: start it)."""
    from ..link import flash as do_flash
    from ..link import resolve_model, stop_emulator

    if stop:
        from ..target import default_project_dir, load_board

        model_path, pdir, mboard = resolve_model(model, project_dir)
        if pdir is None:
            if not (board or mboard):
                raise typer.BadParameter("--stop needs --board (or --project-dir)")
            pdir = default_project_dir(model_path, load_board(board or mboard))
        pid = stop_emulator(pdir)
        console.print(f"stopped the emulator (pid {pid})" if pid else f"no emulator of {pdir} is running")
        return
    if board is None and not stop:  # inside a flashed project: its manifest names the board
        board = resolve_model(model, project_dir)[2]
    opts = board_plan_options(board, planner, inplace, kernels, patch, patch_budget, input_outside)
    res = do_flash(model, board, port, dry_run, project_dir, opts,
                   log=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False))
    if dry_run:
        console.print(f"[bold]flash {res.board.id}[/] (dry run, nothing was run):", highlight=False)
        for i, s in enumerate(res.steps, 1):
            console.print(f"  {i}. {s}", highlight=False, soft_wrap=True)
        return
    for s in res.steps:
        err_console.print(f"[dim]- {s}[/]", highlight=False, soft_wrap=True)
    console.print(f"{res.board.id} runs the firmware (pid {res.pid}); serial port: {res.url}", highlight=False,
                  soft_wrap=True)
    console.print(f"next: tinydeploy monitor --port {res.url}    stop: tinydeploy flash --stop "
                  f"--project-dir {res.project_dir}", highlight=False, soft_wrap=True)
