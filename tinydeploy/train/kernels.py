"""The backward kernels in numpy: exactly the integer math of lib/tinydeploy/td_train.c (int64 sums are
exact, so numpy's order does not matter), and the float32 element-wise SGD step in C's operation order.

A gradient is (m, e): int16 mantissas with one exponent, the float gradient being m * 2**e.
"""
from __future__ import annotations

import numpy as np

from .numerics import GBITS, POOL_BITS, Geometry, normalize, pool_q, round_shift

I64 = np.int64


def ce_grad(logits: np.ndarray, label: int, table: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Softmax cross-entropy on int8 logits: (m, e, loss); p from the Q30 exp table, in Q14."""
    z = np.asarray(logits, dtype=I64).ravel()
    e = table[z.max() - z].astype(I64)
    total = int(e.sum())
    p = (2 * (e << GBITS) + total) // (2 * total)
    p[label] -= 1 << GBITS
    loss = float(np.log(np.float64(total) / np.float64(max(int(e[label]), 1))))
    return p.astype(np.int16), -GBITS, loss


def mask(m: np.ndarray, y: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Zero the gradient where the saved int8 output sits on its clamp (fused RELU/RELU6, saturation)."""
    y = np.asarray(y).reshape(m.shape)
    return np.where((y > lo) & (y < hi), m, 0).astype(np.int16)


def accumulate(a: tuple[np.ndarray, int] | None, b: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """Sum of two gradients of one tensor: both rounded to the larger exponent, then normalized."""
    if a is None:
        return b[0].copy(), b[1]
    top = max(a[1], b[1])
    acc = round_shift(a[0], min(top - a[1], 31)) + round_shift(b[0], min(top - b[1], 31))
    return normalize(acc, top)


def fc_dx(m: np.ndarray, e: int, w: np.ndarray, r: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """dx[i] = sum_o W[o, i] * s_w[o] * dy[o], s_w[o] = R[o] * 2**-k."""
    acc = w.astype(I64).T @ (m.astype(I64).ravel() * r)
    return normalize(acc, e - k)


def fc_dw(m: np.ndarray, x: np.ndarray, zp: int) -> np.ndarray:
    """Exact weight-gradient accumulators [O, K]: dy[o] * (x[k] - zp) (times 2**e * s_x)."""
    return np.outer(m.astype(I64).ravel(), np.asarray(x, dtype=I64).ravel() - zp)


def _padded(x: np.ndarray, gm: Geometry, zp: int) -> np.ndarray:
    """x - zp on a zero border large enough for every tap of the window."""
    hp = max(gm.ih + gm.ph, (gm.oh - 1) * gm.sh + (gm.kh - 1) * gm.dh + 1)
    wp = max(gm.iw + gm.pw, (gm.ow - 1) * gm.sw + (gm.kw - 1) * gm.dw + 1)
    out = np.zeros((hp, wp, gm.ic), dtype=I64)
    out[gm.ph:gm.ph + gm.ih, gm.pw:gm.pw + gm.iw] = np.asarray(x, dtype=I64).reshape(gm.ih, gm.iw, gm.ic) - zp
    return out


def _tap(a: np.ndarray, gm: Geometry, kh: int, kw: int):
    """The slice of a padded input that filter tap (kh, kw) meets over all output positions."""
    r0, c0 = kh * gm.dh, kw * gm.dw
    return a[r0:r0 + (gm.oh - 1) * gm.sh + 1:gm.sh, c0:c0 + (gm.ow - 1) * gm.sw + 1:gm.sw]


def conv_dw(m: np.ndarray, x: np.ndarray, zp: int, gm: Geometry) -> np.ndarray:
    """Exact CONV_2D weight-gradient accumulators [OC, KH, KW, IC]."""
    xp, g = _padded(x, gm, zp), m.astype(I64).reshape(gm.oh, gm.ow, gm.oc)
    out = np.zeros((gm.oc, gm.kh, gm.kw, gm.ic), dtype=I64)
    for kh in range(gm.kh):
        for kw in range(gm.kw):
            out[:, kh, kw, :] = np.einsum("yxo,yxi->oi", g, _tap(xp, gm, kh, kw))
    return out


def conv_dx(m: np.ndarray, e: int, w: np.ndarray, r: np.ndarray, k: int, gm: Geometry) -> tuple[np.ndarray, int]:
    """CONV_2D input gradient (the transposed convolution of s_w * dy)."""
    g = m.astype(I64).reshape(gm.oh, gm.ow, gm.oc) * r
    dxp = np.zeros(_padded(np.zeros(gm.ih * gm.iw * gm.ic), gm, 0).shape, dtype=I64)
    for kh in range(gm.kh):
        for kw in range(gm.kw):
            _tap(dxp, gm, kh, kw)[...] += np.einsum("yxo,oi->yxi", g, w[:, kh, kw, :].astype(I64))
    return normalize(dxp[gm.ph:gm.ph + gm.ih, gm.pw:gm.pw + gm.iw], e - k)


def dw_dw(m: np.ndarray, x: np.ndarray, zp: int, gm: Geometry) -> np.ndarray:
    """Exact DEPTHWISE_CONV_2D weight-gradient accumulators [1, KH, KW, OC]."""
    xp, g = _padded(x, gm, zp), m.astype(I64).reshape(gm.oh, gm.ow, gm.oc)
    out = np.zeros((1, gm.kh, gm.kw, gm.oc), dtype=I64)
    for kh in range(gm.kh):
        for kw in range(gm.kw):
            out[0, kh, kw] = np.einsum("yxo,yxo->o", g, np.repeat(_tap(xp, gm, kh, kw), gm.mult, axis=2))
    return out


def dw_dx(m: np.ndarray, e: int, w: np.ndarray, r: np.ndarray, k: int, gm: Geometry) -> tuple[np.ndarray, int]:
    """DEPTHWISE_CONV_2D input gradient."""
    g = m.astype(I64).reshape(gm.oh, gm.ow, gm.oc) * r
    dxp = np.zeros(_padded(np.zeros(gm.ih * gm.iw * gm.ic), gm, 0).shape, dtype=I64)
    for kh in range(gm.kh):
        for kw in range(gm.kw):
            t = g * w[0, kh, kw].astype(I64)
            _tap(dxp, gm, kh, kw)[...] += t.reshape(gm.oh, gm.ow, gm.ic, gm.mult).sum(axis=3)
    return normalize(dxp[gm.ph:gm.ph + gm.ih, gm.pw:gm.pw + gm.iw], e - k)


def _valid(gm: Geometry) -> np.ndarray:
    """[OH, OW, KH, KW]: whether each tap of each output window lies inside the input."""
    oy, kh = np.arange(gm.oh)[:, None], np.arange(gm.kh)[None, :]
    ox, kw = np.arange(gm.ow)[:, None], np.arange(gm.kw)[None, :]
    iy, ix = oy * gm.sh + kh * gm.dh - gm.ph, ox * gm.sw + kw * gm.dw - gm.pw
    vy, vx = (iy >= 0) & (iy < gm.ih), (ix >= 0) & (ix < gm.iw)
    return vy[:, None, :, None] & vx[None, :, None, :]


def avg_pool_dx(m: np.ndarray, e: int, gm: Geometry) -> tuple[np.ndarray, int]:
    """AVERAGE_POOL_2D / MEAN input gradient: dy / (valid taps of the window), as dy * round(2**24 / n)."""
    valid = _valid(gm)
    q = np.vectorize(pool_q)(valid.sum(axis=(2, 3)))
    g = m.astype(I64).reshape(gm.oh, gm.ow, gm.oc) * q[:, :, None]
    dxp = np.zeros(_padded(np.zeros(gm.ih * gm.iw * gm.ic), gm, 0).shape, dtype=I64)
    for kh in range(gm.kh):
        for kw in range(gm.kw):
            _tap(dxp, gm, kh, kw)[...] += g * valid[:, :, kh, kw, None]
    return normalize(dxp[gm.ph:gm.ph + gm.ih, gm.pw:gm.pw + gm.iw], e - POOL_BITS)


def max_pool_dx(m: np.ndarray, e: int, x: np.ndarray, gm: Geometry) -> tuple[np.ndarray, int]:
    """MAX_POOL_2D input gradient: each window's gradient to its first largest valid input."""
    x = np.asarray(x, dtype=I64).reshape(gm.ih, gm.iw, gm.ic)
    g = m.astype(I64).reshape(gm.oh, gm.ow, gm.oc)
    dx = np.zeros((gm.ih, gm.iw, gm.ic), dtype=I64)
    for oy in range(gm.oh):
        for ox in range(gm.ow):
            y0, x0 = oy * gm.sh - gm.ph, ox * gm.sw - gm.pw
            ys = [y for y in range(y0, y0 + gm.kh) if 0 <= y < gm.ih]
            xs = [c for c in range(x0, x0 + gm.kw) if 0 <= c < gm.iw]
            win = x[ys][:, xs].reshape(-1, gm.ic)
            best = win.argmax(axis=0)  # first maximum in row-major tap order
            for c in range(gm.ic):
                dx[ys[best[c] // len(xs)], xs[best[c] % len(xs)], c] += g[oy, ox, c]
    return normalize(dx, e)


def scale2(x: np.ndarray, e: int) -> np.ndarray:
    """x * 2**e in float32 by td_train.c's exact power-of-two factors (2**+-60 steps, then one)."""
    x = np.asarray(x, dtype=np.float32)
    while e > 60:
        x, e = x * np.float32(2.0 ** 60), e - 60
    while e < -60:
        x, e = x * np.float32(2.0 ** -60), e + 60
    return x * np.float32(2.0 ** e)


def sgd(acc: np.ndarray, e: int, factor: np.ndarray, master: np.ndarray, velocity: np.ndarray | None,
        lr: float, momentum: float, lo: int, hi: int) -> np.ndarray:
    """The float32 step of td_train_sgd, element-wise in C's order; updates master/velocity in place and
    returns the re-quantized parameter (floor(master + 0.5) clamped to [lo, hi])."""
    f32 = np.float32
    t = scale2(acc.astype(f32).ravel(), e) * factor
    if velocity is not None:
        velocity[...] = velocity * f32(momentum) + t
        t = velocity.copy()
    master[...] = master - t * f32(lr)
    q = master + f32(0.5)
    return np.clip(np.floor(q), lo, hi).astype(np.int64)
