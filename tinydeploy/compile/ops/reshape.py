"""RESHAPE, SQUEEZE, EXPAND_DIMS: the output is the input's bytes (a view).

The planner puts input and output at the same arena offset when it can (`view = True`); a copy
is emitted only when they end up in different places or the input is a constant.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import movable


@register("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
class Reshape(OpLowering):
    header = "tinydeploy.h"
    view = True

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if not ins or ins[0] is None or len(outs) != 1:
            return f"{op.kind} needs an input and 1 output"
        inp, out = ins[0], outs[0]
        for extra in ins[1:]:
            if extra is not None and not extra.is_const:
                what = "shape" if op.kind == "RESHAPE" else "axis"
                return f"the {what} tensor must be constant"
        if inp.dtype != out.dtype:
            return f"input type {inp.dtype} differs from output type {out.dtype}"
        if inp.size != out.size:
            return f"input size {inp.size} differs from output size {out.size}"
        return movable(inp)

    def emit(self, op: Op, g: Graph, e) -> None:
        src, dst = op.inputs[0], op.outputs[0]
        t = g.tensors[src]
        if t.nbytes == 0:
            return
        if t.is_const or e.offsets.get(src) != e.offsets.get(dst):
            e.call("td_copy", e.ptr(dst, "void"), e.ptr(src, "void", const=True), f"{t.nbytes}UL")
