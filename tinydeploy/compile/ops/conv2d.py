"""CONV_2D: int8 and 16x8 (int16 activations, int8 weights), per-tensor or per-channel weights,
strides, dilations, SAME/VALID padding, grouped convolution, fused activations.

LiteRT 2.3.0's reference ConvPerChannel requantizes with the two-step rounding, which the C
kernels (td_conv.c) reproduce. 16x8 takes an int64 bias, or an int32 bias when the op option
quantized_bias_type is INT32 (then the accumulator is 32 bits wide: td_conv_s16_b32).
A 1x1 stride-1 convolution can also run in place (td_conv_1x1_*_inplace, td_inplace.h).
"""
from __future__ import annotations

from ..ir import Graph, Op, Tensor
from ..tflite import schema as S
from . import OpLowering, register
from ._arm import conv_arm_dsp_scratch_bytes, conv_weights_arm_dsp, folded_bias, uses_arm_dsp
from ._common import (
    check_fused_activation,
    explicit_padding_reason,
    optional_ptr,
    requant_arrays,
    row_streaming_overlap,
)
from ._params import conv_params
from .window import Window, window

SAME, VALID = S.Padding.SAME, S.Padding.VALID
TYPE_FLOAT32, TYPE_INT32, TYPE_INT64 = S.TensorType.FLOAT32, S.TensorType.INT32, S.TensorType.INT64

#: 16x8 kernels (64-bit accumulator) round the multiplier to 16 bits and need shift < 15
MAX_S16_SHIFT = 14


def check_conv_quant(inp: Tensor, w: Tensor, out: Tensor, channels: int, axis: int) -> str | None:
    """Checks shared by the conv family: types, weight quantization, int16 zero points."""
    if inp.dtype not in ("int8", "int16") or w.dtype != "int8" or out.dtype != inp.dtype:
        return f"type combination {inp.dtype}/{w.dtype}->{out.dtype} is not supported"
    if not w.is_const:
        return "weights must be constant"
    if inp.quant is None or w.quant is None or out.quant is None:
        return "input, weights and output must be quantized"
    if any(int(z) != 0 for z in w.quant.zero_point):
        return "weights need zero point 0 (symmetric quantization)"
    n = w.quant.scale.size
    if n != 1:
        if n != channels:
            return f"weights have {n} scales for {channels} output channels"
        if w.quant.axis != axis:
            return f"per-channel weights must be quantized along axis {axis}, not {w.quant.axis}"
    if inp.dtype == "int16" and (inp.zero_point != 0 or out.zero_point != 0):
        return "int16 input and output need zero point 0"
    return None


def check_bias(bias: Tensor | None, channels: int, allowed: tuple[str, ...]) -> str | None:
    if bias is None:
        return None
    if not bias.is_const:
        return "bias must be constant"
    if bias.dtype not in allowed:
        return f"bias type {bias.dtype} is not supported here (want {' or '.join(allowed)})"
    if bias.size != channels:
        return f"bias has {bias.size} values for {channels} output channels"
    if bias.quant is not None and any(int(z) != 0 for z in bias.quant.zero_point):
        return "bias needs zero point 0"
    return None


def check_s16_shifts(g: Graph, op: Op, inp: Tensor, w: Tensor, out: Tensor, channels: int) -> str | None:
    """The 64-bit 16x8 requantization needs rescale factors below 2^14."""
    _, _, shift = requant_arrays(g, op, inp, w, out, channels)
    if int(shift.max()) > MAX_S16_SHIFT:
        return "16x8 rescale factor input_scale*weight_scale/output_scale must be below 2^14"
    return None


def check_bias_and_shifts(g: Graph, op: Op, inp: Tensor, w: Tensor, out: Tensor, bias: Tensor | None,
                          channels: int) -> str | None:
    """int8: an int32 bias. 16x8: the bias type the op option quantized_bias_type names (LiteRT reads
    any other 16x8 bias as int64; DEPTHWISE_CONV_2D has no such option), and for the 64-bit
    accumulator the rescale limit."""
    if inp.dtype == "int8":
        return check_bias(bias, channels, ("int32",))
    bt = int(getattr(op.options, "quantizedBiasType", TYPE_FLOAT32))
    if bt not in (TYPE_FLOAT32, TYPE_INT32, TYPE_INT64):
        return f"quantized_bias_type {bt} is not supported"
    why = check_bias(bias, channels, ("int32",) if bt == TYPE_INT32 else ("int64",))
    if not why and bt != TYPE_INT32:
        why = check_s16_shifts(g, op, inp, w, out, channels)
    return why


