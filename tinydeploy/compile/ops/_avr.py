"""Constants of the avr kernel variant (PlanOptions.kernels = "avr", lib/tinydeploy/avr/): the flash stream
that each kernel reads in sequence (per output channel a header, then the channel's weights; layout in
td_avr.h) and the range proofs behind its accumulator widths."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from ._arm import folded_bias
from ._common import requant_arrays

#: td_avr.h header sizes: "dr" (two-step rounding, conv family) and "sr" (one rounding, fully connected)
DR_BYTES, SR_BYTES = 23, 18
INT16, INT24, INT32 = 2**15, 2**23, 2**31


def dot_widths(w: np.ndarray) -> np.ndarray | None:
    """Per row of int8 weights [rows, K]: 0 when sum w * x fits int16 for EVERY int8 x (the kernel's 16-bit
    MULS sum is then exact), 1 when it fits int24; None when some row fits neither (the kernel cannot
    take it). The extremes are sum min(-128 w, 127 w) and sum max(-128 w, 127 w), taps independent."""
    w = np.asarray(w, dtype=np.int64).reshape(w.shape[0], -1)
    lo, hi = np.minimum(-128 * w, 127 * w).sum(axis=1), np.maximum(-128 * w, 127 * w).sum(axis=1)
    if (lo < -INT24).any() or (hi >= INT24).any():
        return None
    return ((lo < -INT16) | (hi >= INT16)).astype(np.int64)


def _le(values, ctype: str) -> np.ndarray:
    """Little-endian bytes of one header field per channel, as int8 columns [channels, size]."""
    v = np.asarray(values, dtype=np.int64)
    if ctype == "u8":
        return v.astype(np.uint8).view(np.int8).reshape(-1, 1)
    return ((v + 2**32) % 2**32).astype("<u4").view(np.int8).reshape(-1, 4)


def channel_requant(g: Graph, op: Op, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, shift) per output channel, per-tensor values repeated."""
    inp, w, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    _, mult, shift = requant_arrays(g, op, inp, w, out, channels)
    mult, shift = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    return np.resize(mult, channels), np.resize(shift, channels)


def requant_ok(mult: np.ndarray, shift: np.ndarray) -> bool:
    """Shifts that both headers encode (right shift at most 31, left at most 30), multipliers >= 0."""
    return bool((mult >= 0).all() and (shift >= -31).all() and (shift <= 30).all())


def dr_output(acc: int, mult: int, shift: int) -> int:
    """LiteRT's two-step requantization of one int32 accumulator (td_mul_by_quantized_mult_dr), in Python ints."""
    left, right = max(shift, 0), max(-shift, 0)
    x = ((acc << left) + INT32) % 2**32 - INT32
    y = (x * mult + 2**30) >> 31  # the rounding doubling high multiply for mult >= 0
    mask = (1 << right) - 1
    return (y >> right) + int((y & mask) > (mask >> 1) + int(y < 0))


def saturation(mult: int, shift: int, zp: int, lo: int, hi: int) -> tuple[int, int]:
    """(below, above): every accumulator < below gives the clamp's lo, every one > above its hi, so the kernel
    skips the requantization there. The output is monotonic in the accumulator unless a left shift wraps
    it; then (INT32_MIN, INT32_MAX): nothing is skipped."""
    if shift > 0:
        return -INT32, INT32 - 1

    def out(acc: int) -> int:
        return min(hi, max(lo, dr_output(acc, mult, shift) + zp))

    def first(pred) -> int:  # the smallest int32 with pred, pred monotonic; INT32_MAX when none
        a, b = -INT32, INT32 - 1
        if not pred(b):
            return b
        while a < b:
            mid = (a + b) // 2
            a, b = (a, mid) if pred(mid) else (mid + 1, b)
        return a

    below = first(lambda acc: out(acc) > lo)
    above = INT32 - 1 if out(INT32 - 1) < hi else max(first(lambda acc: out(acc) >= hi) - 1, -INT32)
    return below, above


def dr_stream(w: np.ndarray, bias: np.ndarray | None, input_offset: int, mult: np.ndarray,
              shift: np.ndarray, clamp: tuple[int, int, int] | None = None) -> np.ndarray:
    """The conv-family stream: per output channel (row of w [channels, K]) the "dr" header (folded bias,
    multiplier, mask 2^right - 1, saturation bounds, left, right, accumulator width) and its K weights.
    clamp = (output zero point, activation min, max) gives the saturation bounds; None: never skip."""
    w = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    widths = dot_widths(w)
    assert widths is not None
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    sat = [saturation(int(m), int(k), *clamp) if clamp else (-INT32, INT32 - 1) for m, k in zip(mult, shift)]
    parts = [_le(folded_bias(bias, w, input_offset), "i32"), _le(mult, "i32"), _le(2**right - 1, "i32"),
             _le([b for b, _ in sat], "i32"), _le([a for _, a in sat], "i32"),
             _le(left, "u8"), _le(right, "u8"), _le(widths, "u8"), w]
    return np.concatenate(parts, axis=1).reshape(-1).astype(np.int64)


def sr_stream(w: np.ndarray, bias: np.ndarray | None, input_offset: int, mult: np.ndarray,
              shift: np.ndarray) -> np.ndarray:
    """The fully-connected stream: per unit the "sr" header (folded bias, multiplier, rounding constant
    2^(t-1) as low and high words, t = 31 - shift, accumulator width) and its weights."""
    w = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    widths = dot_widths(w)
    assert widths is not None
    total = 31 - shift
    rounding = [1 << int(t - 1) for t in total]
    parts = [_le(folded_bias(bias, w, input_offset), "i32"), _le(mult, "i32"),
             _le([r & 0xFFFFFFFF for r in rounding], "i32"), _le([r >> 32 for r in rounding], "i32"),
             _le(total, "u8"), _le(widths, "u8"), w]
    return np.concatenate(parts, axis=1).reshape(-1).astype(np.int64)


BLOCK_BYTES = 64  # TD_AVR_BLOCK_BYTES (td_avr_conv.c): the windows of one block of output pixels


def block_bytes(window_bytes: int, limit: int) -> int:
    """Scratch of one block of windows, as td_avr_block(): as many as fit BLOCK_BYTES, 1 to min(limit, 255)."""
    return max(1, min(BLOCK_BYTES // window_bytes, limit, 255)) * window_bytes


def fits_int16_indexing(g: Graph, op: Op) -> bool:
    """The kernels index activations with 16-bit arithmetic: every activation under 32 KB (AVR SRAM is 8 KB)."""
    return all(g.tensors[i].nbytes < INT16 for i in (op.inputs[0], op.outputs[0]))
