"""LEAKY_RELU: int8 and int16 (zero points 0); alpha may be any float (negative, 0, > 1)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ..quant import quantize_multiplier
from . import OpLowering, register
from .relu import check_unary, emit_unary, float_ratio_multiplier


def leaky_multipliers(op: Op, g: Graph) -> tuple[int, int, int, int]:
    """(identity mult, shift, alpha mult, shift): TFLite computes input_scale * alpha / output_scale
    and input_scale / output_scale in float, then QuantizeMultiplier."""
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    alpha = np.float32(getattr(op.options, "alpha", 0.0) or 0.0)
    real_alpha = np.float32(np.float32(np.float32(inp.scale) * alpha) / np.float32(out.scale))
    am, ash = quantize_multiplier(float(real_alpha))
    im, ish = float_ratio_multiplier(inp.scale, out.scale)
    return im, ish, am, ash


@register("LEAKY_RELU")
class LeakyRelu(OpLowering):
    header = "td_activation.h"
    inplace = True

    def check(self, op: Op, g: Graph) -> str | None:
        reason = check_unary(op, g, ("int8", "int16"))
        if reason:
            return reason
        alpha = float(getattr(op.options, "alpha", 0.0) or 0.0)
        if not np.isfinite(alpha):
            return f"alpha {alpha} is not finite"
        im, ish, am, ash = leaky_multipliers(op, g)
        if ish > 30 or ash > 30:
            return "input scale / output scale (or times alpha) is too large"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        im, ish, am, ash = leaky_multipliers(op, g)
        emit_unary(e, op, g, "td_leaky_relu_params", "td_leaky_relu", [
            ("identity_multiplier", im), ("identity_shift", ish), ("alpha_multiplier", am), ("alpha_shift", ash)])
