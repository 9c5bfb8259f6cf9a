"""arm-mve AVERAGE_POOL_2D / MAX_POOL_2D (td_avg_pool_s8_mve, td_max_pool_s8_mve, lib/tinydeploy/mve/td_mve_pool.c):
int8, the reference parameters; output pixels in the reference's order, so the planner's row streaming holds."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._params import pool_params


@variant_kernel("AVERAGE_POOL_2D", "arm-mve")
@variant_kernel("MAX_POOL_2D", "arm-mve")
class MvePool(VariantKernel):
    header = "td_mve_dw.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return g.tensors[op.inputs[0]].dtype == "int8"

    def emit(self, op: Op, g: Graph, e) -> None:
        win = lowering_for(op.kind).window(op, g)
        p = pool_params(e, g, op, win)
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        e.call(f"td_{kind}_pool_s8_mve", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
