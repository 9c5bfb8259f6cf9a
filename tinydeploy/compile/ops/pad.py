"""PAD and PADV2: fill the output with the pad value, then copy the input into its interior.

PAD pads with the output zero point, PADV2 with its (constant) constant_values tensor; no
rescaling happens between input and output, as in LiteRT.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import const_ints, contiguous_strides, emit_copy_nd, same_dtype, too_many_dims

MAX_DIMS = 6
FILL_TYPES = {"int8": 1, "uint8": 1, "bool": 1, "int16": 2, "int32": 4}


@register("PAD", "PADV2")
class Pad(OpLowering):
    header = "td_shape_ops.h"

    def _pads(self, op: Op, g: Graph):
        raw = const_ints(g, op.inputs[1])
        return None if raw is None else raw.reshape(-1, 2).tolist()

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) < 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
            return f"{op.kind} needs an input, a paddings tensor and 1 output"
        inp, pads_t, out = ins[0], ins[1], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if out.dtype not in FILL_TYPES:
            return f"type {out.dtype} is not supported"
        if not pads_t.is_const:
            return "the paddings tensor must be constant"
        pads = self._pads(op, g)
        if pads is None:
            return "paddings must be int32 or int64"
        rank = len(inp.shape)
        if len(pads) != rank or rank > MAX_DIMS:
            return f"paddings do not match the input rank {rank} (at most {MAX_DIMS} dims)"
        if any(a < 0 or b < 0 for a, b in pads):
            return "negative paddings are not supported"
        want = [d + a + b for d, (a, b) in zip(inp.shape, pads)]
        if list(out.shape) != want:
            return f"output shape {list(out.shape)} does not match the padded shape {want}"
        if len(ins) > 2 and ins[2] is not None:
            cv = ins[2]
            if not cv.is_const:
                return "the constant_values tensor must be constant"
            if cv.dtype != out.dtype or cv.size != 1:
                return "constant_values must be one value of the output type"
        return too_many_dims(inp.shape, contiguous_strides(inp.shape), contiguous_strides(out.shape))

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        pads = self._pads(op, g)
        if out.size == 0:
            return
        value = out.zero_point
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = int(g.tensors[op.inputs[2]].data.reshape(-1)[0])
        if out.size != inp.size:
            e.call("td_fill", e.ptr(op.outputs[0]), str(value), f"{out.size}L", str(FILL_TYPES[out.dtype]))
        out_strides = contiguous_strides(out.shape)
        offset = sum(a * s for (a, _), s in zip(pads, out_strides))
        emit_copy_nd(e, inp.shape, contiguous_strides(inp.shape), out_strides, 0, offset, inp.itemsize,
                     e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
