"""Constants of the arm-mve DEPTHWISE_CONV_2D, pooling and ADD / MUL kernels (td_mve_dw.h,
lib/tinydeploy/mve/): the depthwise orientation, weights and table. Layouts are documented in td_mve_dw.h."""
from __future__ import annotations

import numpy as np

from ._arm import folded_bias
from .window import Window


def _vectors(lines: int, along: int) -> int:
    return lines * -(-along // 4)


def dw_mve_transposed(win: Window) -> bool:
    """Lines along the columns when that needs fewer four-pixel vectors (a 25x5 map: 25 x 2 -> 5 x 7)."""
    return _vectors(win.out_w, win.out_h) < _vectors(win.out_h, win.out_w)


def dw_weights_mve(w: np.ndarray, transposed: bool) -> np.ndarray:
    """[1, H, W, C] int8 -> channel by channel, each channel's taps line by line (C * H * W bytes)."""
    w = np.asarray(w, dtype=np.int8)[0]  # [H, W, C]
    return np.ascontiguousarray(w.transpose(2, 1, 0) if transposed else w.transpose(2, 0, 1)).reshape(-1)


def dw_table_mve(bias: np.ndarray | None, w: np.ndarray, input_offset: int, mult: np.ndarray,
                 shift: np.ndarray, transposed: bool) -> np.ndarray:
    """int32 [4 + 4 C]: header (word 0: transposed), then per channel the folded bias, multiplier, shift, 0."""
    channels = w.shape[3]
    flat = np.asarray(w, dtype=np.int64).reshape(-1, channels).T  # [C, taps]
    rows = np.zeros((channels, 4), np.int64)
    rows[:, 0] = folded_bias(bias, flat, input_offset)
    rows[:, 1] = np.broadcast_to(np.asarray(mult, dtype=np.int64), (channels,))
    rows[:, 2] = np.broadcast_to(np.asarray(shift, dtype=np.int64), (channels,))
    return np.concatenate([[int(transposed), 0, 0, 0], rows.reshape(-1)]).astype(np.int64)


def dw_mve_scratch_bytes(win: Window, transposed: bool, channels: int) -> int:
    """td_depthwise_conv_s8_mve_scratch_size: planes of Lp x Ap bytes and 3 * stride_a after each; a group of
    min(C, 8) channels at once while the last plane starts below 64 KB, else one."""
    fh, sh, dh, _ = win.along(0)
    fw, sw, dw, _ = win.along(1)
    plane = ((win.out_h - 1) * sh + (fh - 1) * dh + 1) * ((win.out_w - 1) * sw + (fw - 1) * dw + 1) + \
        3 * (sh if transposed else sw)
    planes = min(channels, 8) if channels >= 2 and 7 * plane <= 65535 else 1
    return planes * plane
