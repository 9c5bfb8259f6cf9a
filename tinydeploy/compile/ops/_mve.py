"""Constants and scratch sizes of the arm-mve conv and fully-connected kernels (PlanOptions.kernels =
"arm-mve", lib/tinydeploy/mve/td_mve_conv*.c, td_mve_fc.c): the weights and biases (with the input offset
folded in: ops/_arm.py folded_bias) in the mve conv layout (td_mve_conv.h), and the kernels' scratch sizes,
as their *_scratch_size() functions compute them."""
from __future__ import annotations

import numpy as np


def mve_weights(w: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """[rows, ...] int8 weights and [rows] int32 biases -> the int8 stream of the mve conv layout
    (td_mve_conv.h): per pair of rows their two biases (little-endian), then their rows chunk-interleaved
    (16 of row 2i, 16 of row 2i + 1, ...) with K padded with zeros to a multiple of 16; then a last odd
    row's bias and padded row. rows * (Kp + 4) bytes."""
    w = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1)
    rows, k = w.shape
    kp = -(-k // 16) * 16
    padded = np.zeros((rows, kp), dtype=np.int8)
    padded[:, :k] = w
    heads = np.asarray(bias, dtype="<i4").reshape(rows, 1).view(np.int8)  # [rows, 4]
    even = rows - rows % 2
    chunks = padded[:even].reshape(even // 2, 2, kp // 16, 16).transpose(0, 2, 1, 3).reshape(even // 2, 2 * kp)
    pairs = np.concatenate([heads[:even].reshape(even // 2, 8), chunks], axis=1).reshape(-1)
    return np.concatenate([pairs, heads[even:].reshape(-1), padded[even:].reshape(-1)])


def _acc_bytes(channels: int) -> int:
    """Three pixels' int32 accumulators, channels rounded up to whole vectors of four."""
    return 12 * (-(-channels // 4) * 4)


def conv_mve_scratch_bytes(k: int, channels: int, direct: bool) -> int:
    """td_conv_s8_mve_scratch_size: the accumulators, three fields of k bytes unless `direct` (1x1
    unpadded), 15 bytes to align them to 16."""
    return _acc_bytes(channels) + (0 if direct else 3 * k) + 15


def conv_1x1_mve_inplace_scratch_bytes(cin: int, channels: int) -> int:
    """td_conv_1x1_s8_mve_inplace_scratch_size: the accumulators and three copied pixels."""
    return _acc_bytes(channels) + 3 * cin + 15
