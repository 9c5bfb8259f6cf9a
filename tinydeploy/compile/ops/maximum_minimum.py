"""MAXIMUM and MINIMUM: int8 and int16, numpy broadcasting. TFLite compares the raw quantized
values without rescaling, so the kernels do too (whatever the tensors' scales)."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from .add_sub import bcast_fields, broadcast_check


@register("MAXIMUM", "MINIMUM")
class MaximumMinimum(OpLowering):
    header = "td_elementwise.h"
    inplace = True  # safe when input 0 has the output's shape and type (see td_elementwise.h)

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
            return "needs 2 inputs and 1 output"
        a, b, out = ins[0], ins[1], outs[0]
        if not (a.dtype == b.dtype == out.dtype) or a.dtype not in ("int8", "int16"):
            return f"type combination {a.dtype}/{b.dtype}->{out.dtype} is not supported (int8 or int16)"
        return broadcast_check(g, op)

    def emit(self, op: Op, g: Graph, e) -> None:
        out = g.tensors[op.outputs[0]]
        p = e.params("td_bcast", bcast_fields(g, op), hint="bcast")
        fn = ("td_maximum" if op.kind == "MAXIMUM" else "td_minimum") + ("_s16" if out.dtype == "int16" else "_s8")
        e.call(fn, p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True), e.ptr(op.outputs[0]))
