"""DEPTHWISE_CONV_2D for AVR (kernels="avr"): td_avr_depthwise_conv_s8 and its in-place twin (td_avr.h),
int8, any depth multiplier; per channel a header and its taps in one flash stream (ops/_avr.py)."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._avr import channel_requant, dot_widths, dr_stream, fits_int16_indexing, requant_ok
from .._common import act_range
from .._params import dw_params
from ..conv2d import bias_of, conv_window


def _channel_rows(w):
    """[1, H, W, C] weights -> [C, H * W], one row of taps per output channel."""
    return w.data.reshape(-1, w.shape[3]).T


@variant_kernel("DEPTHWISE_CONV_2D", "avr")
class AvrDepthwiseConv2D(VariantKernel):
    header = "td_avr.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        if inp.dtype != "int8" or not fits_int16_indexing(g, op) or max(w.shape[1:3]) > 255:
            return False
        return dot_widths(_channel_rows(w)) is not None and requant_ok(*channel_requant(g, op, w.shape[3]))

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        """td_avr_depthwise_conv_s8_scratch_size(): one window of taps."""
        w = g.tensors[op.inputs[1]]
        return w.shape[1] * w.shape[2]

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """The channel plane padded to the windows' extent (beyond the taps of scratch_bytes), where the
        reference has an in-place kernel (td_avr_depthwise_conv_s8_inplace_scratch_size)."""
        if lowering_for(op.kind).inplace_temp_bytes(op, g) is None:
            return None
        win = conv_window(op, g)
        return (((win.out_h - 1) * win.stride_h + (win.filter_h - 1) * win.dil_h + 1)
                * ((win.out_w - 1) * win.stride_w + (win.filter_w - 1) * win.dil_w + 1))

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        channels = w.shape[3]
        p = dw_params(e, g, op, conv_window(op, g), with_requant=False)
        bias_t = bias_of(g, op)
        stream = dr_stream(_channel_rows(w), None if bias_t is None else bias_t.data, -inp.zero_point,
                           *channel_requant(g, op, channels), (out.zero_point, *act_range(op, out)))
        stream = e.const_array(stream, "int8_t", "weights_avr", flash=True)
        if e.in_place:
            e.call("td_avr_depthwise_conv_s8_inplace", p, e.ptr(op.outputs[0]), stream,
                   e.scratch(f"td_avr_depthwise_conv_s8_inplace_scratch_size({p})", "int8_t"))
        else:
            e.call("td_avr_depthwise_conv_s8", p, e.ptr(op.inputs[0], const=True), stream, e.ptr(op.outputs[0]),
                   e.scratch(f"td_avr_depthwise_conv_s8_scratch_size({p})", "int8_t"))
