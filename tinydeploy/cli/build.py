"""`tinydeploy build MODEL --board B -o PROJ/`: a PlatformIO project, built and run where possible."""
from __future__ import annotations

from pathlib import Path

import typer

from ..errors import TinyDeployError
from . import app, console
from ._options import INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, plan_options


def _say(msg: str) -> None:
    console.print(msg, highlight=False, soft_wrap=True)


@app.command()
def build(model: Path = typer.Argument(..., help="The .tflite model."),
          board: str = typer.Option(..., "--board", "-b", help="Board id or alias (`tinydeploy boards`)."),
          out: Path = typer.Option(..., "-o", "--out", help="Project folder to write."),
          samples: Path = typer.Option(None, "--samples", help="Sample inputs (.npy/.npz) to embed; "
                                       "default: random ones."),
          n_samples: int = typer.Option(3, "--n-samples", help="Random samples to embed (without --samples)."),
          name: str = typer.Option(None, "--name", help="C prefix for the model (default: file name)."),
          compile_: bool = typer.Option(True, "--compile/--no-compile", help="Run `pio run` (emulated boards) "
                                        "or the cross-compile check (real boards)."),
          run: bool = typer.Option(True, "--run/--no-run", help="Emulated boards: run the firmware and compare "
                                   "its outputs with LiteRT, byte for byte."),
          fit_check: bool = typer.Option(True, "--fit-check/--no-fit-check", help="Stop before building when "
                                         "the model does not fit the board."),
          timeout: int = typer.Option(120, "--timeout", help="Seconds allowed for the emulator run."),
          kernels: str = KERNELS, patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
          input_outside: bool = INPUT_OUTSIDE) -> None:
    """Generate platformio.ini + src/main.cpp + lib/ (runtime and model libraries) and build it.

    Emulated boards (qemu-*, simavr-mega): real `pio run`, then the firmware runs in QEMU/simavr and its
    outputs are checked against LiteRT. Real boards: PlatformIO's ProjectConfig validates the project and
    the model + kernels are cross-compiled with the nearest toolchain (-Wall -Wextra -Werror).
    """
    from ..target import board_options, generate_project, load_board, pio_build, run_project

    b = load_board(board)
    options = board_options(b, plan_options("exact", True, patch, patch_budget, input_outside), kernels)
    if not model.is_file():
        raise TinyDeployError(f"model not found: {model}")
    proj = generate_project(model, b, out, samples=samples, n_samples=n_samples, name=name,
                            fit_check=fit_check, options=options)
    for line in proj.fit.lines():
        _say(f"fit      {line}")
    n = proj.inputs[0].shape[0] if proj.inputs else 0
    _say(f"wrote    {out}/ for {b.id}: platformio.ini, src/main.cpp, lib/tinydeploy, lib/{proj.model.prefix}, "
         f"include/td_samples.h ({n} samples + LiteRT reference outputs); kernels {options.kernels}")
    if not compile_:
        return
    if b.emulated:
        elf = pio_build(proj)
        _say(f"pio run  built {elf}")
        if run:
            check = run_project(proj, timeout=timeout)
            cycles = " ".join(str(check.run.cycles.get(s, "?")) for s in range(n))
            if check.mismatches:
                raise TinyDeployError(f"{b.id}: firmware outputs differ from LiteRT: {'; '.join(check.mismatches[:5])}",
                                      f"the project is in {out}; run it again with `pio run -t upload`")
            _say(f"ran      {b.emulator.binary}: {n} samples, outputs bit-exact with LiteRT; "
                 f"cycles {cycles} ({check.run.cycle_unit})")
        return
    _real_board(proj, b, out)


def _real_board(proj, b, out: Path) -> None:
    from ..target import cross_compile, validate_platformio_ini

    problems = validate_platformio_ini(out / "platformio.ini")
    if problems:
        raise TinyDeployError(f"PlatformIO rejects the generated platformio.ini: {'; '.join(problems)}",
                              "this is a tinydeploy bug (board profile); the project is kept")
    _say("config   platformio.ini valid (PlatformIO ProjectConfig)")
    _say(f"pio run  NOT RUN: the {b.platformio.get('platform')} platform and its toolchain must be "
         f"downloaded (no network here). Elsewhere: cd {out} && pio run -t upload")
    res = cross_compile(proj.model, b)
    _say(f"compiled {res.summary()}")
    tc_note = f" ({b.toolchain.note})" if b.toolchain and b.toolchain.note else ""
    _say(f"         model + kernels only{tc_note}; the Arduino sketch and framework were not compiled")
    if b.stand_in:
        _say(f"emulate  nearest emulated board: {b.stand_in} "
             f"(tinydeploy build {proj.model_path} --board {b.stand_in} -o DIR)")
