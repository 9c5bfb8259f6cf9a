"""Sliding-window geometry shared by every conv-like and pooling op, as TFLM's padding.h: one
output-size rule, one padding rule, one Window value that planners and passes read."""
from __future__ import annotations

from typing import NamedTuple

SAME, VALID = 0, 1  # tflite Padding


class Window(NamedTuple):
    """Filter, stride, dilation and top/left padding along (rows, columns); out_* the output size."""

    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_h: int
    pad_w: int
    out_h: int
    out_w: int

    def along(self, axis: int) -> tuple[int, int, int, int]:
        """(filter, stride, dilation, pad) along axis 0 (rows) or 1 (columns)."""
        return self[axis], self[2 + axis], self[4 + axis], self[6 + axis]


def _cdiv(a: int, b: int) -> int:
    """C-style integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def out_size(padding: int, size: int, taps: int, stride: int, dilation: int = 1) -> int:
    """TFLite ComputeOutSize."""
    effective = (taps - 1) * dilation + 1
    if stride <= 0:
        return 0
    if padding == SAME:
        return _cdiv(size + stride - 1, stride)
    if padding == VALID:
        return _cdiv(size + stride - effective, stride)
    return 0


def pad_before(size: int, taps: int, stride: int, out: int, dilation: int = 1) -> int:
    """Top/left padding, as TFLite ComputePaddingWithOffset (the offset goes to the bottom/right)."""
    total = (out - 1) * stride + (taps - 1) * dilation + 1 - size
    return _cdiv(max(total, 0), 2)


def window(padding: int, in_hw: tuple[int, int], filter_hw: tuple[int, int], stride_hw: tuple[int, int],
           dilation_hw: tuple[int, int] = (1, 1), explicit: tuple[tuple[int, int], tuple[int, int]] | None = None
           ) -> Window:
    """The window of an op over an input of in_hw, as TFLite ComputePaddingHeightWidth.
    explicit = ((out_h, out_w), (pad_h, pad_w)): a patch of a larger tensor (passes/patch.py)."""
    (h, w), (fh, fw), (sh, sw), (dh, dw) = in_hw, filter_hw, stride_hw, dilation_hw
    if explicit is not None:
        (oh, ow), (ph, pw) = explicit
    else:
        oh, ow = out_size(padding, h, fh, sh, dh), out_size(padding, w, fw, sw, dw)
        ph, pw = pad_before(h, fh, sh, oh, dh), pad_before(w, fw, sw, ow, dw)
    return Window(fh, fw, sh, sw, dh, dw, ph, pw, oh, ow)
