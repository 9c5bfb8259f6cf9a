"""`tinydeploy flash [MODEL] --board B [--port P] [--dry-run] [--protocol mlperf --mlperf-model M]`: build (or
reuse) and upload the firmware."""
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
          input_outside: bool = INPUT_OUTSIDE,
          protocol: str = typer.Option("device", "--protocol",
                                       help="device: tinydeploy's protocol (eval, monitor). mlperf: MLPerf Tiny's "
                                            "th_ protocol for mlcommons/tiny's runner (needs --mlperf-model)."),
          mlperf_model: str = typer.Option(None, "--mlperf-model",
                                           help="With --protocol mlperf, required: the benchmark the model runs, "
                                                "kws01|vww01|ad01|ic01 (the profile's m-model; not guessed "
                                                "from the input shape).")) -> None:
    """Build the device protocol firmware (reused when unchanged) and upload it (emulated: start it).

    --protocol mlperf builds the MLPerf Tiny firmware instead (project build/device/<model>-<board>-mlperf,
    the model's input kept outside the arena); its UART is where the runner connects."""
    from ..link import flash as do_flash
    from ..link import resolve_model, stop_emulator

    if stop:
        from ..target import default_project_dir, load_board

        model_path, pdir, mboard = resolve_model(model, project_dir)
        if pdir is None:
            if not (board or mboard):
                raise typer.BadParameter("--stop needs --board (or --project-dir)")
            pdir = default_project_dir(model_path, load_board(board or mboard), protocol)
        pid = stop_emulator(pdir)
        console.print(f"stopped the emulator (pid {pid})" if pid else f"no emulator of {pdir} is running")
        return
    if board is None and not stop:  # inside a flashed project: its manifest names the board
        board = resolve_model(model, project_dir)[2]
    opts = board_plan_options(board, planner, inplace, kernels, patch, patch_budget, input_outside)
    res = do_flash(model, board, port, dry_run, project_dir, opts,
                   log=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False), protocol=protocol,
                   mlperf_model=mlperf_model)
    if dry_run:
        console.print(f"[bold]flash {res.board.id}[/] (dry run, nothing was run):", highlight=False)
        for i, s in enumerate(res.steps, 1):
            console.print(f"  {i}. {s}", highlight=False, soft_wrap=True)
        return
    for s in res.steps:
        err_console.print(f"[dim]- {s}[/]", highlight=False, soft_wrap=True)
    what = f"the MLPerf Tiny firmware ({res.mlperf_model})" if res.protocol == "mlperf" else "the firmware"
    console.print(f"{res.board.id} runs {what} (pid {res.pid}); serial port: {res.url}", highlight=False,
                  soft_wrap=True)
    use = (f"the MLPerf runner on {res.url} at {res.board.baud} baud (commands end with %: name%)"
           if res.protocol == "mlperf" else f"tinydeploy monitor --port {res.url}")
    console.print(f"next: {use}    stop: tinydeploy flash --stop --project-dir {res.project_dir}", highlight=False,
                  soft_wrap=True)
