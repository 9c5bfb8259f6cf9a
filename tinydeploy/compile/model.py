"""What a compilation takes and produces: the options and the compiled model. Imports no part of the
pipeline, so passes, planners, code generation, project writers and the CLI can all name them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import TinyDeployError
from .ir import Graph

if TYPE_CHECKING:
    from .passes.patch import PatchInfo
    from .plan.arena import ArenaPlan


#: PlanOptions.kernels: "reference" (portable C) or an optimized variant, used where an op has one, whose
#: generated C builds only on its architecture (KERNEL_GUARDS):
#:   arm-dsp  lib/tinydeploy/arm/   Cortex-M4/M7/M33/M55 (DSP extension SIMD)
#:   arm-mve  lib/tinydeploy/mve/   Cortex-M55/M85 (Helium), arm-dsp where no Helium kernel takes an op
#:   riscv    lib/tinydeploy/riscv/ RV32IMC (register-blocked C)
#:   avr      lib/tinydeploy/avr/   8-bit AVR with MUL (MULS sums in 16/24 bits where proven, ELPM weight streams)
KERNEL_VARIANTS = ("reference", "arm-dsp", "arm-mve", "riscv", "avr")
#: PlanOptions.arena_region: the internal SRAM (default) or external PSRAM (codegen/model_c.py)
ARENA_REGIONS = ("internal", "psram")
#: variant -> (the C condition under which its kernels cannot build, the target it names in the #error)
KERNEL_GUARDS = {
    "arm-dsp": ("!defined(__ARM_FEATURE_DSP)", "an Arm core with the DSP extension"),
    "arm-mve": ("!defined(__ARM_FEATURE_MVE) || !(__ARM_FEATURE_MVE & 1)", "an Arm core with Helium (MVE)"),
    "riscv": ("!defined(__riscv)", "a RISC-V core"),
    "avr": ("!defined(__AVR__) || !defined(__AVR_HAVE_MUL__)", "an AVR with MUL (ATmega)"),
}


@dataclass(frozen=True)
class PlanOptions:
    planner: str = "exact"  # "greedy" | "exact" (CP-SAT, seeded with greedy, deterministic budget)
    alignment: int = 16
    inplace: bool = True  # views for RESHAPE/SQUEEZE, in-place elementwise/depthwise/pointwise ops
    reorder: bool = True  # run branches in the order with the lowest peak (passes/reorder.py)
    #: patch-based inference of the first stage (passes/patch.py): "off", "auto", or forced
    #: "SPLIT_OP:PHxPW" (e.g. "7:3x3": op 7's output computed in a 3x3 grid of tiles)
    patch: str = "off"
    patch_budget: float = 0.25  # --patch auto: the most extra MACs allowed (0.25 = +25%)
    kernels: str = "reference"  # KERNEL_VARIANTS: which kernel variant the generated C calls
    fold_pad: bool = True  # PADs before conv/depthwise become their explicit padding (passes/fold_pad.py)
    #: ops (schedule indices after the passes) that keep the reference kernel: passes/fit_scratch.py
    #: picks them when the variant kernels' scratch would break arena_limit
    reference_ops: tuple[int, ...] = ()
    arena_limit: int = 0  # bytes the arena should not exceed (0: no limit); only variant scratch is traded
    float_io_outside: bool = True  # float model I/O in the caller's buffers, not the arena (passes/float_edges.py)
    #: integer model inputs stay in the caller's buffer too, and a patch stage may start at the input (at a float
    #: input's edge QUANTIZE): its tiles read their boxes straight from the input (passes/patch.py)
    input_outside_arena: bool = False
    #: ARENA_REGIONS: where the static arena goes; "psram" puts it in external PSRAM with the platform's
    #: placement attribute (ESP32: EXT_RAM_BSS_ATTR from esp_attr.h; empty elsewhere)
    arena_region: str = "internal"

    def __post_init__(self) -> None:
        if self.kernels not in KERNEL_VARIANTS:
            raise TinyDeployError(f"unknown kernel variant {self.kernels!r}",
                                  f"use one of: {', '.join(KERNEL_VARIANTS)}")
        if self.arena_region not in ARENA_REGIONS:
            raise TinyDeployError(f"unknown arena region {self.arena_region!r}",
                                  f"use one of: {', '.join(ARENA_REGIONS)}")

    def kernels_for(self, op_index: int) -> str:
        """The kernel variant that op `op_index` compiles with."""
        return "reference" if op_index in self.reference_ops else self.kernels

    def describe(self) -> str:
        text = (f"planner={self.planner} align={self.alignment} inplace={'on' if self.inplace else 'off'} "
                f"reorder={'on' if self.reorder else 'off'}")
        if self.patch != "off":
            text += f" patch={self.patch}" + (f" budget={self.patch_budget:g}" if self.patch == "auto" else "")
        if not self.fold_pad:
            text += " fold_pad=off"
        if not self.float_io_outside:
            text += " float_io=arena"
        if self.input_outside_arena:
            text += " input=outside"
        if self.reference_ops:
            text += f" reference_ops={','.join(map(str, self.reference_ops))}"
        if self.kernels != "reference":  # absent by default: existing models' C stays byte-identical
            text += f" kernels={self.kernels}"
        if self.arena_region != "internal":
            text += f" arena={self.arena_region}"
        return text


@dataclass
class CompiledModel:
    graph: Graph
    prefix: str
    options: PlanOptions
    source_name: str
    arena_bytes: int = 0
    lower_bound_bytes: int = 0
    scratch_bytes: int = 0
    tensor_offsets: dict[int, int] = field(default_factory=dict)
    scratch_offsets: dict[int, int] = field(default_factory=dict)
    plan: ArenaPlan | None = None
    patch: PatchInfo | None = None  # patch-based inference of the first stage (options.patch)
    #: ops put back on reference kernels to meet options.arena_limit: (op index, kind, scratch bytes saved)
    kernel_fallbacks: list[tuple[int, str, int]] = field(default_factory=list)
    header: str = ""
    source: str = ""

    @property
    def io_buffer_bytes(self) -> int:
        """Bytes of the input/output buffers kept outside the arena (Graph.external: float edges, and
        integer inputs with input_outside_arena): the generated default buffers, or the caller's own
        with <NAME>_NO_IO_BUFFERS."""
        return sum(self.graph.tensors[t].nbytes for t in self.graph.external)

    @property
    def weights_bytes(self) -> int:
        used = {t for op in self.graph.ops for t in op.inputs if t >= 0}
        return sum(self.graph.tensors[t].nbytes for t in used if self.graph.tensors[t].is_const)
