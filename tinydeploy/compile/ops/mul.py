"""MUL: int8, int16 (zero points 0), and int16 x int16 -> int8 (TFLite's Q0.15 path), with fused
activations and numpy broadcasting (not for the int16 -> int8 path, like TFLite)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from ..quant import quantize_multiplier
from . import register
from ._arm import uses_arm_dsp
from ._arm_elementwise import mul_arm_fields
from ._common import activation, check_fused_activation, tensors
from .add_sub import QuantizedBinary, bcast_field, broadcast_check, same_shapes


def mul_multiplier(a: Tensor, b: Tensor, out: Tensor) -> tuple[int, int]:
    """TFLite: double real = in1_scale * in2_scale / out_scale, evaluated in float32 (the scales are
    floats), then QuantizeMultiplier."""
    real = np.float32(np.float32(a.scale) * np.float32(b.scale)) / np.float32(out.scale)
    return quantize_multiplier(float(np.float32(real)))


@register("MUL")
class Mul(QuantizedBinary):
    def check_operands(self, op: Op, g: Graph, a: Tensor, b: Tensor, out: Tensor) -> str | None:
        if a.dtype != b.dtype:
            return f"input types differ ({a.dtype}, {b.dtype})"
        reason = check_fused_activation(op) or broadcast_check(g, op)
        if reason:
            return reason
        if a.dtype == "int16" and out.dtype == "int8":
            if not same_shapes(g, op):
                return "int16 x int16 -> int8 MUL does not support broadcasting (TFLite neither)"
            return None
        if a.dtype != out.dtype:
            return f"type combination {a.dtype}x{b.dtype}->{out.dtype} is not supported"
        if out.dtype == "int16" and (a.zero_point or b.zero_point or out.zero_point):
            return "int16 MUL needs zero points 0"
        if mul_multiplier(a, b, out)[1] > 30:
            return "output scale is too small relative to the input scales"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.outputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        (a, b), (out,) = tensors(g, op)
        mult, shift = mul_multiplier(a, b, out)
        if uses_arm_dsp(e.kernels) and a.dtype == out.dtype == "int8" and same_shapes(g, op):
            arm = mul_arm_fields(a, b, out, mult, shift)
            if arm:  # arm-dsp: same shapes, SIMD products, the requantization one SMMLAR
                p = e.params("td_mul_arm_params", [("size", out.size), *arm, ("activation", activation(op, out))])
                e.call("td_mul_s8_arm_dsp", p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True),
                       e.ptr(op.outputs[0]))
                return
        p = e.params("td_mul_params", [
            ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point),
            ("output_offset", out.zero_point), ("output_multiplier", mult), ("output_shift", shift),
            ("activation", activation(op, out)), ("bcast", bcast_field(g, op)),
        ])
        if a.dtype == "int16":
            fn = "td_mul_s16_s8" if out.dtype == "int8" else "td_mul_s16"
        else:
            fn = "td_mul_s8"
        e.call(fn, p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True), e.ptr(op.outputs[0]))