def check_window(o, dilations: bool = True) -> str | None:
    """Strides (and dilations) positive, SAME or VALID padding."""
    if min(o.strideH, o.strideW) < 1 or (dilations and min(o.dilationHFactor, o.dilationWFactor) < 1):
        return "strides and dilations must be positive" if dilations else "strides must be positive"
    if o.padding not in (SAME, VALID):
        return f"padding {o.padding} is not supported"
    return None


def kernel_suffix(op: Op, inp: Tensor) -> str:
    """s8, s16 (64-bit accumulator) or s16_b32 (int32 bias, quantized_bias_type INT32)."""
    if inp.dtype == "int8":
        return "s8"
    return "s16_b32" if int(getattr(op.options, "quantizedBiasType", 0)) == TYPE_INT32 else "s16"


def bias_of(g: Graph, op: Op, index: int = 2) -> Tensor | None:
    return g.tensor(op.inputs[index]) if len(op.inputs) > index else None


def conv_window(op: Op, g: Graph) -> Window:
    """The window of a conv-like op (CONV_2D, DEPTHWISE_CONV_2D): OHWI / 1HWC weights."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    o = op.options
    explicit = (tuple(out.shape[1:3]), op.explicit_padding) if op.explicit_padding is not None else None
    return window(o.padding, tuple(inp.shape[1:3]), tuple(w.shape[1:3]), (o.strideH, o.strideW),
                  (o.dilationHFactor, o.dilationWFactor), explicit)


def check_output(op: Op, g: Graph, channels: int) -> str | None:
    """A conv-like op's output shape against its window, the explicit padding of a patch, the fused activation."""
    inp, w, out, o = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]], op.options
    win = conv_window(op, g)
    want = (inp.shape[0], win.out_h, win.out_w, channels)
    if win.out_h < 1 or win.out_w < 1 or tuple(out.shape) != want:
        return f"output shape {list(out.shape)} disagrees with the computed {list(want)}"
    why = explicit_padding_reason(op, inp.shape[1:3], (win.out_h, win.out_w), w.shape[1:3], (o.strideH, o.strideW),
                                  (o.dilationHFactor, o.dilationWFactor))
    return why or check_fused_activation(op)


def conv_overlap_bytes(op: Op, g: Graph) -> int | None:
    """Row streaming (ops/_common.row_streaming_overlap) of a conv-like op."""
    win = conv_window(op, g)
    return row_streaming_overlap(g.tensors[op.inputs[0]], g.tensors[op.outputs[0]], win.stride_h, win.pad_h)


class ConvLike(OpLowering):
    """CONV_2D and DEPTHWISE_CONV_2D: one window geometry, row streaming, the in-place kernels' header."""

    header = "td_inplace.h"  # includes td_conv.h and td_depthwise_conv.h
    window = staticmethod(conv_window)
    overlap_bytes = staticmethod(conv_overlap_bytes)

    def check(self, op: Op, g: Graph) -> str | None:
        if len(op.inputs) < 2 or op.inputs[1] < 0:
            return "missing weights"
        return self.check_with_weights(op, g)

    def check_with_weights(self, op: Op, g: Graph) -> str | None:
        raise NotImplementedError


