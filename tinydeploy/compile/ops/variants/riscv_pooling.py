"""AVERAGE_POOL_2D and MAX_POOL_2D for RV32IMC (kernels="riscv"): td_avg_pool_s8_riscv / td_max_pool_s8_riscv
(td_riscv.h), int8; the reference parameters, four channels per pass over the window."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._common import tensors
from .._params import pool_params


@variant_kernel("AVERAGE_POOL_2D", "riscv")
@variant_kernel("MAX_POOL_2D", "riscv")
class RiscvPool2D(VariantKernel):
    header = "td_riscv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return g.tensors[op.inputs[0]].dtype == "int8"

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp,), (out,) = tensors(g, op)
        p = pool_params(e, g, op, lowering_for(op.kind).window(op, g))
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        e.call(f"td_{kind}_pool_s8_riscv", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
