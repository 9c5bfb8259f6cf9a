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
_loaded = False


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


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for mod in pkgutil.iter_modules(__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{__name__}.{mod.name}")
        _loaded = True


def lowering_for(kind: str) -> OpLowering | None:
    _load_all()
    return _REGISTRY.get(kind)


def supported_kinds() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)
