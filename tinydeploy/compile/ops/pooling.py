"""AVERAGE_POOL_2D and MAX_POOL_2D (int8 and int16, NHWC).

LiteRT's reference integer pooling does not rescale between input and output (the converter
gives both the same quantization); the fused activation clamps in the output's quantized domain.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._arm import uses_arm_dsp
from ._common import check_fused_activation, explicit_padding_reason, row_streaming_overlap, tensors
from ._params import pool_params
from .window import Window, window

MAX_INT16_AVG_WINDOW = 65535


@register("AVERAGE_POOL_2D", "MAX_POOL_2D")
class Pool2D(OpLowering):
    header = "td_pooling.h"

    def window(self, op: Op, g: Graph) -> Window:
        inp, out, o = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]], op.options
        explicit = (tuple(out.shape[1:3]), op.explicit_padding) if op.explicit_padding is not None else None
        return window(int(o.padding), tuple(inp.shape[1:3]), (int(o.filterHeight), int(o.filterWidth)),
                      (int(o.strideH), int(o.strideW)), explicit=explicit)

    def overlap_bytes(self, op: Op, g: Graph) -> int | None:
        win = self.window(op, g)
        return row_streaming_overlap(g.tensors[op.inputs[0]], g.tensors[op.outputs[0]], win.stride_h, win.pad_h)

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
            return "pooling needs 1 input and 1 output"
        inp, out = ins[0], outs[0]
        if inp.dtype not in ("int8", "int16") or out.dtype != inp.dtype:
            return f"type combination {inp.dtype}->{out.dtype} is not supported (int8 or int16)"
        if inp.quant is None or out.quant is None:
            return "input and output must be quantized"
        if len(inp.shape) != 4 or len(out.shape) != 4:
            return "input and output must be 4-D (NHWC)"
        o = op.options
        if o is None:
            return "missing pooling options"
        if int(o.padding) not in (0, 1):
            return f"padding {o.padding} is not supported"
        if min(int(o.filterHeight), int(o.filterWidth), int(o.strideH), int(o.strideW)) <= 0:
            return "filter size and strides must be positive"
        win = self.window(op, g)
        want = (inp.shape[0], win.out_h, win.out_w, inp.shape[3])
        if tuple(out.shape) != want:
            return f"output shape {list(out.shape)} does not match the computed {list(want)}"
        if (op.kind == "AVERAGE_POOL_2D" and inp.dtype == "int16"
                and win.filter_h * win.filter_w > MAX_INT16_AVG_WINDOW):
            return f"int16 average pooling supports windows of at most {MAX_INT16_AVG_WINDOW} elements"
        why = explicit_padding_reason(op, tuple(inp.shape[1:3]), (win.out_h, win.out_w),
                                      (win.filter_h, win.filter_w), (win.stride_h, win.stride_w), (1, 1))
        return why or check_fused_activation(op)

    def macs(self, op: Op, g: Graph) -> int:
        out = g.tensors[op.outputs[0]]
        return out.size * int(op.options.filterHeight) * int(op.options.filterWidth)

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp,), (out,) = tensors(g, op)
        p = pool_params(e, g, op, self.window(op, g))
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        suffix = "s16" if inp.dtype == "int16" else "s8"
        if uses_arm_dsp(e.kernels) and suffix == "s8":
            suffix = "s8_arm_dsp"  # four channels per word (same parameters, bit-exact)
        e.call(f"td_{kind}_pool_{suffix}", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
