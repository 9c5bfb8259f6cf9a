"""Op registry: one module per TFLite builtin, each registering an OpLowering.

An OpLowering says whether it can compile an op (`check`), how much scratch memory its
kernel needs (`scratch_bytes`), how many MACs it costs (`macs`), and emits the C call
(`emit`) through an Emitter that hands out tensor pointers and constant arrays.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:
    from ..codegen.emitter import Emitter
    from ..ir import Graph, Op
    from .window import Window

_REGISTRY: dict[str, "OpLowering"] = {}
_VARIANTS: dict[tuple[str, str], list["VariantKernel"]] = {}  # (op kind, variant) -> kernels, first wins
_loaded = False

#: PlanOptions.kernels -> the variants whose kernels it may call, best first. Ops that none of them
#: takes go to the OpLowering itself (reference kernels; the arm-dsp kernels live there too).
#: Cortex-M55 has the DSP extension: where no Helium kernel takes an op, the arm-dsp one may.
VARIANT_CHAIN: dict[str, tuple[str, ...]] = {
    "reference": (), "arm-dsp": ("arm-dsp",), "arm-mve": ("arm-mve", "arm-dsp"),
    "riscv": ("riscv",), "avr": ("avr",),
}


class OpLowering:
    """Base class; subclasses are registered with @register("BUILTIN_NAME")."""

    kind: str = ""
    header: str = "tinydeploy.h"  # C header that declares this op's kernel
    #: True when the output may be written over input 0 (elementwise ops): used by the planner
    inplace: bool = False
    #: True when the output is the input's bytes reinterpreted (RESHAPE, SQUEEZE): shares storage
    view: bool = False

    def check(self, op: "Op", g: "Graph") -> str | None:
        """Return why this op cannot be compiled, or None when it can."""
        return None

    def scratch_bytes(self, op: "Op", g: "Graph") -> int:
        return 0

    def variant_scratch_bytes(self, op: "Op", g: "Graph", kernels: str) -> int:
        """scratch_bytes of the kernel that `kernels` (PlanOptions.kernels) makes emit() call."""
        return self.scratch_bytes(op, g)

    def macs(self, op: "Op", g: "Graph") -> int:
        return 0

    def window(self, op: "Op", g: "Graph") -> "Window | None":
        """The sliding window (filter, stride, dilation, padding, output size) of a conv-like or
        pooling op; None for ops without one (ops/window.py)."""
        return None

    def inplace_temp_bytes(self, op: "Op", g: "Graph") -> int | None:
        """Scratch bytes needed to write the output over input 0 with an in-place kernel
        (TinyEngine-style depthwise/pointwise), or None when this op has no such kernel.
        When the planner picks it, op.index is in Emitter.inplace_ops and e.scratch() holds the temp."""
        return None

    def variant_inplace_temp_bytes(self, op: "Op", g: "Graph", kernels: str) -> int | None:
        """inplace_temp_bytes of the in-place kernel that `kernels` makes emit() call."""
        return self.inplace_temp_bytes(op, g)

    def overlap_bytes(self, op: "Op", g: "Graph") -> int | None:
        """For kernels that stream output rows in order (conv, depthwise, pooling): how many bytes
        before its input the output may start, in one shared buffer, without overwriting an input row
        that is still to be read (see ops/_common.row_streaming_overlap). None: not supported."""
        return None

    def emit(self, op: "Op", g: "Graph", e: "Emitter") -> None:
        raise NotImplementedError


class VariantKernel:
    """An optimized kernel of one variant for one op kind, registered with @variant_kernel(KIND, VARIANT)
    in ops/variants/. It takes the ops accepts() says yes to; the others go to the next variant in
    VARIANT_CHAIN, then to the OpLowering. Its C must build only on its architecture (#if guard)."""

    kind: str = ""
    variant: str = ""
    header: str = "tinydeploy.h"  # C header that declares the kernel

    def accepts(self, op: "Op", g: "Graph") -> bool:
        return True

    def scratch_bytes(self, op: "Op", g: "Graph") -> int:
        return 0

    def inplace_temp_bytes(self, op: "Op", g: "Graph") -> int | None:
        """As OpLowering.inplace_temp_bytes, for this kernel's in-place twin (None: it has none, and an
        op the planner puts in place goes to the next kernel in the chain)."""
        return None

    def emit(self, op: "Op", g: "Graph", e: "Emitter") -> None:
        raise NotImplementedError


L = TypeVar("L", bound=type)


def register(*kinds: str) -> Callable[[L], L]:
    """Class decorator: register the lowering for one or more TFLite builtin names."""

    def wrap(cls: L) -> L:
        for kind in kinds:
            inst = cls()
            inst.kind = kind
            _REGISTRY[kind] = inst
        return cls

    return wrap


def variant_kernel(kind: str, variant: str) -> Callable[[L], L]:
    """Class decorator: register a VariantKernel subclass for one op kind and one PlanOptions.kernels."""

    def wrap(cls: L) -> L:
        inst = cls()
        inst.kind, inst.variant = kind, variant
        _VARIANTS.setdefault((kind, variant), []).append(inst)
        return cls

    return wrap


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for pkg_path, pkg in ((__path__, __name__), (_variants_path(), f"{__name__}.variants")):
            for mod in pkgutil.iter_modules(pkg_path):
                if not mod.name.startswith("_"):
                    importlib.import_module(f"{pkg}.{mod.name}")
        _loaded = True


def _variants_path() -> list[str]:
    from . import variants
    return list(variants.__path__)


def variant_for(op: "Op", g: "Graph", kernels: str, in_place: bool = False) -> VariantKernel | None:
    """The VariantKernel that runs `op` under PlanOptions.kernels `kernels` (None: the OpLowering does).
    in_place: the planner writes the output over input 0, so only kernels with an in-place twin count."""
    _load_all()
    for variant in VARIANT_CHAIN.get(kernels, ()):
        for k in _VARIANTS.get((op.kind, variant), ()):
            if k.accepts(op, g) and (not in_place or k.inplace_temp_bytes(op, g) is not None):
                return k
    return None


def kernel_scratch_bytes(op: "Op", g: "Graph", kernels: str) -> int:
    """Scratch bytes of the kernel that runs `op` out of place under `kernels`."""
    v = variant_for(op, g, kernels)
    return v.scratch_bytes(op, g) if v else lowering_for(op.kind).variant_scratch_bytes(op, g, kernels)


def kernel_inplace_temp_bytes(op: "Op", g: "Graph", kernels: str) -> int | None:
    """Temp bytes of the in-place kernel that would run `op` under `kernels` (None: none can)."""
    v = variant_for(op, g, kernels, in_place=True)
    return v.inplace_temp_bytes(op, g) if v else lowering_for(op.kind).variant_inplace_temp_bytes(op, g, kernels)


def emit_op(op: "Op", g: "Graph", e: "Emitter") -> str:
    """Emit `op` (inside e.op_scope(op)) through the kernel that e.kernels picks (a VariantKernel, else
    the OpLowering); returns the header that declares it."""
    kernel = variant_for(op, g, e.kernels, in_place=e.in_place) or lowering_for(op.kind)
    kernel.emit(op, g, e)
    return kernel.header


def lowering_for(kind: str) -> OpLowering | None:
    _load_all()
    return _REGISTRY.get(kind)


def supported_kinds() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)
