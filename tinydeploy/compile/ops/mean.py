"""MEAN over any axes (int8 and int16), as LiteRT's reference QuantizedMeanOrSum computes it.

LiteRT 2.3.0's BUILTIN_REF always takes the general requantizing path (also for the 4-D mean
over H and W): sum the reduced elements in int32, subtract input_zp * count, then
MultiplyByQuantizedMultiplier (two-step rounding) with the Prepare() multiplier of
input_scale / output_scale, divided by count in integer arithmetic, then add the output zero
point and clamp to the output type.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ..quant import INT_RANGES, quantize_multiplier
from . import OpLowering, register
from ._common import clamp, tensors
from ._shape_ops import c_array as arr
from ._shape_ops import const_ints, contiguous_strides, norm_axis

MAX_DIMS = 6


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """(multiplier, shift) of (input_scale / output_scale) / count, as the reference kernel derives it."""
    mult, shift = quantize_multiplier(float(np.float32(input_scale)) / float(np.float32(output_scale)))
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    mult = (mult << extra) // count
    return int(mult), shift - extra


def _merge(dims: list[int], strides: list[int]) -> tuple[list[int], list[int]]:
    """Drop size-1 dims and merge neighbours contiguous in the input."""
    out: list[tuple[int, int]] = []
    for d, s in zip(dims, strides):
        if d == 1:
            continue
        if out and out[-1][1] == s * d:
            out[-1] = (out[-1][0] * d, s)
        else:
            out.append((d, s))
    if not out:
        out = [(1, 0)]
    return [o[0] for o in out], [o[1] for o in out]


@register("MEAN")
class Mean(OpLowering):
    header = "td_reduce.h"

    def _axes(self, op: Op, g: Graph) -> list[int] | None:
        inp = g.tensors[op.inputs[0]]
        raw = const_ints(g, op.inputs[1])
        if raw is None:
            return None
        axes = []
        for a in raw.tolist():
            n = norm_axis(int(a), len(inp.shape))
            if n is None:
                return None
            if n not in axes:
                axes.append(n)
        return sorted(axes)

    def _layout(self, op: Op, g: Graph):
        inp = g.tensors[op.inputs[0]]
        axes = self._axes(op, g)
        strides = contiguous_strides(inp.shape)
        kept = [i for i in range(len(inp.shape)) if i not in axes]
        kd, ks = _merge([inp.shape[i] for i in kept], [strides[i] for i in kept])
        rd, rs = _merge([inp.shape[i] for i in axes], [strides[i] for i in axes])
        count = int(np.prod([inp.shape[i] for i in axes], dtype=np.int64))
        return kd, ks, rd, rs, count

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
            return "MEAN needs an input, an axis tensor and 1 output"
        inp, axis, out = ins[0], ins[1], outs[0]
        if inp.dtype not in ("int8", "int16") or out.dtype != inp.dtype:
            return f"type combination {inp.dtype}->{out.dtype} is not supported (int8 or int16)"
        if inp.quant is None or out.quant is None:
            return "input and output must be quantized"
        if not axis.is_const:
            return "the axis tensor must be constant"
        if axis.dtype != "int32":
            return "the axis tensor must be int32"
        if len(inp.shape) == 0 or len(inp.shape) > MAX_DIMS:
            return f"input rank {len(inp.shape)} is not supported (1..{MAX_DIMS})"
        if self._axes(op, g) is None:
            return "axis out of range"
        if inp.dtype == "int16" and (inp.zero_point != 0 or out.zero_point != 0):
            return "int16 MEAN needs zero points 0"
        if inp.size == 0:
            return "empty input is not supported"
        kd, _, rd, _, count = self._layout(op, g)
        if int(np.prod(kd)) != out.size:
            return "output size does not match the kept dimensions"
        if len(kd) > MAX_DIMS or len(rd) > MAX_DIMS:
            return "too many dimensions"
        if count >= 2**31:
            return "too many reduced elements"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.inputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        kd, ks, rd, rs, count = self._layout(op, g)
        mult, shift = mean_multiplier(inp.scale, out.scale, count)
        zp_count = (inp.zero_point * count + 2**31) % 2**32 - 2**31
        lo, hi = INT_RANGES[out.dtype]

        p = e.params("td_mean_params", [
            ("kept_rank", len(kd)), ("kept_dims", arr(kd)), ("kept_strides", arr(ks)),
            ("reduced_rank", len(rd)), ("reduced_dims", arr(rd)), ("reduced_strides", arr(rs)),
            ("input_zero_point_times_count", zp_count), ("multiplier", mult), ("shift", shift),
            ("output_zero_point", out.zero_point), ("activation", clamp(lo, hi)),
        ])
        fn = "td_mean_s16" if inp.dtype == "int16" else "td_mean_s8"
        e.call(fn, p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
