"""Helpers shared by op lowerings (not an op module itself)."""
from __future__ import annotations

import numpy as np

from ..codegen.emitter import CStruct
from ..ir import Graph, Op, Tensor
from ..quant import activation_range, per_channel_multipliers
from .window import Window


def fused_activation(op: Op) -> int:
    return int(getattr(op.options, "fusedActivationFunction", 0) or 0)


def act_range(op: Op, out: Tensor) -> tuple[int, int]:
    """Clamp bounds of the op's fused activation in the output's quantized domain."""
    return activation_range(fused_activation(op), out.scale, out.zero_point, out.dtype)


def clamp(lo: int, hi: int) -> CStruct:
    """A td_activation: clamp to [lo, hi] in the output's quantized domain."""
    return CStruct("td_activation", [("min", int(lo)), ("max", int(hi))])


def activation(op: Op, out: Tensor) -> CStruct:
    """The td_activation of the op's fused activation."""
    return clamp(*act_range(op, out))


def nhwc(shape) -> CStruct:
    """The td_dims of a 4-D NHWC shape."""
    n, h, w, c = (int(d) for d in shape)
    return CStruct("td_dims", [("n", n), ("h", h), ("w", w), ("c", c)])


def window_struct(win: Window) -> CStruct:
    """The td_window of a Window (ops/window.py)."""
    return CStruct("td_window", [
        ("filter_h", win.filter_h), ("filter_w", win.filter_w), ("stride_h", win.stride_h),
        ("stride_w", win.stride_w), ("dilation_h", win.dil_h), ("dilation_w", win.dil_w),
        ("pad_h", win.pad_h), ("pad_w", win.pad_w)])


def check_fused_activation(op: Op) -> str | None:
    act = fused_activation(op)
    return None if act in (0, 1, 2, 3) else f"fused activation {act} is not supported"


def requant_arrays(g: Graph, op: Op, inp: Tensor, weights: Tensor, out: Tensor, channels: int):
    """(per_channel, multiplier[], shift[]) for a conv-like op, as TFLite's Prepare computes them."""
    scales = weights.quant.scale
    mult, shift = per_channel_multipliers(inp.scale, scales, out.scale, channels)
    per_channel = scales.size > 1
    if not per_channel:
        mult, shift = mult[:1], shift[:1]
    return per_channel, mult, shift


def requant(e, g: Graph, op: Op, inp: Tensor, weights: Tensor, out: Tensor, channels: int) -> CStruct:
    """The td_requant of a conv-like op: its multiplier and shift arrays declared with the weights."""
    per_channel, mult, shift = requant_arrays(g, op, inp, weights, out, channels)
    return CStruct("td_requant", [("per_channel", int(per_channel)),
                                  ("multiplier", e.const_array(mult, "int32_t", "mult", flash=True)),
                                  ("shift", e.const_array(shift, "int32_t", "shift", flash=True))])


#: the td_requant of a kernel that reads its requantization from its own table (arm-dsp depthwise)
NO_REQUANT = CStruct("td_requant", [("per_channel", 0), ("multiplier", "NULL"), ("shift", "NULL")])


def optional_ptr(e, op: Op, index: int, flash: bool = True) -> str:
    """The pointer to the op's optional constant input `index` (a bias), or NULL when it has none."""
    return e.ptr(op.inputs[index], flash=flash) if len(op.inputs) > index and op.inputs[index] >= 0 else "NULL"


def tensors(g: Graph, op: Op) -> tuple[list[Tensor | None], list[Tensor]]:
    return [g.tensor(i) for i in op.inputs], [g.tensors[i] for i in op.outputs]


def quantized(*ts: Tensor | None) -> bool:
    return all(t is None or t.quant is not None for t in ts)


def np_int(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def row_streaming_overlap(inp: Tensor, out: Tensor, stride_h: int, pad_top: int) -> int | None:
    """Bytes D such that an NHWC kernel looping batch -> out row -> out col may write its output
    starting D bytes before its input: output row oy ends before input row max(0, oy*stride - pad),
    the first row still read, for every oy. Batch 1 only; None when sharing would not save memory."""
    if len(inp.shape) != 4 or len(out.shape) != 4 or inp.shape[0] != 1:
        return None
    row_in = inp.shape[2] * inp.shape[3] * inp.itemsize
    row_out = out.shape[2] * out.shape[3] * out.itemsize
    d = max(0, max(row_out * (oy + 1) - row_in * max(0, oy * stride_h - pad_top) for oy in range(out.shape[1])))
    return d if max(d + inp.nbytes, out.nbytes) < inp.nbytes + out.nbytes else None


def explicit_padding_reason(op: Op, in_hw, out_hw, taps_hw, stride_hw, dilation_hw) -> str | None:
    """For an op with an explicit (top, left) padding override (passes/patch.py runs it on a patch):
    why the window geometry is impossible (first or last window entirely outside the input), or None."""
    pad = getattr(op, "explicit_padding", None)
    if pad is None:
        return None
    if len(pad) != 2:
        return "explicit padding must be (top, left)"
    for name, size, out, taps, s, d, p in zip(("height", "width"), in_hw, out_hw, taps_hw, stride_hw, dilation_hw,
                                             pad):
        if p > (taps - 1) * d:  # negative: the patch starts before the first row the op reads
            return f"explicit {name} padding {p} puts the first window outside the input"
        if out < 1 or (out - 1) * s - p >= size:
            return f"explicit {name} padding {p}: the last of {out} windows starts after the input ({size})"
    return None
