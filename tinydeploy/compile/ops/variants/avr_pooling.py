"""MAX_POOL_2D and AVERAGE_POOL_2D for AVR (kernels="avr"): td_avr_max_pool_s8 / td_avr_avg_pool_s8 (td_avr.h),
int8, the reference parameters; 16-bit sums, so average windows of at most 255 pixels."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._avr import fits_int16_indexing
from .._common import tensors
from .._params import pool_params


@variant_kernel("AVERAGE_POOL_2D", "avr")
@variant_kernel("MAX_POOL_2D", "avr")
class AvrPool2D(VariantKernel):
    header = "td_avr.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        win = lowering_for(op.kind).window(op, g)
        small = op.kind == "MAX_POOL_2D" or win.filter_h * win.filter_w <= 255
        return g.tensors[op.inputs[0]].dtype == "int8" and fits_int16_indexing(g, op) and small

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp,), (out,) = tensors(g, op)
        p = pool_params(e, g, op, lowering_for(op.kind).window(op, g))
        kind = "avg" if op.kind == "AVERAGE_POOL_2D" else "max"
        e.call(f"td_avr_{kind}_pool_s8", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
