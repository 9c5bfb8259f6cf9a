"""QUANTIZE: float32 -> int8/int16/uint8 (per tensor or per channel), and requantization between
integer types as TFLite defines it (int8->int8/int16/uint8, uint8->int8/uint8, int16->int8/int16/
int32, int32->int8/int16)."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op, Tensor
from ..quant import quantize_multiplier
from . import OpLowering, register
from ._common import tensors

SHORT = {"int8": "s8", "int16": "s16", "int32": "s32", "uint8": "u8", "float32": "f32"}
#: (input, output) pairs LiteRT's QUANTIZE accepts (besides float32 -> int8/int16/uint8)
REQUANT_PAIRS = {("int8", "int8"), ("int8", "int16"), ("int8", "uint8"), ("uint8", "int8"), ("uint8", "uint8"),
                 ("int16", "int8"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"),
                 ("int32", "int16")}


def affine_fields(e, t: Tensor) -> list[tuple[str, object]]:
    """td_affine_params fields for a (possibly per-channel) quantized tensor."""
    q = t.quant
    n = q.scale.size
    shape = list(t.shape) or [1]
    if n > 1:
        axis = q.axis
        outer = int(np.prod(shape[:axis], dtype=np.int64))
        inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    else:
        outer, inner = 1, t.size
    zps = np.broadcast_to(q.zero_point.astype(np.int64), (n,))
    return [("outer", outer), ("channels", n), ("inner", inner),
            ("scale", e.const_array(q.scale.astype(np.float32), "float", "scale")),
            ("zero_point", e.const_array(zps, "int32_t", "zp"))]


def check_affine(t: Tensor) -> str | None:
    """Reason a float<->int affine quantization cannot be compiled, or None."""
    q = t.quant
    if q is None:
        return f"tensor {t.name!r} is not quantized"
    scales = np.asarray(q.scale, dtype=np.float32)
    if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        return f"tensor {t.name!r} has a non-positive scale"
    if scales.size > 1:
        shape = list(t.shape)
        if not 0 <= q.axis < len(shape) or shape[q.axis] != scales.size:
            return f"tensor {t.name!r}: {scales.size} scales do not match axis {q.axis} of shape {shape}"
        if q.zero_point.size not in (1, scales.size):
            return f"tensor {t.name!r}: zero points do not match the scales"
    return None


def requant_multiplier(inp: Tensor, out: Tensor) -> tuple[int, int]:
    """TFLite Prepare: double(input scale) / double(output scale), QuantizeMultiplier."""
    return quantize_multiplier(float(np.float32(inp.scale)) / float(np.float32(out.scale)))


@register("QUANTIZE")
class Quantize(OpLowering):
    header = "td_quantize.h"
    inplace = True  # same-size requantization may write over its input (see td_quantize.h)

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
            return "needs 1 input and 1 output"
        inp, out = ins[0], outs[0]
        if inp.dtype == "float32":
            if out.dtype not in ("int8", "int16", "uint8"):
                return f"float32 -> {out.dtype} is not supported"
            return check_affine(out)
        if (inp.dtype, out.dtype) not in REQUANT_PAIRS:
            return f"requantization {inp.dtype} -> {out.dtype} is not supported (TFLite neither)"
        for t in (inp, out):
            if t.quant is None or t.quant.scale.size != 1:
                return f"tensor {t.name!r} needs per-tensor quantization"
            if not float(t.scale) > 0:
                return f"tensor {t.name!r} has a non-positive scale"
        if inp.dtype == out.dtype == "int16" and (inp.zero_point or out.zero_point):
            return "int16 -> int16 requantization needs zero points 0"
        if requant_multiplier(inp, out)[1] > 30:
            return "input scale / output scale is too large"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        if inp.dtype == "float32":
            p = e.params("td_affine_params", affine_fields(e, out))
            fn = f"td_quantize_f32_{SHORT[out.dtype]}"
        else:
            mult, shift = requant_multiplier(inp, out)
            p = e.params("td_requantize_params", [
                ("size", out.size), ("multiplier", mult), ("shift", shift),
                ("input_zero_point", inp.zero_point), ("output_zero_point", out.zero_point)])
            fn = f"td_requantize_{SHORT[inp.dtype]}_{SHORT[out.dtype]}"
        e.call(fn, p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
