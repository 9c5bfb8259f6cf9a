"""Options shared by several commands (one definition, same flags everywhere)."""
from __future__ import annotations

import typer

from ..compile import PlanOptions

PLANNER = typer.Option("exact", "--planner", help="Arena planner: exact (CP-SAT, seeded by greedy) or greedy.")
INPLACE = typer.Option(True, "--inplace/--no-inplace", help="Share storage for views and in-place ops.")
PATCH = typer.Option("off", "--patch", help="Patch-based inference of the first stage: off, auto (smallest "
                     "arena within the MAC budget), or SPLIT_OP:PHxPW (e.g. 7:4x4).")
PATCH_BUDGET = typer.Option(0.25, "--patch-budget", min=0.0,
                            help="--patch auto: most extra MACs allowed, as a fraction (0.25 = +25%).")
INPUT_OUTSIDE = typer.Option(False, "--input-outside-arena/--input-in-arena",
                             help="Keep the model's int8/int16 input in the caller's buffer, outside the arena (a "
                             "float input always is), and let --patch tiles read their boxes straight from it: the "
                             "whole input never sits in the arena. `plan` reports the input buffer beside the arena.")
REFERENCE = typer.Option("auto", "--reference", help="What the board's outputs are checked against: auto (LiteRT "
                         "BUILTIN_REF; TFLM's interpreter when LiteRT refuses the model; else unchecked), litert, "
                         "tflm or none.")

KERNELS = typer.Option("auto", "--kernels", help="Kernel variant: auto (the board profile's kernel_variant: arm-dsp "
                       "on Cortex-M4/M7, arm-mve on Cortex-M55, riscv on RV32, avr on AVR, reference elsewhere), "
                       "reference (portable C), or one of arm-dsp, arm-mve, riscv, avr (optimized kernels where "
                       "an op has one).")


def plan_options(planner: str, inplace: bool, patch: str = "off", patch_budget: float = 0.25,
                 input_outside: bool = False) -> PlanOptions:
    from ..compile import PLANNERS, parse_patch
    from ..errors import TinyDeployError

    if planner not in PLANNERS:
        raise TinyDeployError(f"unknown planner {planner!r}", f"choose one of: {', '.join(sorted(PLANNERS))}")
    parse_patch(patch)  # raises on a bad value
    return PlanOptions(planner=planner, inplace=inplace, patch=patch.strip().lower(), patch_budget=patch_budget,
                       input_outside_arena=input_outside)


def board_plan_options(board: str | None, planner: str, inplace: bool, kernels: str = "auto", patch: str = "off",
                       patch_budget: float = 0.25, input_outside: bool = False) -> PlanOptions:
    """plan_options with the kernels for the board (--kernels auto: its own variant; no board: reference)."""
    from ..target import board_options

    return board_options(board, plan_options(planner, inplace, patch, patch_budget, input_outside), kernels)
