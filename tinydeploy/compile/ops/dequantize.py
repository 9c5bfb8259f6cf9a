"""DEQUANTIZE: int8 / uint8 (per tensor or per channel) and int16 (zero point 0) -> float32."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from .quantize import SHORT, affine_fields, check_affine


@register("DEQUANTIZE")
class Dequantize(OpLowering):
    header = "td_quantize.h"

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
            return "needs 1 input and 1 output"
        inp, out = ins[0], outs[0]
        if inp.dtype not in ("int8", "int16", "uint8") or out.dtype != "float32":
            return f"{inp.dtype} -> {out.dtype} is not supported (int8/int16/uint8 -> float32)"
        reason = check_affine(inp)
        if reason:
            return reason
        if inp.dtype == "int16":
            if inp.quant.scale.size > 1:
                return "per-channel int16 dequantization is not supported (TFLite neither)"
            if inp.zero_point:
                return "int16 input needs zero point 0"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        inp = g.tensors[op.inputs[0]]
        p = e.params("td_affine_params", affine_fields(e, inp))
        e.call(f"td_dequantize_{SHORT[inp.dtype]}_f32", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
