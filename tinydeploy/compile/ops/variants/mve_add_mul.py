"""arm-mve ADD / SUB / MUL (td_add_s8_mve, td_sub_s8_mve, td_mul_s8_mve, lib/tinydeploy/mve/td_mve_elementwise.c):
int8 inputs of the output's shape, the reference parameters, four elements per vector. Broadcasts and int16
go to the arm-dsp or reference kernels."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._common import activation, tensors
from ..add_sub import add_multipliers, bcast_field, same_shapes
from ..mul import mul_multiplier


class _MveBinary(VariantKernel):
    header = "td_mve_dw.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        (a, b), (out,) = tensors(g, op)
        return a.dtype == b.dtype == out.dtype == "int8" and same_shapes(g, op) and a.shape == out.shape

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        return 0  # element by element: the output may be input 1


@variant_kernel("ADD", "arm-mve")
@variant_kernel("SUB", "arm-mve")
class MveAddSub(_MveBinary):
    def emit(self, op: Op, g: Graph, e) -> None:
        (a, b), (out,) = tensors(g, op)
        m1, sh1, m2, sh2, mo, sho, _ = add_multipliers(a, b, out, 20)
        p = e.params("td_add_params", [
            ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point), ("output_offset", out.zero_point),
            ("left_shift", 20), ("input1_multiplier", m1), ("input1_shift", sh1), ("input2_multiplier", m2),
            ("input2_shift", sh2), ("output_multiplier", mo), ("output_shift", sho),
            ("activation", activation(op, out)), ("bcast", bcast_field(g, op)),
        ])
        fn = "td_add_s8_mve" if op.kind == "ADD" else "td_sub_s8_mve"
        e.call(fn, p, str(out.size), e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True),
               e.ptr(op.outputs[0]))


@variant_kernel("MUL", "arm-mve")
class MveMul(_MveBinary):
    def emit(self, op: Op, g: Graph, e) -> None:
        (a, b), (out,) = tensors(g, op)
        mult, shift = mul_multiplier(a, b, out)
        p = e.params("td_mul_params", [
            ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point), ("output_offset", out.zero_point),
            ("output_multiplier", mult), ("output_shift", shift), ("activation", activation(op, out)),
            ("bcast", bcast_field(g, op)),
        ])
        e.call("td_mul_s8_mve", p, str(out.size), e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True),
               e.ptr(op.outputs[0]))
