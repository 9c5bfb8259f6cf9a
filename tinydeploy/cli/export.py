"""`tinydeploy export-platformio MODEL -o OUT/`: the model and the runtime as two PlatformIO libraries.

(The `convert --format platformio` of the issue: convert.py stays the plain C export.)
"""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, PATCH, PATCH_BUDGET, PLANNER, plan_options


@app.command("export-platformio")
def export_platformio(model: Path = typer.Argument(..., help="The .tflite model."),
                      out: Path = typer.Option(..., "-o", "--out", help="Output folder (e.g. a project's lib/)."),
                      name: str = typer.Option(None, "--name", help="C prefix / library name (default: file name)."),
                      pack: bool = typer.Option(False, "--pack", help="Also write .tar.gz packages "
                                                "(`pio pkg pack`) into OUT/packages/."),
                      planner: str = PLANNER, inplace: bool = INPLACE, patch: str = PATCH,
                      patch_budget: float = PATCH_BUDGET,
                      input_outside: bool = INPUT_OUTSIDE) -> None:
    """Write OUT/<name>/ (library.json, src/<name>.c/.h; depends on `tinydeploy`) and OUT/tinydeploy/
    (the shared runtime), ready for a PlatformIO project's lib/ folder or `pio pkg pack`."""
    from ..compile import compile_graph, load_model
    from ..target import pack_library, write_library_folder

    options = plan_options(planner, inplace, patch, patch_budget, input_outside)
    m = compile_graph(load_model(model), prefix=name, options=options,
                      source_name=model.name)
    write_library_folder(m, out)
    console.print(f"wrote {out}/{m.prefix}/ (library.json, depends on tinydeploy) and {out}/tinydeploy/ "
                  f"(runtime): weights {m.weights_bytes:,} B, arena {m.arena_bytes:,} B",
                  highlight=False, soft_wrap=True)
    if pack:
        for lib in (m.prefix, "tinydeploy"):
            p = pack_library(out / lib, out / "packages")
            console.print(f"packed {p}", highlight=False, soft_wrap=True)
