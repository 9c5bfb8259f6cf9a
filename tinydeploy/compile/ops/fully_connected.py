"""FULLY_CONNECTED: int8 and 16x8, per-tensor or per-channel weights, optional bias."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._arm import fc_weights_arm_dsp, folded_bias, uses_arm_dsp
from ._common import check_fused_activation, optional_ptr, tensors
from ._params import fc_params


@register("FULLY_CONNECTED")
class FullyConnected(OpLowering):
    header = "td_fully_connected.h"

    def check(self, op: Op, g: Graph) -> str | None:
        (inp, w, *rest), (out,) = tensors(g, op)
        if w is None or not w.is_const:
            return "weights must be constant"
        if inp.dtype not in ("int8", "int16") or w.dtype != "int8" or out.dtype != inp.dtype:
            return f"type combination {inp.dtype}/{w.dtype}->{out.dtype} is not supported"
        if getattr(op.options, "weightsFormat", 0):
            return "shuffled weights format is not supported"
        if inp.dtype == "int16" and inp.zero_point != 0:
            return "int16 input needs zero point 0"
        return check_fused_activation(op)

    @staticmethod
    def arm_dsp(op: Op, g: Graph, kernels: str) -> bool:
        """The arm-dsp kernel takes int8 inputs with symmetric weights."""
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        return uses_arm_dsp(kernels) and inp.dtype == "int8" and (w.quant is None or not w.quant.zero_point.any())

    def variant_scratch_bytes(self, op: Op, g: Graph, kernels: str) -> int:
        """td_fully_connected_s8_arm_dsp_scratch_size(): the input row widened once."""
        return 2 * (-(-g.tensors[op.inputs[1]].shape[-1] // 4) * 4) + 3 if self.arm_dsp(op, g, kernels) else 0

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.outputs[0]].size * g.tensors[op.inputs[1]].shape[-1]

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp, w, *_), (out,) = tensors(g, op)
        depth, units = w.shape[-1], w.shape[0]
        p = fc_params(e, g, op)
        if self.arm_dsp(op, g, e.kernels):
            # arm-dsp: the weights re-laid-out for the SIMD loop, the input offset folded into the bias
            data = w.data.reshape(units, depth)
            bias_t = g.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
            bias = folded_bias(None if bias_t is None else bias_t.data, data, -inp.zero_point)
            e.call("td_fully_connected_s8_arm_dsp", p, e.ptr(op.inputs[0], const=True),
                   e.const_array(fc_weights_arm_dsp(data), "int8_t", "weights_arm", flash=True),
                   e.const_array(bias, "int32_t", "bias_arm", flash=True), e.ptr(op.outputs[0]),
                   e.scratch(f"td_fully_connected_s8_arm_dsp_scratch_size({p})"))
            return
        bias = optional_ptr(e, op, 2)
        e.call("td_fully_connected_s16" if inp.dtype == "int16" else "td_fully_connected_s8", p,
               e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], flash=True), bias, e.ptr(op.outputs[0]))
