"""`tinydeploy convert MODEL -o OUT/`: write the model as a C library."""
from __future__ import annotations

from pathlib import Path

import typer

from ..compile import compile_graph, load_model, write_library
from ..errors import TinyDeployError
from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, PATCH, PATCH_BUDGET, PLANNER, board_plan_options


@app.command()
def convert(model: Path = typer.Argument(..., help="The .tflite model."),
            out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
            name: str = typer.Option(None, "--name", help="C prefix for public symbols (default: file name)."),
            planner: str = PLANNER, inplace: bool = INPLACE,
            patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
            input_outside: bool = INPUT_OUTSIDE,
            kernels: str = typer.Option("reference", "--kernels", help="Kernel variant: reference (portable C, "
                                        "the default without a board) or arm-dsp, arm-mve, riscv, avr (the "
                                        "C then stops with #error on other targets)."),
            fmt: str = typer.Option("c", "--format", help="c: OUT/<name>.c/.h + OUT/tinydeploy/; platformio: "
                                    "OUT/<name>/ (library.json) + OUT/tinydeploy/ (runtime library).")) -> None:
    """Generate <name>.c/.h (weights, schedule, arena plan) plus the shared runtime in OUT/tinydeploy/."""
    if fmt not in ("c", "platformio"):
        raise TinyDeployError(f"unknown --format {fmt!r}", "use c or platformio")
    g = load_model(model)
    options = board_plan_options(None, planner, inplace, kernels, patch, patch_budget, input_outside)
    m = compile_graph(g, prefix=name, options=options, source_name=model.name)
    if fmt == "platformio":
        from ..target import write_library_folder

        write_library_folder(m, out)
        console.print(f"wrote {out}/{m.prefix}/ (library.json, depends on tinydeploy) and {out}/tinydeploy/: "
                      f"weights {m.weights_bytes:,} B, arena {m.arena_bytes:,} B", highlight=False)
        return
    write_library(m, out)
    console.print(f"wrote [bold]{out}/{m.prefix}.c[/], {m.prefix}.h and the runtime in {out}/tinydeploy/: "
                  f"{len(g.ops)} ops, weights {m.weights_bytes:,} B, arena {m.arena_bytes:,} B")
