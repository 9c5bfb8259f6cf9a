"""HARD_SWISH: int8 (LiteRT's reference kernel has no int16 variant), TFLite's 16-bit fixed-point
evaluation with multipliers computed in float as its Prepare does."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ..quant import quantize_multiplier
from . import OpLowering, register
from .relu import check_unary, emit_unary


def downscale_to_int16(m: int) -> int:
    """TFLite DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if m >= 2 ** 31 - 1 - 2 ** 15:
        return 32767
    return (m + 2 ** 15) >> 16


def hard_swish_params(op: Op, g: Graph) -> tuple[int, int, int, int]:
    """(output mult Q15, output exponent, reluish mult Q15, reluish exponent)."""
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    hires = np.float32(np.float32(1.0 / 128.0) * np.float32(inp.scale))
    reluish_scale = np.float32(np.float32(3.0) / np.float32(32768.0))
    out_mult = np.float32(hires / np.float32(out.scale))
    om, oexp = quantize_multiplier(float(out_mult))
    rel_mult = np.float32(hires / reluish_scale)
    rm, rexp = quantize_multiplier(float(rel_mult))
    return downscale_to_int16(om), oexp, downscale_to_int16(rm), rexp


@register("HARD_SWISH")
class HardSwish(OpLowering):
    header = "td_activation.h"
    inplace = True

    def check(self, op: Op, g: Graph) -> str | None:
        reason = check_unary(op, g, ("int8",))
        if reason:
            return reason
        _, oexp, _, rexp = hard_swish_params(op, g)
        if oexp > 0:
            return "output scale is smaller than input scale / 128 (TFLite rejects this)"
        if rexp > 30:
            return "input scale is too large"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        om, oexp, rm, rexp = hard_swish_params(op, g)  # int8 only (check_unary): td_hard_swish_s8
        emit_unary(e, op, g, "td_hard_swish_params", "td_hard_swish", [
            ("output_multiplier_fixedpoint_int16", om), ("output_multiplier_exponent", oexp),
            ("reluish_multiplier_fixedpoint_int16", rm), ("reluish_multiplier_exponent", rexp)])
