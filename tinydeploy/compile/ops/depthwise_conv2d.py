"""DEPTHWISE_CONV_2D: int8 and 16x8 (int16 activations, int8 weights, int64 bias), per-tensor or
per-channel weights, depth multipliers, strides, dilations, SAME/VALID padding, fused activations.

int8 takes the depth multiplier from the shapes (output channels / input channels), 16x8 from
the op option, so check() requires both to agree for int16. With depth multiplier 1 and batch 1
the op can run in place (td_depthwise_conv_*_inplace, td_inplace.h).
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import register
from ._arm import uses_arm_dsp
from ._arm_depthwise import dw_arm_dsp_scratch_bytes, dw_table_arm_dsp, dw_weights_arm_dsp
from ._common import optional_ptr, requant_arrays, tensors
from ._params import dw_params
from .conv2d import ConvLike, bias_of, check_bias_and_shifts, check_conv_quant, check_output, check_window, conv_window


@register("DEPTHWISE_CONV_2D")
class DepthwiseConv2D(ConvLike):
    def check_with_weights(self, op: Op, g: Graph) -> str | None:
        (inp, w, *_), (out,) = tensors(g, op)
        o = op.options
        if o is None:
            return "missing DepthwiseConv2DOptions"
        if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
            return "input, weights and output must be 4-D"
        if w.shape[0] != 1:
            return f"depthwise weights must be [1, H, W, C], got {list(w.shape)}"
        channels = w.shape[3]
        why = check_window(o) or check_conv_quant(inp, w, out, channels, 3)
        if why:
            return why
        if inp.shape[3] < 1 or channels % inp.shape[3]:
            return f"{channels} output channels are not a multiple of the {inp.shape[3]} input channels"
        multiplier = channels // inp.shape[3]
        if inp.dtype == "int16" and int(o.depthMultiplier) != multiplier:
            return (f"depth_multiplier option {o.depthMultiplier} disagrees with the shapes ({multiplier}); "
                    "LiteRT's 16x8 kernel uses the option")
        return check_bias_and_shifts(g, op, inp, w, out, bias_of(g, op), channels) or check_output(op, g, channels)

    def macs(self, op: Op, g: Graph) -> int:
        w = g.tensors[op.inputs[1]]
        return g.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2]

    @staticmethod
    def arm_dsp(op: Op, g: Graph, kernels: str) -> bool:
        """The arm-dsp kernel takes int8 with depth multiplier 1 and symmetric weights."""
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        symmetric = w.quant is None or not w.quant.zero_point.any()
        return uses_arm_dsp(kernels) and inp.dtype == "int8" and w.shape[3] == inp.shape[3] and symmetric

    def variant_scratch_bytes(self, op: Op, g: Graph, kernels: str) -> int:
        """td_depthwise_conv_s8_arm_dsp_scratch_size() for the arm-dsp kernel."""
        if not self.arm_dsp(op, g, kernels):
            return 0
        w = g.tensors[op.inputs[1]]
        return dw_arm_dsp_scratch_bytes(w.shape[1] * w.shape[2], w.shape[3])

    def variant_inplace_temp_bytes(self, op: Op, g: Graph, kernels: str) -> int | None:
        """arm-dsp: what td_depthwise_conv_s8_arm_dsp_inplace_scratch_size() needs beyond the arm-dsp
        scratch that the arena plans for the op anyway (its padded four-channel plane and a four-channel
        arm-dsp scratch share that buffer)."""
        ref = self.inplace_temp_bytes(op, g)
        if ref is None or not self.arm_dsp(op, g, kernels):
            return ref
        win, w = conv_window(op, g), g.tensors[op.inputs[1]]
        taps, channels = win.filter_h * win.filter_w, w.shape[3]
        plane = 4 * ((win.out_h - 1) * win.stride_h + (win.filter_h - 1) * win.dil_h + 1) * \
            ((win.out_w - 1) * win.stride_w + (win.filter_w - 1) * win.dil_w + 1)
        needed = plane + dw_arm_dsp_scratch_bytes(taps, min(channels, 4))
        return max(0, needed - dw_arm_dsp_scratch_bytes(taps, channels))

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """td_depthwise_conv_*_inplace_scratch_size() (checked against it in debug builds)."""
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        if inp.shape[0] != 1 or out.shape[3] != inp.shape[3]:
            return None
        win = conv_window(op, g)
        return (inp.shape[1] * inp.shape[2] + win.out_h * win.out_w) * out.itemsize + win.filter_h * win.filter_w

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        arm = self.arm_dsp(op, g, e.kernels)
        p = dw_params(e, g, op, conv_window(op, g), with_requant=not arm)
        kernel = "s8" if inp.dtype == "int8" else "s16"
        if arm:
            self.emit_arm_dsp(op, g, e, p)
        elif e.in_place:
            e.call(f"td_depthwise_conv_{kernel}_inplace", p, e.ptr(op.outputs[0]), e.ptr(op.inputs[1], flash=True),
                   optional_ptr(e, op, 2),
                   e.scratch(f"td_depthwise_conv_{kernel}_inplace_scratch_size({p})", out.ctype))
        else:
            e.call(f"td_depthwise_conv_{kernel}", p, e.ptr(op.inputs[0], const=True),
                   e.ptr(op.inputs[1], flash=True), optional_ptr(e, op, 2), e.ptr(op.outputs[0]))

    def emit_arm_dsp(self, op: Op, g: Graph, e, p: str) -> None:
        """td_depthwise_conv_s8_arm_dsp (or its in-place twin): weights in the SIMD order, the input offset
        folded into the table's biases (exact at borders: the kernel reads the input zero point there)."""
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        _, mult, shift = requant_arrays(g, op, inp, w, out, w.shape[3])
        bias_t = bias_of(g, op)
        table = dw_table_arm_dsp(None if bias_t is None else bias_t.data, w.data, -inp.zero_point, out.zero_point,
                                 mult, shift)
        weights = e.const_array(dw_weights_arm_dsp(w.data), "int8_t", "weights_arm", flash=True)
        table = e.const_array(table, "int32_t", "table_arm", flash=True)
        if e.in_place:
            e.call("td_depthwise_conv_s8_arm_dsp_inplace", p, e.ptr(op.outputs[0]), weights, table,
                   e.scratch(f"td_depthwise_conv_s8_arm_dsp_inplace_scratch_size({p})"))
        else:
            e.call("td_depthwise_conv_s8_arm_dsp", p, e.ptr(op.inputs[0], const=True), weights, table,
                   e.ptr(op.outputs[0]), e.scratch(f"td_depthwise_conv_s8_arm_dsp_scratch_size({p})"))
