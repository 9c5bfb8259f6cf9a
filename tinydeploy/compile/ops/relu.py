"""RELU, RELU6 (int8 and int16), RELU_N1_TO_1 and RELU_0_TO_1 (int8): TFLite's ReluX, a rescale
from the input to the output quantization clamped to the activation's bounds."""
from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Op, Tensor
from ..quant import INT_RANGES, quantize_multiplier
from . import OpLowering, register
from ._common import clamp, tensors

#: float bounds of each activation (None: unbounded above), and the types LiteRT implements it for
BOUNDS = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0), "RELU_0_TO_1": (0.0, 1.0)}
TYPES = {"RELU": ("int8", "int16"), "RELU6": ("int8", "int16"), "RELU_N1_TO_1": ("int8",),
         "RELU_0_TO_1": ("int8",)}


def wrap32(v: int) -> int:
    return (v + 2 ** 31) % 2 ** 32 - 2 ** 31


def roundf(x: np.float32) -> float:
    """std::round on a float: halves away from zero."""
    x = float(x)
    return math.copysign(math.floor(abs(x) + 0.5), x) if math.isfinite(x) else x


def cvt_i32(r: float) -> int:
    """static_cast<int32_t>(float) as LiteRT on x86 does it (cvttss2si: INT32_MIN when out of range)."""
    if not math.isfinite(r) or not -2.0 ** 31 <= r < 2.0 ** 31:
        return -(2 ** 31)
    return int(r)


def quantize_bound(value: float, out: Tensor) -> int:
    """zero_point + int32(roundf(value / scale)), in float like TFLite (and with its int32 wrap)."""
    return wrap32(out.zero_point + cvt_i32(roundf(np.float32(value) / np.float32(out.scale))))


def float_ratio_multiplier(num: float, den: float) -> tuple[int, int]:
    """QuantizeMultiplier(double(float(num) / float(den))): TFLite divides the float scales in float."""
    return quantize_multiplier(float(np.float32(np.float32(num) / np.float32(den))))


def relu_bounds(kind: str, out: Tensor) -> tuple[int, int]:
    qmin, qmax = INT_RANGES[out.dtype]
    lo_f, hi_f = BOUNDS[kind]
    lo = max(qmin, quantize_bound(lo_f, out))
    hi = qmax if hi_f is None else min(qmax, quantize_bound(hi_f, out))
    return lo, hi


def check_unary(op: Op, g: Graph, types: tuple[str, ...]) -> str | None:
    """Shared checks of quantized unary activations: one input/output, same type, per-tensor."""
    ins, outs = tensors(g, op)
    if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
        return "needs 1 input and 1 output"
    inp, out = ins[0], outs[0]
    if inp.dtype != out.dtype or inp.dtype not in types:
        return f"type {inp.dtype}->{out.dtype} is not supported (TFLite's reference kernel takes {'/'.join(types)})"
    for t in (inp, out):
        if t.quant is None or t.quant.scale.size != 1:
            return f"tensor {t.name!r} needs per-tensor quantization"
        if not (float(t.scale) > 0 and math.isfinite(float(t.scale))):
            return f"tensor {t.name!r} has a non-positive scale"
    if tuple(inp.shape) != tuple(out.shape) and inp.size != out.size:
        return "input and output sizes differ"
    if inp.dtype == "int16" and (inp.zero_point or out.zero_point):
        return "int16 input and output need zero point 0"
    return None


def emit_unary(e, op: Op, g: Graph, struct: str, function: str, fields: list[tuple[str, object]]) -> None:
    """A unary activation's call: `struct` with size, input_zero_point, output_zero_point, then `fields`;
    the kernel `function`_s8 or _s16 after the output type."""
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    p = e.params(struct, [("size", out.size), ("input_zero_point", inp.zero_point),
                          ("output_zero_point", out.zero_point), *fields])
    suffix = "s16" if out.dtype == "int16" else "s8"
    e.call(f"{function}_{suffix}", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))


@register("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1")
class Relu(OpLowering):
    header = "td_activation.h"
    inplace = True

    def check(self, op: Op, g: Graph) -> str | None:
        reason = check_unary(op, g, TYPES[op.kind])
        if reason:
            return reason
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        lo, hi = relu_bounds(op.kind, out)
        if lo > hi:
            return "output scale is too small for the activation's bounds"
        if float_ratio_multiplier(inp.scale, out.scale)[1] > 30:
            return "input scale / output scale is too large"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        mult, shift = float_ratio_multiplier(inp.scale, out.scale)
        lo, hi = relu_bounds(op.kind, out)
        emit_unary(e, op, g, "td_relu_params", "td_relu",
                   [("multiplier", mult), ("shift", shift), ("activation", clamp(lo, hi))])
