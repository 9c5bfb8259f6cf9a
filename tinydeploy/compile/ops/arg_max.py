"""ARG_MAX and ARG_MIN over one constant axis: int8 input (LiteRT has no int16 variant),
int32 or int64 output; ties keep the first index."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import const_ints, norm_axis


@register("ARG_MAX", "ARG_MIN")
class ArgMinMax(OpLowering):
    header = "td_argmax.h"

    def _axis(self, op: Op, g: Graph) -> int | None:
        raw = const_ints(g, op.inputs[1])
        if raw is None or raw.size != 1:
            return None
        return norm_axis(int(raw[0]), len(g.tensors[op.inputs[0]].shape))

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or any(t is None for t in ins):
            return f"{op.kind} needs an input, an axis and 1 output"
        inp, axis_t, out = ins[0], ins[1], outs[0]
        if inp.dtype != "int8":
            return f"input type {inp.dtype} is not supported (int8 only)"
        if out.dtype not in ("int32", "int64"):
            return f"output type {out.dtype} is not supported (int32 or int64)"
        if not axis_t.is_const:
            return "the axis tensor must be constant"
        axis = self._axis(op, g)
        if axis is None:
            return "the axis must be one int32/int64 value within the input rank"
        want = [d for i, d in enumerate(inp.shape) if i != axis]
        if list(out.shape) != want:
            return f"output shape {list(out.shape)} does not match {want}"
        if inp.shape[axis] == 0:
            return "empty axis"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.inputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        axis = self._axis(op, g)
        if out.size == 0:
            return
        p = e.params("td_arg_minmax_params", [
            ("outer", int(np.prod(inp.shape[:axis], dtype=np.int64))), ("axis_size", inp.shape[axis]),
            ("inner", int(np.prod(inp.shape[axis + 1:], dtype=np.int64))),
            ("is_min", int(op.kind == "ARG_MIN")), ("out_int64", int(out.dtype == "int64")),
        ])
        e.call("td_arg_minmax_s8", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0], "void"))
