"""SPLIT and SPLIT_V: one strided copy per output (axis and sizes constant, one -1 size allowed)."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._shape_ops import const_ints, contiguous_strides, emit_copy_nd, movable, norm_axis


@register("SPLIT", "SPLIT_V")
class Split(OpLowering):
    header = "td_shape_ops.h"

    def _parts(self, op: Op, g: Graph) -> tuple[int, int, list[int]] | str:
        """(input tensor, axis, sizes) or the reason why not."""
        if op.kind == "SPLIT":
            if len(op.inputs) != 2:
                return "SPLIT needs an axis and an input"
            axis_t, in_t = op.inputs
        else:
            if len(op.inputs) != 3:
                return "SPLIT_V needs an input, size_splits and an axis"
            in_t, sizes_t, axis_t = op.inputs
        if min(in_t, axis_t) < 0:
            return "missing input"
        inp = g.tensors[in_t]
        if not g.tensors[axis_t].is_const:
            return "the axis tensor must be constant"
        raw = const_ints(g, axis_t)
        if raw is None or raw.size != 1:
            return "the axis must be one int32 value"
        axis = norm_axis(int(raw[0]), len(inp.shape))
        if axis is None:
            return "axis out of range"
        n_out = len(op.outputs)
        dim = inp.shape[axis]
        if op.kind == "SPLIT":
            if n_out == 0 or dim % n_out:
                return f"{dim} does not split into {n_out} equal parts"
            sizes = [dim // n_out] * n_out
        else:
            if sizes_t < 0 or not g.tensors[sizes_t].is_const:
                return "size_splits must be constant"
            raw = const_ints(g, sizes_t)
            if raw is None or raw.size != n_out:
                return "size_splits must hold one int32/int64 size per output"
            sizes = [int(s) for s in raw.tolist()]
            unknown = [i for i, s in enumerate(sizes) if s == -1]
            if len(unknown) > 1 or any(s < -1 for s in sizes):
                return "at most one size may be -1 and the others must be non-negative"
            if unknown:
                sizes[unknown[0]] = dim - (sum(sizes) + 1)
            if sum(sizes) != dim or min(sizes) < 0:
                return "size_splits do not add up to the input size along the axis"
        return in_t, axis, sizes

    def check(self, op: Op, g: Graph) -> str | None:
        parts = self._parts(op, g)
        if isinstance(parts, str):
            return parts
        in_t, axis, sizes = parts
        inp = g.tensors[in_t]
        reason = movable(inp)
        if reason:
            return reason
        for tid, size in zip(op.outputs, sizes):
            out = g.tensors[tid]
            want = list(inp.shape)
            want[axis] = size
            if out.dtype != inp.dtype:
                return f"output type {out.dtype} differs from input type {inp.dtype}"
            if list(out.shape) != want:
                return f"output shape {list(out.shape)} does not match {want}"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        in_t, axis, sizes = self._parts(op, g)
        inp = g.tensors[in_t]
        in_strides = contiguous_strides(inp.shape)
        pos = 0
        for tid, size in zip(op.outputs, sizes):
            out = g.tensors[tid]
            emit_copy_nd(e, out.shape, in_strides, contiguous_strides(out.shape), pos * in_strides[axis], 0,
                         inp.itemsize, e.ptr(in_t, const=True), e.ptr(tid))
            pos += size
