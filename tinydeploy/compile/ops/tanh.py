"""TANH: int8 through a 256-entry table built with glibc's tanhf, int16 through TFLite's sigmoid
table kernel (tanh(x) = 2 * sigmoid(2x) - 1). See logistic.py for the shared helpers.

Unlike LOGISTIC, LiteRT puts no constraint on the int8 output quantization (the table absorbs
it); int16 needs zero points 0 and an output scale of 1/32768 (within CheckedLog2's tolerance),
and power-of-two input scales 2^-12 and 2^-11 take the multiplier-0 shortcut.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from .logistic import check_s16_activation, emit_activation, lut_check, tanhf

_POT_SHIFTS = (0, 1)


@register("TANH")
class Tanh(OpLowering):
    header = "td_logistic_tanh.h"
    inplace = True

    def check(self, op: Op, g: Graph) -> str | None:
        inp, out, why = lut_check(op, g)
        if why:
            return why
        if inp.dtype == "int16":
            return check_s16_activation(inp, out, _POT_SHIFTS)
        if not out.scale > 0:
            return "output scale must be positive"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.outputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        emit_activation(op, g, e, tanhf, "td_tanh_s16", _POT_SHIFTS)
