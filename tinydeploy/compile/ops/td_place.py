"""Internal ops of patch-based inference (passes/patch.py); they never appear in .tflite files.

TD_CROP copies a box of its input (begin, size per dimension) into its own output: a tile's input
region read from the full tensor. TD_PLACE copies its whole input into a box of its output: a
tile's result written into the stage output. Both are one strided copy (td_copy_nd). When the
planner put the two buffers at the same address (a tile whose box is contiguous, stored as a view
into the full tensor), there is nothing to copy and nothing is emitted.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Op
from . import OpLowering, register
from ._shape_ops import contiguous_strides, emit_copy_nd, too_many_dims

#: element types moved (the copy never looks at the values)
_TYPES = ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")


@dataclass(frozen=True)
class RegionOptions:
    """The box in the full tensor: begin and size per dimension (NHWC for patches)."""

    begin: tuple[int, ...]
    size: tuple[int, ...]


def region_offset(shape, begin) -> int:
    """Element index of `begin` in a row-major tensor of `shape`."""
    return sum(int(b) * s for b, s in zip(begin, contiguous_strides(shape)))


def region_span(shape, begin, size) -> tuple[int, int]:
    """[first, last + 1) element indices that a box touches in a row-major tensor of `shape`."""
    last = [int(b) + int(s) - 1 for b, s in zip(begin, size)]
    return region_offset(shape, begin), region_offset(shape, last) + 1


@register("TD_CROP", "TD_PLACE")
class Region(OpLowering):
    header = "td_shape_ops.h"

    def _full_and_box(self, op: Op, g: Graph):
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        return (inp, out) if op.kind == "TD_CROP" else (out, inp)

    def check(self, op: Op, g: Graph) -> str | None:
        if len(op.inputs) != 1 or len(op.outputs) != 1 or op.inputs[0] < 0:
            return f"{op.kind} needs 1 input and 1 output"
        o = op.options
        if not isinstance(o, RegionOptions):
            return f"{op.kind} needs RegionOptions"
        full, box = self._full_and_box(op, g)
        if full.dtype != box.dtype or full.dtype not in _TYPES:
            return f"type {full.dtype} -> {box.dtype} is not supported"
        rank = len(full.shape)
        if len(o.begin) != rank or len(o.size) != rank or tuple(box.shape) != tuple(o.size):
            return f"box {o.begin}+{o.size} does not match shapes {list(full.shape)} / {list(box.shape)}"
        if any(b < 0 or s < 1 or b + s > d for b, s, d in zip(o.begin, o.size, full.shape)):
            return f"box {o.begin}+{o.size} is out of the bounds of {list(full.shape)}"
        strides = contiguous_strides(full.shape)
        return too_many_dims(o.size, strides, contiguous_strides(o.size))

    def emit(self, op: Op, g: Graph, e) -> None:
        o = op.options
        full, box = self._full_and_box(op, g)
        full_strides, box_strides = contiguous_strides(full.shape), contiguous_strides(o.size)
        at = region_offset(full.shape, o.begin)
        full_t, box_t = (op.inputs[0], op.outputs[0]) if op.kind == "TD_CROP" else (op.outputs[0], op.inputs[0])
        if e.offsets[box_t] == e.offsets[full_t] + at * full.itemsize and is_contiguous_box(full.shape, o.begin,
                                                                                            o.size):
            e.comment("the box is stored in place in the full tensor: nothing to copy")
            return
        src, dst = e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0])
        if op.kind == "TD_CROP":
            emit_copy_nd(e, o.size, full_strides, box_strides, at, 0, full.itemsize, src, dst, "crop")
        else:
            emit_copy_nd(e, o.size, box_strides, full_strides, 0, at, full.itemsize, src, dst, "place")


def is_contiguous_box(shape, begin, size) -> bool:
    """True when the box's elements are one contiguous run of the row-major tensor."""
    lo, hi = region_span(shape, begin, size)
    n = 1
    for s in size:
        n *= int(s)
    return hi - lo == n
