"""SLICE: one strided copy (begin and size constant; size -1 means up to the end)."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import const_ints, contiguous_strides, emit_copy_nd, same_dtype

MAX_DIMS = 6


@register("SLICE")
class Slice(OpLowering):
    header = "td_shape_ops.h"

    def _window(self, op: Op, g: Graph):
        inp = g.tensors[op.inputs[0]]
        begin, size = const_ints(g, op.inputs[1]), const_ints(g, op.inputs[2])
        if begin is None or size is None:
            return None
        size = [d - b if s == -1 else s for d, b, s in zip(inp.shape, begin.tolist(), size.tolist())]
        return begin.tolist(), size

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 3 or len(outs) != 1 or any(t is None for t in ins):
            return "SLICE needs input, begin, size and 1 output"
        inp, out = ins[0], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if not ins[1].is_const or not ins[2].is_const:
            return "begin and size must be constant"
        w = self._window(op, g)
        if w is None:
            return "begin and size must be int32 or int64"
        begin, size = w
        rank = len(inp.shape)
        if len(begin) != rank or len(size) != rank or rank > MAX_DIMS:
            return f"begin/size do not match the input rank {rank} (at most {MAX_DIMS} dims)"
        if any(b < 0 or s < 0 or b + s > d for b, s, d in zip(begin, size, inp.shape)):
            return "the slice is out of the input's bounds"
        if list(out.shape) != size:
            return f"output shape {list(out.shape)} does not match the slice size {size}"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        inp = g.tensors[op.inputs[0]]
        begin, size = self._window(op, g)
        strides = contiguous_strides(inp.shape)
        emit_copy_nd(e, size, strides, contiguous_strides(size), sum(b * s for b, s in zip(begin, strides)), 0,
                     inp.itemsize, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
