"""FULLY_CONNECTED for RV32IMC (kernels="riscv"): td_fully_connected_s8_riscv (td_riscv.h), int8 with
symmetric weights; four output features per pass over the input, weights in the riscv conv layout."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._arm import folded_bias
from .._common import tensors
from .._params import fc_params, int8_symmetric
from .._riscv import conv_weights_riscv


@variant_kernel("FULLY_CONNECTED", "riscv")
class RiscvFullyConnected(VariantKernel):
    header = "td_riscv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return int8_symmetric(op, g)

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp, w, *_), (out,) = tensors(g, op)
        depth, units = w.shape[-1], w.shape[0]
        p = fc_params(e, g, op)
        data = w.data.reshape(units, depth)
        bias_t = g.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
        bias = folded_bias(None if bias_t is None else bias_t.data, data, -inp.zero_point)
        e.call("td_fully_connected_s8_riscv", p, e.ptr(op.inputs[0], const=True),
               e.const_array(conv_weights_riscv(data), "int8_t", "weights_rv", flash=True),
               e.const_array(bias, "int32_t", "bias_rv", flash=True), e.ptr(op.outputs[0]))
