"""arm-mve CONV_2D (td_conv_s8_mve and its in-place 1x1 twin, lib/tinydeploy/mve/td_mve_conv*.c): int8, one
group, symmetric weights; three pixels x two filters per VMLADAVA tile over zero-point-padded im2col fields.
Other convolutions go to the arm-dsp kernel or the reference one."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, lowering_for, variant_kernel
from .._arm import folded_bias
from .._mve import conv_1x1_mve_inplace_scratch_bytes, conv_mve_scratch_bytes, mve_weights
from .._params import conv_params, int8_symmetric
from ..conv2d import bias_of, conv_window


def _direct(op: Op, g: Graph) -> bool:
    """1x1 without padding: the kernel reads the input pixels in place (td_mve_conv_direct)."""
    win = conv_window(op, g)
    return (win.filter_h, win.filter_w, win.pad_h, win.pad_w) == (1, 1, 0, 0)


@variant_kernel("CONV_2D", "arm-mve")
class MveConv2D(VariantKernel):
    header = "td_mve_conv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        return int8_symmetric(op, g, out_too=True) and w.shape[3] == inp.shape[3]

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        w = g.tensors[op.inputs[1]]
        return conv_mve_scratch_bytes(w.shape[1] * w.shape[2] * w.shape[3], w.shape[0], _direct(op, g))

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """Where the reference has an in-place 1x1 kernel: the three copied pixels on top of scratch_bytes
        (td_conv_1x1_s8_mve_inplace_scratch_size = the direct scratch + these)."""
        if lowering_for(op.kind).inplace_temp_bytes(op, g) is None:
            return None
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        return conv_1x1_mve_inplace_scratch_bytes(inp.shape[3], w.shape[0]) - self.scratch_bytes(op, g)

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        p = conv_params(e, g, op, conv_window(op, g))
        bias_t = bias_of(g, op)
        bias = folded_bias(None if bias_t is None else bias_t.data, w.data, -inp.zero_point)
        weights = e.const_array(mve_weights(w.data, bias), "int8_t", "weights_mve", flash=True)
        if e.in_place:
            e.call("td_conv_1x1_s8_mve_inplace", p, e.ptr(op.outputs[0]), weights,
                   e.scratch(f"td_conv_1x1_s8_mve_inplace_scratch_size({p})"))
        else:
            e.call("td_conv_s8_mve", p, e.ptr(op.inputs[0], const=True), weights, e.ptr(op.outputs[0]),
                   e.scratch(f"td_conv_s8_mve_scratch_size({p})"))
