"""STRIDED_SLICE: begin/end/strides constant, all masks, negative strides, the offset flag.

The index arithmetic follows LiteRT's strided_slice.cc (ellipsis and new-axis expansion) and
strided_slice_logic.h (StridedSliceStartForAxis / StridedSliceEndForAxis); the result is one
strided copy whose source strides are the input strides times the slice strides.
"""
from __future__ import annotations

import math

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import const_ints, contiguous_strides, emit_copy_nd, same_dtype, too_many_dims

MAX_DIMS = 5  # LiteRT: 1-D to 5-D inputs, at most 5 dims including new axes


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else (lo if v < lo else v)


def effective_params(rank: int, shape, begin, end, strides, begin_mask, end_mask, ellipsis_mask,
                     new_axis_mask, shrink_mask):
    """Expand ellipsis/new-axis masks (LiteRT BuildStridedSliceParams). Returns per effective dim
    (size, start_index, stop_index, stride, begin_bit, end_bit, shrink_bit, input_dim or None)."""
    count = len(begin)
    num_add = sum(1 for i in range(count) if not (ellipsis_mask >> i) & 1 and (new_axis_mask >> i) & 1)
    eff = rank + num_add
    eff_ellipsis = eff_new = 0
    ellipsis_start, expanded = eff, 0
    i = 0
    while i < eff:
        if (ellipsis_mask >> i) & 1:
            ellipsis_start = i
            stop = max(i + 1, min(i + 1 + num_add + rank - count, eff))
            expanded = stop - ellipsis_start - 1
            while i < stop:
                eff_ellipsis |= 1 << i
                i += 1
            continue
        if i - expanded >= 0 and (new_axis_mask >> (i - expanded)) & 1:
            eff_new |= 1 << i
        i += 1
    dims = []
    added_ellipsis = added_axes = 0
    for i in range(eff):
        if (eff_ellipsis >> i) & 1:
            added_ellipsis = max(0, i - ellipsis_start)
            dims.append((shape[i - added_axes], 0, 0, 1, True, True, False, i - added_axes))
        elif (eff_new >> i) & 1:
            dims.append((1, 0, 1, 1, False, False, False, None))
            added_axes += 1
        elif i >= count + expanded:
            dims.append((shape[i - added_axes], 0, 0, 1, True, True, False, i - added_axes))
        else:
            o = i - added_ellipsis
            dims.append((shape[i - added_axes], begin[o], end[o], strides[o], bool((begin_mask >> o) & 1),
                         bool((end_mask >> o) & 1), bool((shrink_mask >> o) & 1), i - added_axes))
    return dims


def start_for_axis(size: int, start: int, stride: int, begin_bit: bool) -> int:
    if start < 0:
        start += size
    start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
    if begin_bit:
        start = 0 if stride > 0 else size - 1
    return start


def end_for_axis(size: int, start: int, stop: int, stride: int, end_bit: bool, shrink: bool, offset: bool) -> int:
    if shrink:
        return start if start >= size else start + 1
    end = stop + start if offset else stop
    if end < 0:
        end += size
    end = _clamp(end, 0, size) if stride > 0 else _clamp(end, -1, size - 1)
    if end_bit:
        end = size if stride > 0 else -1
    return end


def loop_count(start: int, end: int, stride: int) -> int:
    return max(0, -(-(end - start) // stride)) if stride > 0 else max(0, -(-(start - end) // -stride))


@register("STRIDED_SLICE")
class StridedSlice(OpLowering):
    header = "td_shape_ops.h"

    def _plan(self, op: Op, g: Graph):
        """(dims, src_strides, src_offset, output_shape_litert) or a reason string."""
        inp = g.tensors[op.inputs[0]]
        begin, end, strides = (const_ints(g, t) for t in op.inputs[1:4])
        if begin is None or end is None or strides is None:
            return "begin, end and strides must be constant int32 tensors"
        begin, end, strides = begin.tolist(), end.tolist(), strides.tolist()
        if not (len(begin) == len(end) == len(strides)):
            return "begin, end and strides must have the same length"
        if any(s == 0 for s in strides):
            return "strides must be non-zero"
        o = op.options
        masks = [int(getattr(o, k, 0) or 0) for k in ("beginMask", "endMask", "ellipsisMask", "newAxisMask",
                                                      "shrinkAxisMask")]
        offset = bool(getattr(o, "offset", False))
        rank = len(inp.shape)
        if offset and (masks[2] or masks[3] or len(begin) != rank):
            return "the offset flag combined with ellipsis or new-axis masks (or short begin/end) is not supported"
        eff = effective_params(rank, list(inp.shape), begin, end, strides, *masks)
        if len(eff) > MAX_DIMS:
            return f"at most {MAX_DIMS} dimensions (including new axes) are supported"
        in_strides = contiguous_strides(inp.shape)
        dims, src_strides, out_shape, src_offset = [], [], [], 0
        for idx, (size, b, e, s, bb, eb, shrink, in_dim) in enumerate(eff):
            start = start_for_axis(size, b, s, bb)
            stop = end_for_axis(size, start, e, s, eb, shrink, offset)
            n = loop_count(start, stop, s)
            dims.append(n)
            step = in_strides[in_dim] if in_dim is not None else 0
            src_strides.append(step * s)
            if n > 0:
                src_offset += start * step
            if not shrink:
                if offset:  # LiteRT sizes the output from the raw end values
                    shape_n = max(0, math.ceil(end[idx] / s))
                else:
                    shape_n = n
                out_shape.append(shape_n)
        return dims, src_strides, src_offset, out_shape

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 4 or len(outs) != 1 or any(t is None for t in ins):
            return "STRIDED_SLICE needs input, begin, end, strides and 1 output"
        inp, out = ins[0], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if not all(t.is_const for t in ins[1:]):
            return "begin, end and strides must be constant"
        if any(t.dtype != "int32" for t in ins[1:]):
            return "begin, end and strides must be int32"
        if len(inp.shape) > MAX_DIMS or len(inp.shape) == 0:
            return f"input rank {len(inp.shape)} is not supported (1..{MAX_DIMS})"
        plan = self._plan(op, g)
        if isinstance(plan, str):
            return plan
        dims, src_strides, _, out_shape = plan
        if list(out.shape) != out_shape:
            return f"output shape {list(out.shape)} does not match the computed {out_shape}"
        n = 1
        for d in dims:
            n *= d
        if n != out.size:
            return "the slice reads a different number of elements than the output holds"
        return too_many_dims(dims, src_strides, contiguous_strides(dims))

    def emit(self, op: Op, g: Graph, e) -> None:
        inp = g.tensors[op.inputs[0]]
        dims, src_strides, src_offset, _ = self._plan(op, g)
        emit_copy_nd(e, dims, src_strides, contiguous_strides(dims), src_offset, 0, inp.itemsize,
                     e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
