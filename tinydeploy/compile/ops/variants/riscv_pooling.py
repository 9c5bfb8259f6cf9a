"""AVERAGE_POOL_2D and MAX_POOL_2D for RV32IMC (kernels="riscv"): td_avg_pool_s8_riscv / td_max_pool_s8_riscv
(td_riscv.h), int8; the reference parameters, four channels per pass over the window."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._common import activation, nhwc, tensors, window_struct


@variant_kernel("AVERAGE_POOL_2D", "riscv")
@variant_kernel("MAX_POOL_2D", "riscv")
class RiscvPool2D(VariantKernel):
    header = "td_riscv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return g.tensors[op.inputs[0]].dtype == "int8"

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp,), (out,) = tensors(g, op)
        p = e.params("td_pool_params", [("input", nhwc(inp.shape)), ("output", nhwc(out.shape)),
                                        ("window", window_struct(lowering_for(op.kind).window(op, g))),
                                        ("activation", activation(op, out))])
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        e.call(f"td_{kind}_pool_s8_riscv", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
