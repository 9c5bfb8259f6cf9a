"""Constants of the arm-dsp ADD / SUB / MUL kernels (td_elementwise.h, lib/tinydeploy/arm/td_arm_elementwise.c).

Each two-step requantization of the reference kernels (rounding doubling high multiply, then a rounding
right shift by e >= 1, ties away from zero) becomes one SMMLAR whose accumulator carries the second rounding,
the sign correction and the output zero point, then one arithmetic shift. The fields are returned only where
the 32-bit arithmetic provably cannot overflow for any int8 input (the bounds are evaluated over all 256
values of each input); otherwise the op keeps its reference kernel."""
from __future__ import annotations

import numpy as np

from ..ir import Tensor

I32_MIN, I32_MAX = -(2**31), 2**31 - 1
Q30 = 1 << 30
X = np.arange(-128, 128, dtype=np.int64)  # every int8 value


def smmlar(a, b, acc):
    """SMMLAR: floor((acc * 2^32 + a * b + 2^31) / 2^32) on int64 arrays (|a * b| < 2^62)."""
    return ((np.asarray(a, np.int64) * b + (1 << 31)) >> 32) + acc


def _fits(*values) -> bool:
    return all(I32_MIN <= int(np.min(v)) and int(np.max(v)) <= I32_MAX for v in values)


def add_g(x, g_offset: int, mult: int, rnd: int, shift: int):
    """The rescaled ADD operand: SMMLAR((x << 21) + g_offset, mult, rnd + [d < 0] * -1) >> shift."""
    d = np.asarray(x, np.int64) * (1 << 21) + g_offset
    return smmlar(d, mult, rnd + (d >> 31)) >> shift


def output_stage(raw2, mult: int, rnd: int, shift: int):
    """SMMLAR(raw2, mult, rnd - [raw2 < 0]) >> shift, saturated to int8 (before the activation)."""
    return np.clip(smmlar(raw2, mult, rnd + (np.asarray(raw2, np.int64) >> 31)) >> shift, -128, 127)


def _output_fields(raw2_lo: int, raw2_hi: int, mult: int, shift: int, zero_point: int):
    """(multiplier, round, shift) of the output stage, or None when e < 1 or a value could overflow."""
    e = -shift
    if not 1 <= e <= 31:
        return None
    rnd = (1 << (e - 1)) + zero_point * (1 << e)
    ends = smmlar(np.array([raw2_lo, raw2_hi]), mult, 0)
    if not _fits(rnd, ends + rnd - 1, ends + rnd):
        return None
    return [("output_multiplier", mult), ("output_round", rnd), ("output_shift", e)]


def add_arm_fields(kind: str, a: Tensor, b: Tensor, out: Tensor, mults) -> list[tuple[str, int]] | None:
    """td_add_arm_params fields but size and activation, or None when the fast path does not apply.
    `mults`: add_multipliers(a, b, out, 20). The larger-scale input has multiplier 2^30 and shift 0, so its
    term is exact: (x + offset) << 19, i.e. (x + offset) << 20 in twice the sum."""
    m1, sh1, m2, sh2, mo, sho, _ = mults
    sign2 = -1 if kind == "SUB" else 1
    swap = (m1, sh1) != (Q30, 0)  # input 1 is not the exact one: read it as the rescaled operand
    if swap and (m2, sh2) != (Q30, 0):
        return None
    (t, t_sign), (g, g_sign, g_mult, g_shift) = ((b, sign2), (a, 1, m1, sh1)) if swap else \
        ((a, 1), (b, sign2, m2, sh2))
    if (g_mult, g_shift) == (Q30, 0):
        g_mult, g_shift = 2**31 - 1, -1  # the same exact (x + offset) << 19 through the e = 1 formula
    e = -g_shift
    if not 1 <= e <= 31:
        return None
    g_offset, rnd = -g.zero_point * (1 << 21), 1 << (e - 1)
    gv = add_g(X, g_offset, g_mult, rnd, e)
    t_offset = t_sign * -t.zero_point * (1 << 20)
    tv = t_offset + t_sign * (1 << 20) * X
    raw2 = [int(tv.min() + min(2 * g_sign * gv.min(), 2 * g_sign * gv.max())),
            int(tv.max() + max(2 * g_sign * gv.min(), 2 * g_sign * gv.max()))]
    outs = _output_fields(raw2[0], raw2[1], mo, sho, out.zero_point)
    if outs is None or not _fits(gv, raw2):
        return None
    return [("swap", int(swap)), ("t_offset", t_offset), ("t_scale", t_sign * (1 << 20)), ("g_offset", g_offset),
            ("g_multiplier", g_mult), ("g_round", rnd), ("g_shift", e), ("g_scale", 2 * g_sign), *outs]


def mul_arm_fields(a: Tensor, b: Tensor, out: Tensor, mult: int, shift: int) -> list[tuple[str, int]] | None:
    """td_mul_arm_params fields but size and activation, or None when the fast path does not apply: the
    output stage works on twice the product 2 (x1 - zp1) (x2 - zp2)."""
    p1, p2 = X - a.zero_point, X - b.zero_point
    ends = [2 * v for v in (p1.min() * p2.max(), p1.max() * p2.min(), p1.min() * p2.min(), p1.max() * p2.max())]
    outs = _output_fields(int(min(ends)), int(max(ends)), mult, shift, out.zero_point)
    if outs is None:
        return None
    return [("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point), *outs]
