"""`tinydeploy export-platformio MODEL -o OUT/`: the model and the runtime as two PlatformIO libraries
(with --mlperf-model M --board B also OUT/mlperf-<board>/: the MLPerf Tiny firmware project for B).

(The `convert --format platformio` of the issue: convert.py stays the plain C export.)
"""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, PATCH, PATCH_BUDGET, PLANNER, board_plan_options, plan_options


@app.command("export-platformio")
def export_platformio(model: Path = typer.Argument(..., help="The .tflite model."),
                      out: Path = typer.Option(..., "-o", "--out", help="Output folder (e.g. a project's lib/)."),
                      name: str = typer.Option(None, "--name", help="C prefix / library name (default: file name)."),
                      pack: bool = typer.Option(False, "--pack", help="Also write .tar.gz packages "
                                                "(`pio pkg pack`) into OUT/packages/."),
                      planner: str = PLANNER, inplace: bool = INPLACE, patch: str = PATCH,
                      patch_budget: float = PATCH_BUDGET,
                      input_outside: bool = INPUT_OUTSIDE,
                      mlperf_model: str = typer.Option(None, "--mlperf-model", help="Also OUT/mlperf-<board>/: "
                                                       "a PlatformIO project of the MLPerf Tiny firmware for "
                                                       "--board (what `flash --protocol mlperf` builds), profile "
                                                       "model kws01|vww01|ad01|ic01; the input outside the arena."),
                      board: str = typer.Option(None, "--board", "-b", help="With --mlperf-model: the board of "
                                                "the firmware project.")) -> None:
    """Write OUT/<name>/ (library.json, src/<name>.c/.h; depends on `tinydeploy`) and OUT/tinydeploy/
    (the shared runtime), ready for a PlatformIO project's lib/ folder or `pio pkg pack`."""
    from ..compile import compile_graph, load_model
    from ..errors import TinyDeployError
    from ..target import check_fit, check_protocol, device_project, pack_library, write_library_folder

    proj = None
    if mlperf_model or board:
        check_protocol("mlperf", mlperf_model)
        if not board:
            raise TinyDeployError("--mlperf-model needs --board: the board of the firmware project",
                                  "e.g. --board nano33ble (`tinydeploy boards` lists them)")
        opts = board_plan_options(board, planner, inplace, "auto", patch, patch_budget, input_outside)
        proj = device_project(model, board, out / "mlperf", options=opts, name=name, dry_run=True,
                              protocol="mlperf", mlperf_model=mlperf_model)  # compiled only: checked before writing
        check_fit(proj.model, proj.board).raise_if_too_big()
        input_outside = True  # the libraries match the firmware: `infer N W` reuses one loaded input
    options = plan_options(planner, inplace, patch, patch_budget, input_outside)
    m = compile_graph(load_model(model), prefix=name, options=options,
                      source_name=model.name)
    write_library_folder(m, out)
    console.print(f"wrote {out}/{m.prefix}/ (library.json, depends on tinydeploy) and {out}/tinydeploy/ "
                  f"(runtime): weights {m.weights_bytes:,} B, arena {m.arena_bytes:,} B",
                  highlight=False, soft_wrap=True)
    if proj is not None:
        proj = device_project(model, proj.board, out / f"mlperf-{proj.board.id}", name=name, compiled=proj.model,
                              protocol="mlperf", mlperf_model=mlperf_model)
        console.print(f"wrote {proj.path}/: the MLPerf Tiny firmware ({mlperf_model}) for {proj.board.id} as a "
                      f"PlatformIO project (build flags -DTD_PROTOCOL_MLPERF -DTD_MLPERF_MODEL={mlperf_model}); "
                      f"build it: cd {proj.path} && pio run", highlight=False, soft_wrap=True)
    if pack:
        for lib in (m.prefix, "tinydeploy"):
            p = pack_library(out / lib, out / "packages")
            console.print(f"packed {p}", highlight=False, soft_wrap=True)
