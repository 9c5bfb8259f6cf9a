"""`tinydeploy bench MODEL --board B [--compare] [--json] [--png F]`: instructions per inference, per layer."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from . import app, console, err_console
from ._options import KERNELS


@app.command()
def bench(model: Path = typer.Argument(..., help="The .tflite model."),
          board: str = typer.Option("qemu-m4", "--board", "-b", help="An emulated board: qemu-m4, qemu-m7, "
                                                                     "qemu-m55, qemu-rv32, qemu-xtensa or "
                                                                     "simavr-mega."),
          kernels: str = KERNELS,
          compare: bool = typer.Option(False, "--compare", help="Also bench the reference kernels (and, on "
                                                                "qemu-m55, the arm-dsp ones) and print the ratios."),
          layers: bool = typer.Option(True, "--layers/--no-layers", help="Per-layer breakdown (a second, "
                                                                        "instrumented build)."),
          samples: int = typer.Option(2, "--samples", "-n", min=1, help="Random inputs to count (the count "
                                                                       "is their mean)."),
          counter: str = typer.Option("auto", "--counter", help="auto: the QEMU counting plugin where it loads "
                                      "(exact), else the firmware's counter; plugin; firmware (SysTick x40 under "
                                      "-icount, rdinstret, Timer1)."),
          json_out: bool = typer.Option(False, "--json", help="Print the report as JSON (nothing else)."),
          png: Path = typer.Option(None, "--png", help="Write the per-layer bar chart here."),
          work_dir: Path = typer.Option(None, "--work-dir", help="Firmware projects (default: the cache).")) -> None:
    """Count instructions (AVR: cycles) per inference on an emulated board: exact with the QEMU plugin,
    the total from the same firmware `eval` runs, the per-layer breakdown from an instrumented build;
    code, weight and RAM bytes from the ELF; time at the board's clock."""
    from ..errors import TinyDeployError
    from ..evaluate import bench_lines, layer_table, plot_layers, run_bench

    if png and not png.name.lower().endswith(".png"):
        raise TinyDeployError(f"--png {png} must end in .png", "e.g. --png layers.png")
    quiet = json_out
    r = run_bench(model, board, kernels=kernels, layers=layers or png is not None, samples=samples,
                  work_dir=work_dir, compare=compare, counter=counter,
                  log=(lambda m: None) if quiet else (lambda m: err_console.print(f"[dim]{m}[/]", highlight=False)))
    if png:
        if not r.layers:
            raise TinyDeployError(f"no per-layer counts on {r.board.id} for --png", r.layers_method)
        plot_layers(r, png)
    if json_out:
        print(json.dumps(r.as_dict(), indent=2))
        return
    for line in bench_lines(r):
        console.print(line, highlight=False, soft_wrap=True)
    if compare and r.reference is None:
        console.print(f"compare  the kernels on {r.board.id} are the reference ones already: nothing to compare",
                      highlight=False)
    if r.layers:
        from rich.console import Console

        wide = console if console.is_terminal else Console(width=140)  # logs and pipes: no folded columns
        wide.print(layer_table(r))
    elif layers:
        console.print(f"per layer: {r.layers_method}", highlight=False)
    if png:
        console.print(f"wrote {png}", highlight=False)
