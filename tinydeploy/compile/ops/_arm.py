"""Constants of the arm-dsp kernel variants (PlanOptions.kernels = "arm-dsp", lib/tinydeploy/arm/): the
weights re-laid-out in the order the SIMD loops read them, and biases with the input offset folded in.
The layouts are documented next to the kernels' declarations (td_fully_connected.h)."""
from __future__ import annotations

import numpy as np

ARM_DSP = "arm-dsp"


def uses_arm_dsp(kernels: str) -> bool:
    """True when PlanOptions.kernels may call the arm-dsp kernels (arm-dsp, and arm-mve where no Helium
    kernel takes the op: see ops.VARIANT_CHAIN)."""
    from . import VARIANT_CHAIN
    return ARM_DSP in VARIANT_CHAIN.get(kernels, ())


def fc_weights_arm_dsp(w: np.ndarray) -> np.ndarray:
    """[units, depth] int8 -> the same bytes in the arm-dsp fully-connected layout: rows in blocks of
    four, each block's column groups of four interleaved row by row (16 bytes: 4 of row 0, 4 of row 1,
    ...), then the block's depth % 4 leftover columns column by column; leftover rows stay plain rows."""
    w = np.asarray(w, dtype=np.int8)
    units, depth = w.shape
    u4, d4 = units - units % 4, depth - depth % 4
    blocks = w[:u4].reshape(u4 // 4, 4, depth)
    main = blocks[:, :, :d4].reshape(u4 // 4, 4, d4 // 4, 4).transpose(0, 2, 1, 3).reshape(u4 // 4, 4 * d4)
    tail = blocks[:, :, d4:].transpose(0, 2, 1).reshape(u4 // 4, 4 * (depth - d4))
    out = np.concatenate([np.concatenate([main, tail], axis=1).reshape(-1), w[u4:].reshape(-1)])
    assert out.size == w.size
    return out


def folded_bias(bias: np.ndarray | None, w: np.ndarray, input_offset: int) -> np.ndarray:
    """bias[o] + input_offset * sum_d w[o][d] as int32, wrapping like the reference's int32 accumulator
    (so that sum w * x + this equals sum w * (x + input_offset) + bias modulo 2^32)."""
    w = np.asarray(w, dtype=np.int64).reshape(w.shape[0], -1)
    total = input_offset * w.sum(axis=1)
    if bias is not None:
        total = total + np.asarray(bias, dtype=np.int64).reshape(-1)
    return ((total + 2**31) % 2**32 - 2**31).astype(np.int64)


def conv_weights_arm_dsp(w: np.ndarray) -> np.ndarray:
    """OHWI int8 [O, ...] -> int32 words in the arm-dsp conv layout (td_conv.h): each filter's K values
    zero-padded to a multiple of 4, filters in pairs with their words interleaved, then the last odd
    filter; little-endian words, so the bytes are the model's plus at most 3 zeros per filter."""
    w = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    filters, k = w.shape
    kp = -(-k // 4) * 4
    padded = np.zeros((filters, kp), dtype=np.int8)
    padded[:, :k] = w
    words = padded.view("<i4")  # [filters, kp // 4]
    even = filters - filters % 2
    pairs = words[:even].reshape(even // 2, 2, kp // 4).transpose(0, 2, 1).reshape(-1)
    return np.concatenate([pairs, words[even:].reshape(-1)]).astype(np.int64)


def conv_arm_dsp_scratch_bytes(k: int, channels: int, direct: bool) -> int:
    """td_conv_s8_arm_dsp_scratch_size (and the in-place twin's, direct): two widened fields, two pixels'
    accumulators, plus an int8 field unless `direct`, plus 3 bytes to align them to a word."""
    kp = -(-k // 4) * 4
    return 4 * kp + 8 * channels + (0 if direct else kp) + 3