@register("CONV_2D")
class Conv2D(ConvLike):
    def check_with_weights(self, op: Op, g: Graph) -> str | None:
        inp, w, bias, out = g.tensor(op.inputs[0]), g.tensor(op.inputs[1]), bias_of(g, op), g.tensors[op.outputs[0]]
        if op.options is None:
            return "missing Conv2DOptions"
        if len(inp.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
            return "input, weights and output must be 4-D"
        channels = w.shape[0]
        why = check_window(op.options) or check_conv_quant(inp, w, out, channels, 0)
        if why:
            return why
        if w.shape[3] < 1 or inp.shape[3] % w.shape[3]:
            return f"input depth {inp.shape[3]} is not a multiple of the filter depth {w.shape[3]}"
        groups = inp.shape[3] // w.shape[3]
        if channels % groups:
            return f"{channels} output channels cannot be split into {groups} groups"
        return check_bias_and_shifts(g, op, inp, w, out, bias, channels) or check_output(op, g, channels)

    def macs(self, op: Op, g: Graph) -> int:
        w = g.tensors[op.inputs[1]]
        return g.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2] * w.shape[3]

    @staticmethod
    def arm_dsp(op: Op, g: Graph, kernels: str) -> bool:
        """The arm-dsp kernels take int8 convolutions of one group."""
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        return uses_arm_dsp(kernels) and inp.dtype == "int8" and w.shape[3] == inp.shape[3]

    def variant_scratch_bytes(self, op: Op, g: Graph, kernels: str) -> int:
        """td_conv_s8_arm_dsp_scratch_size() for the arm-dsp kernel (not when it runs in place)."""
        if not self.arm_dsp(op, g, kernels):
            return 0
        w, win = g.tensors[op.inputs[1]], conv_window(op, g)
        direct = (win.filter_h, win.filter_w, win.pad_h, win.pad_w) == (1, 1, 0, 0)
        return conv_arm_dsp_scratch_bytes(w.shape[1] * w.shape[2] * w.shape[3], w.shape[0], direct)

    def variant_inplace_temp_bytes(self, op: Op, g: Graph, kernels: str) -> int | None:
        """td_conv_1x1_s8_arm_dsp_inplace_scratch_size() for the arm-dsp kernel."""
        ref = self.inplace_temp_bytes(op, g)
        if ref is None or not self.arm_dsp(op, g, kernels):
            return ref
        return conv_arm_dsp_scratch_bytes(g.tensors[op.inputs[0]].shape[3], g.tensors[op.inputs[1]].shape[0], True)

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        """td_conv_1x1_*_inplace_scratch_size() (checked against it in debug builds)."""
        inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        o = op.options
        if (w.shape[1], w.shape[2]) != (1, 1) or (o.strideH, o.strideW) != (1, 1):
            return None
        if w.shape[3] != inp.shape[3] or kernel_suffix(op, inp) not in ("s8", "s16"):
            return None
        if tuple(inp.shape[:3]) != tuple(out.shape[:3]):  # a patch clone reading a larger input patch
            return None
        return out.shape[-1] * out.itemsize

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        p = conv_params(e, g, op, conv_window(op, g))
        kernel = kernel_suffix(op, inp)
        if self.arm_dsp(op, g, e.kernels):
            self.emit_arm_dsp(op, g, e, p)
        elif e.in_place:
            e.call(f"td_conv_1x1_{kernel}_inplace", p, e.ptr(op.outputs[0]), e.ptr(op.inputs[1], flash=True),
                   optional_ptr(e, op, 2), e.scratch(f"td_conv_1x1_{kernel}_inplace_scratch_size({p})", out.ctype))
        else:
            e.call(f"td_conv_{kernel}", p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], flash=True),
                   optional_ptr(e, op, 2), e.ptr(op.outputs[0]))

    def emit_arm_dsp(self, op: Op, g: Graph, e, p: str) -> None:
        """td_conv_s8_arm_dsp (or its in-place 1x1 twin): weights as words in the SIMD order, the input
        offset folded into the bias (exact at borders too: the kernel pads with the input zero point)."""
        inp, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        bias_t = bias_of(g, op)
        flat = w.data.reshape(w.shape[0], -1)
        weights = e.const_array(conv_weights_arm_dsp(w.data), "int32_t", "weights_arm", flash=True)
        bias = e.const_array(folded_bias(None if bias_t is None else bias_t.data, flat, -inp.zero_point),
                             "int32_t", "bias_arm", flash=True)
        if e.in_place:
            e.call("td_conv_1x1_s8_arm_dsp_inplace", p, e.ptr(op.outputs[0]), weights, bias,
                   e.scratch(f"td_conv_1x1_s8_arm_dsp_inplace_scratch_size({p})"))
        else:
            e.call("td_conv_s8_arm_dsp", p, e.ptr(op.inputs[0], const=True), weights, bias, e.ptr(op.outputs[0]),
                   e.scratch(f"td_conv_s8_arm_dsp_scratch_size({p})"))
