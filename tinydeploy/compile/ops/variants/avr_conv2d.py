"""CONV_2D for AVR (kernels="avr"): td_avr_conv_s8 and its in-place 1x1 twin (td_avr.h), int8, one group;
per output channel a header and the weights in one flash stream (ops/_avr.py), read with ELPM Z+."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._avr import block_bytes, channel_requant, dot_widths, dr_stream, fits_int16_indexing, requant_ok
from .._common import act_range
from .._params import conv_params
from ..conv2d import bias_of, conv_window


@variant_kernel("CONV_2D", "avr")
class AvrConv2D(VariantKernel):
    header = "td_avr.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        if inp.dtype != "int8" or w.shape[3] != inp.shape[3] or not fits_int16_indexing(g, op):
            return False
        rows = w.data.reshape(w.shape[0], -1)
        return dot_widths(rows) is not None and requant_ok(*channel_requant(g, op, w.shape[0]))

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        """td_avr_conv_s8_scratch_size(): one block of gathered windows (none for a 1x1 filter)."""
        w, out = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        k = w.shape[1] * w.shape[2] * w.shape[3]
        return 0 if k == w.shape[3] else block_bytes(k, out.shape[2])

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """td_avr_conv_1x1_s8_inplace_scratch_size(): one block of input pixels, where the reference has the
        twin (the out-of-place scratch of a 1x1 filter is 0)."""
        if lowering_for(op.kind).inplace_temp_bytes(op, g) is None:
            return None
        inp = g.tensors[op.inputs[0]]
        return block_bytes(inp.shape[3], inp.shape[0] * inp.shape[1] * inp.shape[2])

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        p = conv_params(e, g, op, conv_window(op, g), with_requant=False)
        bias_t = bias_of(g, op)
        clamp = (out.zero_point, *act_range(op, out))  # the saturation bounds in the headers
        stream = dr_stream(w.data.reshape(w.shape[0], -1), None if bias_t is None else bias_t.data,
                           -inp.zero_point, *channel_requant(g, op, w.shape[0]), clamp)
        stream = e.const_array(stream, "int8_t", "weights_avr", flash=True)
        if e.in_place:
            e.call("td_avr_conv_1x1_s8_inplace", p, e.ptr(op.outputs[0]), stream,
                   e.scratch(f"td_avr_conv_1x1_s8_inplace_scratch_size({p})", "int8_t"))
            return
        scratch = e.scratch(f"td_avr_conv_s8_scratch_size({p})", "int8_t") if self.scratch_bytes(op, g) else "NULL"
        e.call("td_avr_conv_s8", p, e.ptr(op.inputs[0], const=True), stream, e.ptr(op.outputs[0]), scratch)
