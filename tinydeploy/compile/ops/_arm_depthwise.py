"""Constants of the arm-dsp DEPTHWISE_CONV_2D kernel (td_depthwise_conv_s8_arm_dsp, lib/tinydeploy/arm/):
the weights re-laid-out in the order the SIMD loop reads them, and the per-quad table of folded biases
and requantization constants. The layouts are documented next to the kernel's declaration
(td_depthwise_conv.h)."""
from __future__ import annotations

import numpy as np

from ._arm import folded_bias

CHUNK = 64  # TD_ARM_DW_CHUNK: channels whose weights the kernel widens at once
LAYER_WORDS = 25  # TD_ARM_DW_LAYER_WORDS: the kernel state at the start of its scratch


def dw_weights_arm_dsp(w: np.ndarray) -> np.ndarray:
    """[1, H, W, C] int8 -> the same bytes in the arm-dsp depthwise layout: channel quads, each quad's taps
    in pairs ([c0 c1] of tap t, of tap t+1, then [c2 c3] of both), an odd last tap as its 4 bytes; the
    C % 4 leftover channels after the quads, tap by tap."""
    w = np.asarray(w, dtype=np.int8)
    taps, channels = w.shape[1] * w.shape[2], w.shape[3]
    flat = w.reshape(taps, channels)
    c4, even = channels - channels % 4, taps - taps % 2
    q = c4 // 4
    quads = flat[:, :c4].reshape(taps, q, 4).transpose(1, 0, 2)  # [quad, tap, 4]
    pairs = quads[:, :even].reshape(q, even // 2, 2, 2, 2)  # [quad, pair, tap, half, 2 channels]
    pairs = pairs.transpose(0, 1, 3, 2, 4).reshape(q, 4 * even)  # per pair: half 0 taps, half 1 taps
    parts = [np.concatenate([pairs, quads[:, even:].reshape(q, 4 * (taps - even))], axis=1).reshape(-1),
             flat[:, c4:].reshape(-1)]
    out = np.concatenate(parts)
    assert out.size == w.size
    return out


def _wrap32(v: np.ndarray) -> np.ndarray:
    return (np.asarray(v, dtype=np.int64) + 2**31) % 2**32 - 2**31


def fast_requant_ok(bound: np.ndarray, mult: np.ndarray, shift: np.ndarray, output_offset: int) -> bool:
    """Whether every channel fits the kernel's fast requantization (td_arm_dw_requant): multiplier in
    [2^30, 2^31) or 0, shift -e with e in 1..31, |acc + bias| <= bound < 2^30, and the high product
    plus k = 2^(e-1) + output_offset * 2^e inside int32."""
    mult, shift, bound = (np.asarray(a, dtype=np.int64) for a in (mult, shift, bound))
    if not (((mult == 0) | ((mult >= 2**30) & (mult < 2**31))).all() and ((shift <= -1) & (shift >= -31)).all()):
        return False
    e = -shift
    high = (bound * mult >> 31) + 1
    k = 2 ** (e - 1) + output_offset * 2**e
    return bool((bound < 2**30).all() and (np.abs(k) + high + 1 < 2**31).all())


def dw_table_arm_dsp(bias: np.ndarray | None, w: np.ndarray, input_offset: int, output_offset: int,
                     mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The kernel's int32 table: a 4-word header (word 0: 1 = fast requantization), then per channel quad
    16 words: 4 biases with input_offset * sum(w) folded in, (multiplier, k or shift) for the 4 channels,
    4 shifts e (fast) or zeros. The fast table doubles the biases (the kernel doubles the weights)."""
    channels = w.shape[3]
    flat = np.asarray(w, dtype=np.int64).reshape(-1, channels).T  # [C, taps]
    mult = np.broadcast_to(np.asarray(mult, dtype=np.int64), (channels,))
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), (channels,))
    b = np.zeros(channels, np.int64) if bias is None else np.asarray(bias, dtype=np.int64).reshape(-1)
    bound = np.abs(b) + 255 * np.abs(flat).sum(axis=1)  # |x + input_offset| <= 255
    fast = fast_requant_ok(bound, mult, shift, output_offset)
    folded = folded_bias(bias, flat, input_offset)
    if fast:
        e = -shift
        first, second, third = _wrap32(2 * folded), 2 ** (e - 1) + output_offset * 2**e, e
    else:
        first, second, third = folded, shift, np.zeros(channels, np.int64)
    quads = -(-channels // 4)
    cols = np.zeros((4, quads * 4), np.int64)
    for row, values in enumerate((first, mult, second, third)):
        cols[row, :channels] = values
    per_quad = cols.reshape(4, quads, 4).transpose(1, 0, 2)  # [quad, row, lane]
    pairs = per_quad[:, 1:3].transpose(0, 2, 1).reshape(quads, 8)  # (m, k) lane by lane
    table = np.concatenate([per_quad[:, 0], pairs, per_quad[:, 3]], axis=1).reshape(-1)
    return np.concatenate([[int(fast), 0, 0, 0], table]).astype(np.int64)


def dw_arm_dsp_scratch_bytes(taps: int, channels: int) -> int:
    """td_depthwise_conv_s8_arm_dsp_scratch_size: a word to align it, the kernel's state (LAYER_WORDS), tap
    offsets (2 x taps words), the widened weights of min(C, 64) channels' quads, a 64-byte zero-point row."""
    return 4 * (1 + LAYER_WORDS + 2 * taps + 2 * taps * (min(channels, CHUNK) // 4) + CHUNK // 4)
