"""Which kernel variant a board compiles with: the profile's `kernel_variant`, turned into the plain
compile option PlanOptions.kernels (the compiler never reads board profiles).

    board_options("qemu-m4")                       # PlanOptions(kernels="arm-dsp")
    board_options("qemu-rv32")                     # PlanOptions(kernels="reference")
    board_options("qemu-m4", base, "reference")    # the user's choice (--kernels reference)

Library entry points (device_project, generate_project, export_arduino, open_session, HIL deploy) take
`options=None` as "the board's defaults", i.e. board_options(board); explicit PlanOptions are used as
given. The CLI's `--kernels auto|reference|arm-dsp` goes through board_options.
"""
from __future__ import annotations

from dataclasses import replace

from ..compile import VARIANT_CHAIN, PlanOptions
from ..errors import TinyDeployError
from .boards import BoardProfile, load_board

#: --kernels: "auto" is the board's own variant (reference without a board)
KERNEL_CHOICES = ("auto", "reference", "arm-dsp", "arm-mve", "riscv", "avr")
# profile kernel_variant -> PlanOptions.kernels; "generic" and "xtensa" run the reference kernels
_COMPILER_KERNELS = {"arm-dsp": "arm-dsp", "arm-mve": "arm-mve", "riscv": "riscv", "avr": "avr"}


def kernels_for(board: str | BoardProfile) -> str:
    """PlanOptions.kernels for the board's own kernel variant."""
    return _COMPILER_KERNELS.get(load_board(board).kernel_variant, "reference")


def check_kernels(kernels: str) -> str:
    k = (kernels or "auto").strip().lower()
    if k not in KERNEL_CHOICES:
        raise TinyDeployError(f"unknown --kernels {kernels!r}", f"use one of: {', '.join(KERNEL_CHOICES)}")
    return k


def board_options(board: str | BoardProfile | None, options: PlanOptions | None = None,
                  kernels: str = "auto") -> PlanOptions:
    """`options` (default: PlanOptions()) with the kernels for `board`: its own variant for "auto"
    (reference without a board), else the one asked for, refused where the board cannot run it."""
    options = options or PlanOptions()
    k = check_kernels(kernels)
    if board is None:
        return replace(options, kernels="reference" if k == "auto" else k)
    b = load_board(board)
    own = kernels_for(b)
    if k == "auto":
        k = own
    elif k != "reference" and k not in VARIANT_CHAIN.get(own, ()):  # arm-mve boards may run arm-dsp
        raise TinyDeployError(f"{b.id} ({b.core}, kernel variant {b.kernel_variant}) cannot run the {k} kernels",
                              "use --kernels auto or --kernels reference")
    # the fast kernels' scratch may not push the arena past what the board has (passes/fit_scratch.py)
    limit = max(0, b.ram_budget - b.stack_bytes - b.reserved_ram) if k != "reference" and b.ram_budget else 0
    return replace(options, kernels=k, arena_limit=options.arena_limit or limit)
