"""SVDF: fully-integer variant (int8 input/output, int8 feature weights, int16 time weights and state).

Arithmetic follows LiteRT's svdf.cc Prepare (two effective scales, computed in double from the
float32 scales) and reference EvalIntegerSVDF: the state is assumed symmetric (zero point 0),
weight zero points are not used, and the fused activation is not applied beyond the int8 clamp
(LiteRT insists on RELU but never applies it; TFLM behaves the same). LiteRT's SVDF requantizes
with the two-step (gemmlowp) rounding; the kernel does the same.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ..quant import quantize_multiplier
from . import OpLowering, register
from ._common import fused_activation, tensors


def _scale(t) -> float:
    return float(np.float32(t.quant.scale[0]))


@register("SVDF")
class Svdf(OpLowering):
    header = "td_svdf.h"

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 5 or len(outs) != 1:
            return "SVDF needs 5 inputs (input, weights_feature, weights_time, bias, state) and 1 output"
        inp, wf, wt, bias, state = ins
        out = outs[0]
        if inp is None or wf is None or wt is None or state is None:
            return "input, weights and state are required"
        if inp.dtype == "float32" or wf.dtype == "float32":
            return "float and hybrid SVDF are not supported (quantize the model fully to int8)"
        if inp.dtype != "int8" or out.dtype != "int8" or wf.dtype != "int8":
            return f"type combination {inp.dtype}/{wf.dtype}->{out.dtype} is not supported (needs int8)"
        if wt.dtype != "int16" or state.dtype != "int16":
            return (f"weights_time {wt.dtype} / state {state.dtype}: only int16 time weights and state "
                    "are supported (LiteRT's integer SVDF)")
        if bias is not None and bias.dtype != "int32":
            return "bias must be int32"
        if not wf.is_const or not wt.is_const or (bias is not None and not bias.is_const):
            return "weights and bias must be constant"
        if not state.is_variable or state.is_const:
            return "the state input must be a variable tensor"
        if any(t.quant is None for t in (inp, wf, wt, state, out)):
            return "input, weights, state and output must be quantized"
        rank = int(getattr(op.options, "rank", 0) or 0)
        if len(inp.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
            return "input, weights_feature and weights_time must be 2-D"
        num_filters = wf.shape[0]
        if rank <= 0 or num_filters % rank:
            return f"rank {rank} does not divide num_filters {num_filters}"
        if wf.shape[1] != inp.shape[1] or wt.shape[0] != num_filters:
            return "weights shapes do not match the input"
        if state.size != inp.shape[0] * num_filters * wt.shape[1]:
            return "state size must be batches * num_filters * memory_size"
        if bias is not None and bias.size != num_filters // rank:
            return "bias size must be num_units"
        if out.size != inp.shape[0] * (num_filters // rank):
            return "output size must be batches * num_units"
        if fused_activation(op) not in (0, 1):
            return f"fused activation {fused_activation(op)} is not supported (integer SVDF: RELU or none)"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        inp, wf, wt = (g.tensors[i] for i in op.inputs[:3])
        return inp.shape[0] * (wf.size + wt.size)

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp, wf, wt, bias, state), (out,) = tensors(g, op)
        rank = int(op.options.rank)
        # TFLite: double(input_scale) * double(weights_feature_scale) / double(state_scale), etc.
        m1, s1 = quantize_multiplier(_scale(inp) * _scale(wf) / _scale(state))
        m2, s2 = quantize_multiplier(_scale(state) * _scale(wt) / _scale(out))
        p = e.params("td_svdf_params", [
            ("batches", inp.shape[0]), ("input_size", inp.shape[1]), ("num_filters", wf.shape[0]),
            ("num_units", wf.shape[0] // rank), ("rank", rank), ("memory_size", wt.shape[1]),
            ("input_offset", -inp.zero_point), ("output_offset", out.zero_point),
            ("multiplier_1", m1), ("shift_1", s1), ("multiplier_2", m2), ("shift_2", s2),
        ])
        bias_ptr = e.ptr(op.inputs[3], flash=True) if bias is not None else "NULL"
        e.call("td_svdf_s8", p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], flash=True),
               e.ptr(op.inputs[2], flash=True), bias_ptr, e.ptr(op.inputs[4]), e.ptr(op.outputs[0]))
