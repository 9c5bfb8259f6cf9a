"""Constants of the riscv kernel variant (PlanOptions.kernels = "riscv", lib/tinydeploy/riscv/): weights
re-laid-out in the order the RV32IMC loops read them (layouts documented in td_riscv.h). Biases with the
input offset folded in come from _arm.folded_bias."""
from __future__ import annotations

import numpy as np

from .window import Window


def padded_k(k: int) -> int:
    """K rounded up to a multiple of 4 (the conv tile reads four k at a time)."""
    return -(-k // 4) * 4


def conv_weights_riscv(w: np.ndarray) -> np.ndarray:
    """OHWI int8 [O, ...] -> the riscv conv layout: K padded with zeros to Kp, channels in blocks of four
    read k by k (the block's four weights of k, then of k + 1, ...), then the O % 4 leftover rows."""
    w = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    filters, k = w.shape
    padded = np.zeros((filters, padded_k(k)), dtype=np.int8)
    padded[:, :k] = w
    o4 = filters - filters % 4
    blocks = padded[:o4].reshape(o4 // 4, 4, padded.shape[1]).transpose(0, 2, 1).reshape(-1)
    return np.concatenate([blocks, padded[o4:].reshape(-1)])


def conv_riscv_scratch_bytes(k: int) -> int:
    """td_conv_s8_riscv_scratch_size: three pixels' field."""
    return 3 * padded_k(k)


def dw_weights_riscv(w: np.ndarray) -> np.ndarray:
    """[1, H, W, C] int8 -> the riscv depthwise layout: channel by channel, its taps row-major ([C, H * W])."""
    w = np.asarray(w, dtype=np.int8)
    return np.ascontiguousarray(w.reshape(-1, w.shape[-1]).T).reshape(-1)


def dw_riscv_scratch_bytes(win: Window) -> int:
    """td_depthwise_conv_s8_riscv_scratch_size: word-aligned int32 sums of a chunk of output rows (about 32
    outputs), the padded plane the window reaches."""
    rows = (win.out_h - 1) * win.stride_h + (win.filter_h - 1) * win.dil_h + 1
    cols = (win.out_w - 1) * win.stride_w + (win.filter_w - 1) * win.dil_w + 1
    chunk = min(win.out_h, 1 if win.out_w >= 32 else 32 // win.out_w)
    return 4 * chunk * win.out_w + 3 + rows * cols


def mul_by_quantized_mult_dr(x, multiplier: int, shift: int) -> np.ndarray:
    """td_mul_by_quantized_mult_dr (td_math.h) on int64 arrays of int32 values: the two-step rounding of
    LiteRT's conv and ADD kernels (rounding doubling high multiply, then a rounding right shift)."""
    x = np.asarray(x, dtype=np.int64)
    left, right = max(shift, 0), max(-shift, 0)
    x = ((x << left) + 2**31) % 2**32 - 2**31  # wraps like td_shl32
    ab = x * int(multiplier)
    v = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(v >= 0, v >> 31, -((-v) >> 31))  # truncating division by 2^31
    high = np.where((x == -2**31) & (multiplier == -2**31), 2**31 - 1, high)
    mask = (1 << right) - 1
    return (high >> right) + ((high & mask) > (mask >> 1) + (high < 0))


def add_tables_riscv(offsets: tuple[int, int], mults: tuple[int, int], shifts: tuple[int, int],
                     subtract: bool) -> np.ndarray:
    """The riscv ADD / SUB table: for every int8 value x (index x + 128), input 1's rescaled term
    MBQM_dr((x + offset1) << 20, m1, s1), then input 2's (negated for SUB): 512 int32."""
    x = np.arange(-128, 128, dtype=np.int64)
    t1 = mul_by_quantized_mult_dr((x + offsets[0]) << 20, mults[0], shifts[0])
    t2 = mul_by_quantized_mult_dr((x + offsets[1]) << 20, mults[1], shifts[1])
    return np.concatenate([t1, -t2 if subtract else t2])
