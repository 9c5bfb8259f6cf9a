"""CONV_2D for RV32IMC (kernels="riscv"): td_conv_s8_riscv and its in-place 1x1 twin (td_riscv.h), int8,
one group; 3 pixels x 4 channels register tiles over an interleaved im2col field."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._arm import folded_bias
from .._params import conv_params, plain_conv
from .._riscv import conv_riscv_scratch_bytes, conv_weights_riscv
from ..conv2d import bias_of, conv_window


@variant_kernel("CONV_2D", "riscv")
class RiscvConv2D(VariantKernel):
    header = "td_riscv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return plain_conv(op, g)

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        w = g.tensors[op.inputs[1]]
        return conv_riscv_scratch_bytes(w.shape[1] * w.shape[2] * w.shape[3])

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """0 where the reference has an in-place 1x1 kernel: the twin needs only the scratch above."""
        return None if lowering_for(op.kind).inplace_temp_bytes(op, g) is None else 0

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        p = conv_params(e, g, op, conv_window(op, g))
        bias_t = bias_of(g, op)
        weights = e.const_array(conv_weights_riscv(w.data), "int8_t", "weights_rv", flash=True)
        bias = e.const_array(folded_bias(None if bias_t is None else bias_t.data, w.data, -inp.zero_point),
                             "int32_t", "bias_rv", flash=True)
        scratch = e.scratch(f"td_conv_s8_riscv_scratch_size({p})")
        if e.in_place:
            e.call("td_conv_1x1_s8_riscv_inplace", p, e.ptr(op.outputs[0]), weights, bias, scratch)
        else:
            e.call("td_conv_s8_riscv", p, e.ptr(op.inputs[0], const=True), weights, bias, e.ptr(op.outputs[0]),
                   scratch)
