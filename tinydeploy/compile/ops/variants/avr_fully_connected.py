"""FULLY_CONNECTED for AVR (kernels="avr"): td_avr_fully_connected_s8 (td_avr.h), int8, symmetric weights;
per unit a header and its weights in one flash stream (ops/_avr.py)."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._avr import channel_requant, dot_widths, requant_ok, sr_stream
from .._params import fc_params


@variant_kernel("FULLY_CONNECTED", "avr")
class AvrFullyConnected(VariantKernel):
    header = "td_avr.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        if inp.dtype != "int8" or w.zero_point != 0 or w.shape[-1] < 1 or inp.nbytes >= 2**15:
            return False
        if w.quant is not None and w.quant.zero_point.any():
            return False
        rows = w.data.reshape(w.shape[0], -1)
        return dot_widths(rows) is not None and requant_ok(*channel_requant(g, op, w.shape[0]))

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        depth, units = w.shape[-1], w.shape[0]
        p = fc_params(e, g, op, with_requant=False)
        bias_t = g.tensor(op.inputs[2]) if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        stream = sr_stream(w.data.reshape(units, depth), None if bias_t is None else bias_t.data, -inp.zero_point,
                           *channel_requant(g, op, units))
        e.call("td_avr_fully_connected_s8", p, e.ptr(op.inputs[0], const=True),
               e.const_array(stream, "int8_t", "weights_avr", flash=True), e.ptr(op.outputs[0]))
