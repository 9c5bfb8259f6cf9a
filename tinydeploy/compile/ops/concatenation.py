"""CONCATENATION: one strided copy per input into its place in the output.

LiteRT refuses int8 inputs whose quantization differs from the output's; int16 inputs need
zero point 0 and are copied without rescaling (as LiteRT does). Constant inputs are allowed.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import fused_activation, tensors
from ._shape_ops import contiguous_strides, emit_copy_nd, movable, norm_axis, too_many_dims


@register("CONCATENATION")
class Concatenation(OpLowering):
    header = "td_shape_ops.h"

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if not ins or len(outs) != 1 or any(t is None for t in ins):
            return "CONCATENATION needs inputs and 1 output"
        out = outs[0]
        reason = movable(out)
        if reason:
            return reason
        if fused_activation(op) != 0:
            return "fused activations are not supported"
        rank = len(out.shape)
        axis = norm_axis(int(op.options.axis), rank) if op.options is not None else None
        if axis is None:
            return "axis out of range"
        total = 0
        for t in ins:
            if t.dtype != out.dtype:
                return f"input type {t.dtype} differs from output type {out.dtype}"
            if len(t.shape) != rank or any(a != b for k, (a, b) in enumerate(zip(t.shape, out.shape)) if k != axis):
                return "input shapes do not match the output"
            total += t.shape[axis]
            if out.dtype == "int8" and (t.quant is None or out.quant is None or t.scale != out.scale
                                        or t.zero_point != out.zero_point):
                return "int8 inputs must have the output's quantization (LiteRT does not rescale them)"
            if out.dtype == "int16" and (t.zero_point != 0 or out.zero_point != 0):
                return "int16 inputs and output need zero point 0"
            reason = too_many_dims(t.shape, contiguous_strides(t.shape), contiguous_strides(out.shape))
            if reason:
                return reason
        if total != out.shape[axis]:
            return "input sizes along the axis do not add up to the output's"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        out = g.tensors[op.outputs[0]]
        axis = norm_axis(int(op.options.axis), len(out.shape))
        out_strides = contiguous_strides(out.shape)
        pos = 0
        for tid in op.inputs:
            t = g.tensors[tid]
            emit_copy_nd(e, t.shape, contiguous_strides(t.shape), out_strides, 0, pos * out_strides[axis],
                         out.itemsize, e.ptr(tid, const=True), e.ptr(op.outputs[0]))
            pos += t.shape[axis]
