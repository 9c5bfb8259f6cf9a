"""`tinydeploy export-arduino MODEL -o model.zip`: an Arduino library ZIP ("Sketch > Include Library >
Add .ZIP Library") with the model and two examples (self-check, device protocol), and TinyDeploy.zip
beside it: the runtime library the model library depends on."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console
from ._options import INPLACE, INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, PLANNER, board_plan_options


def _say(msg: str) -> None:
    console.print(msg, highlight=False, soft_wrap=True)


@app.command("export-arduino")
def export_arduino(model: Path = typer.Argument(..., help="The .tflite model."),
                   out: Path = typer.Option(..., "-o", "--out", help="The ZIP file to write (e.g. model.zip)."),
                   sample: Path = typer.Option(None, "--sample", "--samples", help="Sample inputs (.npy, or .npz with input_0, "
                                               "...) to embed in the Check example; default: random ones."),
                   board: str = typer.Option("mega2560", "--board", "-b", help="Board the fit check is for "
                                             "(mega2560, uno, or any board of `tinydeploy boards`)."),
                   count: int = typer.Option(3, "--count", help="Samples to embed (the first N of --sample)."),
                   seed: int = typer.Option(0, "--seed", help="Seed of the random samples."),
                   name: str = typer.Option(None, "--name", help="C prefix (default: file name); the library "
                                            "name is its CamelCase."),
                   planner: str = PLANNER, inplace: bool = INPLACE, kernels: str = KERNELS,
                   patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
                   input_outside: bool = INPUT_OUTSIDE,
                   fit_check: bool = typer.Option(True, "--fit-check/--no-fit-check", help="Refuse a model "
                                                  "that does not fit the board."),
                   shared_arena: bool = typer.Option(False, "--shared-arena", help="One arena (the largest) for "
                                                     "every model library exported with --shared-arena in a sketch: "
                                                     "for models that never run at the same time."),
                   mlperf_model: str = typer.Option(None, "--mlperf-model", help="Also the example <Lib>MLPerf: "
                                                    "MLPerf Tiny's th_ protocol for mlcommons/tiny's runner, "
                                                    "profile model kws01|vww01|ad01|ic01; the model's input "
                                                    "then stays outside the arena."),
                   train: str = typer.Option(None, "--train", help="Update spec (as `tinydeploy train --update`): "
                                             "the library carries the training step and the example <Lib>Train "
                                             "(32-bit boards, e.g. --board nano33ble)."),
                   train_data: str = typer.Option(None, "--train-data", help="With --train: labelled samples to "
                                                  "embed in <Lib>Train (FILE.npz as `train --data`)."),
                   epochs: int = typer.Option(1, "--epochs", help="With --train: passes over the embedded samples."),
                   lr: float = typer.Option(0.01, "--lr", help="With --train: learning rate."),
                   momentum: float = typer.Option(0.0, "--momentum", help="With --train: SGD momentum.")) -> None:
    """Write <Lib>/library.properties, keywords.txt, src/ (the model) and the examples <Lib>Check
    (embedded samples vs LiteRT reference outputs) and <Lib>Serial (device protocol), with --mlperf-model
    <Lib>MLPerf (MLPerf Tiny's protocol), and beside the ZIP TinyDeploy.zip: the runtime library (install both)."""
    from ..target import RUNTIME_LIB, runtime_id, runtime_version
    from ..target import export_arduino as export

    opts = board_plan_options(board, planner, inplace, kernels, patch, patch_budget, input_outside)
    if train:
        return _export_train(model, out, train, train_data, board, epochs, lr, momentum,
                             {"samples": sample, "count": count, "seed": seed, "name": name, "options": opts,
                              "fit_check": fit_check})
    lib = export(model, out, samples=sample, board=board, count=count, seed=seed, name=name,
                 options=opts, fit_check=fit_check,
                 shared_arena=shared_arena, mlperf_model=mlperf_model)
    for what, report in lib.fit.items():
        for line in report.lines():
            _say(f"fit {what:<6} {line}")
    n = lib.inputs[0].shape[0]
    m = lib.model
    for what, why in lib.skipped.items():
        _say(f"warning: example {lib.name}{what.capitalize()} left out: it does not fit {lib.board.id} ({why}); "
             f"the library itself fits")
    examples = [f"{e} ({n} samples + LiteRT reference outputs)" if e.endswith("Check") else e for e in lib.examples]
    _say(f"wrote {out}: library {lib.name} ({m.prefix}.h; weights {m.weights_bytes:,} B, arena "
         f"{m.arena_bytes:,} B), examples {' and '.join(examples) or 'none'}; board {lib.board.id}")
    if lib.replaced_runtime:
        _say(f"warning: replaced {lib.runtime_path} (runtime sources {lib.replaced_runtime}): model libraries "
             f"exported with that one stop with an #error against the new {RUNTIME_LIB}; export them again")
    if shared_arena:
        _say("arena: td_shared_arena, shared with every model library exported with --shared-arena in a sketch "
             "(the largest arena); invoking one model overwrites the others' inputs and outputs")
    _say(f"wrote {lib.runtime_path}: the runtime library {RUNTIME_LIB} {runtime_version()} (sources "
         f"{runtime_id()}) that {lib.name} depends on. Install both ZIPs (Sketch > Include Library > Add .ZIP "
         f"Library): depends={RUNTIME_LIB} is followed by the Library Manager only, not for a ZIP added by hand. "
         f"One {RUNTIME_LIB} serves several model libraries in a sketch when they were exported with these sources.")


def _export_train(model: Path, out: Path, spec: str, data: str | None, board: str, epochs: int, lr: float,
                  momentum: float, kwargs: dict) -> None:
    """export-arduino --train (tinydeploy.train.export_arduino_train)."""
    from ..compile import load_model
    from ..train import export_arduino_train
    from .train import load_labelled

    labelled = load_labelled(data, load_model(model), "training") if data else None
    r = export_arduino_train(model, out, spec, board, labelled, epochs, lr, momentum, **kwargs)
    lib, tc = r.lib, r.build.tc
    parts = ", ".join(f"{what} {n:,}" for what, n in r.ram_items if n)
    _say(f"fit train  RAM {r.ram_bytes:,} B of {lib.board.ram_budget:,} B on {lib.board.id} ({parts})")
    _say(f"wrote {out}: library {lib.name} with the training step (update {r.build.spec}: training buffer "
         f"{tc.buffer_bytes:,} B, state {tc.state_bytes:,} B), example {lib.name}Train ({r.samples} embedded "
         f"samples, {r.epochs} epochs, lr {r.lr:g}; then the device protocol for `tinydeploy train --port`)")
    _say(f"wrote {lib.runtime_path}: the runtime library that {lib.name} depends on; install both ZIPs")
