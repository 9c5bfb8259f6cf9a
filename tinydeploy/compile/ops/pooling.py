"""AVERAGE_POOL_2D and MAX_POOL_2D (int8 and int16, NHWC).

LiteRT's reference integer pooling does not rescale between input and output (the converter
gives both the same quantization); the fused activation clamps in the output's quantized domain.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import (
    act_range,
    check_fused_activation,
    explicit_padding_reason,
    row_streaming_overlap,
    tensors,
)

MAX_INT16_AVG_WINDOW = 65535


def out_size(padding: int, size: int, filt: int, stride: int) -> int:
    """TFLite ComputeOutSize (dilation 1): padding 0 = SAME, 1 = VALID."""
    if padding == 0:
        return (size + stride - 1) // stride
    return (size + stride - filt) // stride


def pad_before(size: int, filt: int, stride: int, out: int) -> int:
    """TFLite ComputePaddingWithOffset: the padding before the first row/column."""
    total = (out - 1) * stride + filt - size
    return max(total, 0) // 2


@register("AVERAGE_POOL_2D", "MAX_POOL_2D")
class Pool2D(OpLowering):
    header = "td_pooling.h"

    def _geometry(self, op: Op, g: Graph) -> dict:
        (inp,), (out,) = tensors(g, op)
        o = op.options
        n, h, w, c = inp.shape
        fh, fw, sh, sw = int(o.filterHeight), int(o.filterWidth), int(o.strideH), int(o.strideW)
        oh, ow = out_size(int(o.padding), h, fh, sh), out_size(int(o.padding), w, fw, sw)
        ph, pw = pad_before(h, fh, sh, oh), pad_before(w, fw, sw, ow)
        if op.explicit_padding is not None:  # a patch of a larger tensor (passes/patch.py)
            (oh, ow), (ph, pw) = g.tensors[op.outputs[0]].shape[1:3], op.explicit_padding
        return dict(batches=n, input_height=h, input_width=w, depth=c, output_height=oh, output_width=ow,
                    stride_height=sh, stride_width=sw, filter_height=fh, filter_width=fw,
                    pad_height=ph, pad_width=pw)

    def overlap_bytes(self, op: Op, g: Graph) -> int | None:
        geo = self._geometry(op, g)
        return row_streaming_overlap(g.tensors[op.inputs[0]], g.tensors[op.outputs[0]], geo["stride_height"],
                                     geo["pad_height"])

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
        geo = self._geometry(op, g)
        want = (geo["batches"], geo["output_height"], geo["output_width"], geo["depth"])
        if tuple(out.shape) != want:
            return f"output shape {list(out.shape)} does not match the computed {list(want)}"
        if (op.kind == "AVERAGE_POOL_2D" and inp.dtype == "int16"
                and geo["filter_height"] * geo["filter_width"] > MAX_INT16_AVG_WINDOW):
            return f"int16 average pooling supports windows of at most {MAX_INT16_AVG_WINDOW} elements"
        why = explicit_padding_reason(op, (geo["input_height"], geo["input_width"]),
                                      (geo["output_height"], geo["output_width"]),
                                      (geo["filter_height"], geo["filter_width"]),
                                      (geo["stride_height"], geo["stride_width"]), (1, 1))
        return why or check_fused_activation(op)

    def macs(self, op: Op, g: Graph) -> int:
        out = g.tensors[op.outputs[0]]
        return out.size * int(op.options.filterHeight) * int(op.options.filterWidth)

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp,), (out,) = tensors(g, op)
        lo, hi = act_range(op, out)
        geo = self._geometry(op, g)
        p = e.params("td_pool_params", list(geo.items()) + [("act_min", lo), ("act_max", hi)])
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        suffix = "s16" if inp.dtype == "int16" else "s8"
        e.call(f"td_{kind}_pool_{suffix}", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
