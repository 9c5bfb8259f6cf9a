"""ADD and SUB for RV32IMC (kernels="riscv"): td_add_s8_riscv (td_riscv.h), int8 inputs of the same shape.
Each input's rescaling (offset, << 20, two-step requantization) depends on its int8 value alone, so it is
a table of 256 int32 made at conversion time; the kernel adds two table entries and requantizes the sum."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._common import activation, tensors
from .._riscv import add_tables_riscv
from ..add_sub import add_multipliers, bcast_field, same_shapes


@variant_kernel("ADD", "riscv")
@variant_kernel("SUB", "riscv")
class RiscvAddSub(VariantKernel):
    header = "td_riscv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        (a, b), (out,) = tensors(g, op)
        return a.dtype == b.dtype == out.dtype == "int8" and same_shapes(g, op)

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        return 0  # element i is read before it is written

    def emit(self, op: Op, g: Graph, e) -> None:
        (a, b), (out,) = tensors(g, op)
        m1, sh1, m2, sh2, mo, sho, _ = add_multipliers(a, b, out, 20)
        p = e.params("td_add_params", [
            ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point),
            ("output_offset", out.zero_point), ("left_shift", 20),
            ("input1_multiplier", m1), ("input1_shift", sh1), ("input2_multiplier", m2), ("input2_shift", sh2),
            ("output_multiplier", mo), ("output_shift", sho),
            ("activation", activation(op, out)), ("bcast", bcast_field(g, op)),
        ])
        table = add_tables_riscv((-a.zero_point, -b.zero_point), (m1, m2), (sh1, sh2), op.kind == "SUB")
        e.call("td_add_s8_riscv", p, e.const_array(table, "int32_t", "table_rv", flash=True),
               e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True), e.ptr(op.outputs[0]))
