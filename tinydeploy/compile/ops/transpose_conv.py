"""TRANSPOSE_CONV: int8 and 16x8 (int16 activations, int8 weights), per-tensor or per-channel
weights, strides, SAME/VALID padding, optional bias, fused activation.

Inputs are (output_shape, weights OHWI, input, optional bias). The padding is TFLite's
ComputePaddingHeightWidth on the output size. 16x8 takes an int64 bias, or an int32 bias when
quantized_bias_type is INT32 (32-bit accumulator: td_transpose_conv_s16_b32). The kernels gather
instead of scattering, so they need no scratch buffer.
"""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import activation, check_fused_activation, nhwc, optional_ptr, requant, window_struct
from .conv2d import bias_of, check_bias_and_shifts, check_conv_quant, check_window, kernel_suffix
from .window import Window, window


@register("TRANSPOSE_CONV")
class TransposeConv(OpLowering):
    header = "td_transpose_conv.h"

    def window(self, op: Op, g: Graph) -> Window:
        """The forward convolution that this op transposes: over the output, giving the input's size."""
        w, out, o = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]], op.options
        return window(o.padding, tuple(out.shape[1:3]), tuple(w.shape[1:3]), (o.strideH, o.strideW))

    def check(self, op: Op, g: Graph) -> str | None:
        if len(op.inputs) < 3 or min(op.inputs[:3]) < 0:
            return "needs output_shape, weights and input"
        shape_t, w, inp = (g.tensors[i] for i in op.inputs[:3])
        bias, out = bias_of(g, op, 3), g.tensors[op.outputs[0]]
        o = op.options
        if o is None:
            return "missing TransposeConvOptions"
        if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
            return "input, weights and output must be 4-D"
        if not shape_t.is_const or shape_t.dtype != "int32" or shape_t.size != 4:
            return "output_shape must be a constant int32 tensor of 4 values"
        if [int(v) for v in shape_t.data.reshape(-1)] != list(out.shape):
            return f"output_shape {shape_t.data.tolist()} disagrees with the output tensor {list(out.shape)}"
        channels = w.shape[0]
        why = check_window(o, dilations=False) or check_conv_quant(inp, w, out, channels, 0)
        if why:
            return why
        if inp.shape[3] != w.shape[3]:
            return f"input depth {inp.shape[3]} differs from the weights' depth {w.shape[3]}"
        if out.shape[3] != channels or out.shape[0] != inp.shape[0]:
            return f"output shape {list(out.shape)} disagrees with input {list(inp.shape)} / weights"
        why = check_bias_and_shifts(g, op, inp, w, out, bias, channels)
        if why:
            return why
        win = self.window(op, g)
        if (win.out_h, win.out_w) != (inp.shape[1], inp.shape[2]):
            return (f"a convolution of the {out.shape[1]}x{out.shape[2]} output gives {win.out_h}x{win.out_w}, "
                    f"not the {inp.shape[1]}x{inp.shape[2]} input")
        return check_fused_activation(op)

    def macs(self, op: Op, g: Graph) -> int:
        w, inp = g.tensors[op.inputs[1]], g.tensors[op.inputs[2]]
        return inp.size * w.shape[0] * w.shape[1] * w.shape[2]

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, w, out = g.tensors[op.inputs[2]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        p = e.params("td_transpose_conv_params", [
            ("input", nhwc(inp.shape)), ("output", nhwc(out.shape)), ("window", window_struct(self.window(op, g))),
            ("input_offset", -inp.zero_point), ("output_offset", out.zero_point),
            ("requant", requant(e, g, op, inp, w, out, w.shape[0])), ("activation", activation(op, out)),
        ])
        e.call(f"td_transpose_conv_{kernel_suffix(op, inp)}", p, e.ptr(op.inputs[2], const=True),
               e.ptr(op.inputs[1], flash=True), optional_ptr(e, op, 3), e.ptr(op.outputs[0]))
