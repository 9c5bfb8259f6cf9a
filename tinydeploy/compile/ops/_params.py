"""The parameter structs of the conv-like, fully-connected and pooling kernels, built once for the
OpLowerings and every variant kernel (ops/variants/), plus what the variants' checks share."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ._common import NO_REQUANT, activation, nhwc, requant, window_struct
from .window import Window


def int8_symmetric(op: Op, g: Graph, out_too: bool = False) -> bool:
    """int8 input (and output, with out_too) with symmetric weights (zero point 0)."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    symmetric = w.quant is None or not np.asarray(w.quant.zero_point).any()
    return inp.dtype == "int8" and symmetric and (not out_too or out.dtype == "int8")


def plain_conv(op: Op, g: Graph) -> bool:
    """int8, symmetric weights, one group (the filter depth is the input's), padding never negative
    (what the riscv conv and depthwise kernels take; SAME/VALID padding is never negative, a
    patch's explicit one may be)."""
    inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    pads = op.explicit_padding or (0, 0)
    return int8_symmetric(op, g) and w.shape[3] == inp.shape[3] and min(pads) >= 0


def conv_params(e, g: Graph, op: Op, win: Window, with_requant: bool = True) -> str:
    """&td_conv_params of a CONV_2D (NO_REQUANT when the kernel reads its requantization elsewhere)."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    return e.params("td_conv_params", [
        ("input", nhwc(inp.shape)), ("output", nhwc(out.shape)), ("filter_c", w.shape[3]),
        ("window", window_struct(win)), ("input_offset", -inp.zero_point), ("output_offset", out.zero_point),
        ("requant", requant(e, g, op, inp, w, out, w.shape[0]) if with_requant else NO_REQUANT),
        ("activation", activation(op, out)),
    ])


def dw_params(e, g: Graph, op: Op, win: Window, with_requant: bool = True) -> str:
    """&td_dw_conv_params of a DEPTHWISE_CONV_2D."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    channels = w.shape[3]
    return e.params("td_dw_conv_params", [
        ("input", nhwc(inp.shape)), ("output", nhwc(out.shape)), ("depth_multiplier", channels // inp.shape[3]),
        ("window", window_struct(win)), ("input_offset", -inp.zero_point), ("output_offset", out.zero_point),
        ("requant", requant(e, g, op, inp, w, out, channels) if with_requant else NO_REQUANT),
        ("activation", activation(op, out)),
    ])


def fc_params(e, g: Graph, op: Op, with_requant: bool = True) -> str:
    """&td_fc_params of a FULLY_CONNECTED."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    depth, units = w.shape[-1], w.shape[0]
    return e.params("td_fc_params", [
        ("batches", inp.size // depth), ("accum_depth", depth), ("output_depth", units),
        ("input_offset", -inp.zero_point), ("filter_offset", -w.zero_point), ("output_offset", out.zero_point),
        ("requant", requant(e, g, op, inp, w, out, units) if with_requant else NO_REQUANT),
        ("activation", activation(op, out)),
    ])


def pool_params(e, g: Graph, op: Op, win: Window) -> str:
    """&td_pool_params of an AVERAGE/MAX_POOL_2D."""
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    return e.params("td_pool_params", [("input", nhwc(inp.shape)), ("output", nhwc(out.shape)),
                                       ("window", window_struct(win)), ("activation", activation(op, out))])


def bias_data(g: Graph, op: Op, index: int = 2) -> np.ndarray | None:
    """The op's bias values, or None without a bias."""
    t = g.tensor(op.inputs[index]) if len(op.inputs) > index else None
    return None if t is None else t.data
