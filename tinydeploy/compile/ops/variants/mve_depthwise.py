"""arm-mve DEPTHWISE_CONV_2D (td_depthwise_conv_s8_mve, lib/tinydeploy/mve/td_mve_dw.c): int8, depth
multiplier 1, symmetric weights; channel by channel over a zero-point-padded plane, so the same kernel also
runs in place. Other depthwise ops go to the arm-dsp kernel or the reference one."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._common import requant_arrays
from .._mve_dw import dw_mve_scratch_bytes, dw_mve_transposed, dw_table_mve, dw_weights_mve
from .._params import dw_params, int8_symmetric
from ..conv2d import bias_of, conv_window


@variant_kernel("DEPTHWISE_CONV_2D", "arm-mve")
class MveDepthwise(VariantKernel):
    header = "td_mve_dw.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        if not int8_symmetric(op, g, out_too=True) or w.shape[3] != inp.shape[3]:
            return False
        # channel by channel, not row by row: never an output shifted over its input (row streaming);
        # in place only where channel c of the output overwrites nothing but channel c of the input
        if any(dst == op.outputs[0] for _, dst, _ in getattr(g, "shared", ())):
            return False
        return inp.shape[0] == 1 or out.shape[1] * out.shape[2] <= inp.shape[1] * inp.shape[2]

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        win = conv_window(op, g)
        return dw_mve_scratch_bytes(win, dw_mve_transposed(win), g.tensors[op.inputs[0]].shape[3])

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        return 0  # the planes are all it needs either way

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        win = conv_window(op, g)
        transposed = dw_mve_transposed(win)
        p = dw_params(e, g, op, win, with_requant=False)
        _, mult, shift = requant_arrays(g, op, inp, w, out, w.shape[3])
        bias_t = bias_of(g, op)
        table = dw_table_mve(None if bias_t is None else bias_t.data, w.data, -inp.zero_point, mult, shift, transposed)
        weights = e.const_array(dw_weights_mve(w.data, transposed), "int8_t", "weights_mve", flash=True)
        table = e.const_array(table, "int32_t", "table_mve", flash=True)
        scratch = e.scratch(f"td_depthwise_conv_s8_mve_scratch_size({p}, {int(transposed)})")
        if e.in_place:
            e.call("td_depthwise_conv_s8_mve_inplace", p, e.ptr(op.outputs[0]), weights, table, scratch)
        else:
            e.call("td_depthwise_conv_s8_mve", p, e.ptr(op.inputs[0], const=True), weights, table,
                   e.ptr(op.outputs[0]), scratch)
