"""SOFTMAX (int8 -> int8, int8 -> int16, int16 -> int16) and LOG_SOFTMAX (int8), along the last axis.

int8 input: gemmlowp fixed point as LiteRT's reference kernels. Prepare's values are computed
here: PreprocessSoftmaxScaling (beta * input_scale * 2^26 in double, capped at 2^30 - 1 as in the
single-rounding build, must exceed 1), diff_min = -CalculateInputRadius(5, left_shift), and for
LOG_SOFTMAX the reverse scaling multiplier. The kernels scale input differences with the
two-step (gemmlowp) rounding. A missing SoftmaxOptions table means beta = 0, which LiteRT rejects.

int8 -> int8 softmax: LiteRT aborts (exponent check) on a row whose exponentials sum to 512 or
more, which needs a row longer than 511; our kernel clamps instead, so such rows have no
reference. int8 -> int16: LiteRT ignores the output quantization (the result is always scale
1/65536, zero point -32768).

int16: two 513-entry tables (exp on [-10, 0], 1/(1+x) on [0, 1]) that Prepare fills in double
(LUTPopulate<int16_t>); they do not depend on the model, are computed once here and emitted per
op. The input multiplier is (input_scale * beta in float32) / (10 / 65535) in double.
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..ir import Graph, Op, Tensor
from ..quant import quantize_multiplier
from . import OpLowering, register
from ._common import tensors

SCALED_DIFF_INTEGER_BITS = 5


def _beta(op: Op) -> float:
    """SoftmaxOptions.beta as the float32 value LiteRT reads (0 when the options are missing)."""
    beta = getattr(op.options, "beta", None) if op.options is not None else None
    return float(np.float32(beta)) if beta is not None else 0.0


def softmax_scaling(beta: float, in_scale: float) -> tuple[int, int, int] | None:
    """(input_multiplier, input_left_shift, diff_min) of an int8-input softmax, or None when
    LiteRT's QuantizeMultiplierGreaterThanOne would refuse (beta * scale * 2^26 <= 1)."""
    real = beta * float(np.float32(in_scale)) * float(1 << (31 - SCALED_DIFF_INTEGER_BITS))
    real = min(real, float((1 << 30) - 1))
    if not real > 1.0:
        return None
    mult, shift = quantize_multiplier(real)
    return mult, shift, -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, shift)


def calculate_input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    max_rescaled = 1.0 * ((1 << integer_bits) - 1) * float(1 << (total_signed_bits - integer_bits)) \
        / float(1 << left_shift)
    return int(math.floor(max_rescaled))


def log_softmax_scaling(in_scale: float) -> tuple[int, int, int, int, int] | None:
    """(input_multiplier, input_shift, diff_min, reverse_multiplier, reverse_shift) as
    LiteRT's PreprocessLogSoftmaxScalingExp with beta 1, or None when it cannot be computed."""
    s = softmax_scaling(1.0, in_scale)
    if s is None or s[1] < 1:  # left shift 0 makes Prepare's int (1 << 31) overflow
        return None
    mult, shift, diff_min = s
    rev_mult, rev_shift = quantize_multiplier(float(1 << (31 - shift)) / float(mult))
    return mult, shift, diff_min, rev_mult, rev_shift


def _round_exact(x: float) -> float:
    """std::round of a double (halves away from zero), without floor(x + 0.5)'s own rounding."""
    f = Fraction(x)
    r = math.floor(abs(f) + Fraction(1, 2))
    return float(r if f >= 0 else -r)


def _lut_int16(fn, input_scale: float, input_zp: int, output_scale: float, output_zp: int) -> np.ndarray:
    """LiteRT's LUTPopulateInt16<double>: 512 interpolation steps + 1 end point, bias-corrected."""
    rnd = _round_exact
    input_min = input_scale * float(-32768 - input_zp)
    input_max = input_scale * float(32767 - input_zp)
    output_min = output_scale * float(-32768 - output_zp)
    output_max = output_scale * float(32767 - output_zp)
    steps = 512
    step = (input_max - input_min) / steps
    half_step = step / 2
    inv = 65536.0 / (output_max - output_min)
    lut = np.zeros(steps + 1, dtype=np.int16)
    for i in range(steps):
        val = fn(input_min + i * step)
        val_mid = fn(input_min + i * step + half_step)
        val_next = fn(input_min + (i + 1) * step)
        sample = rnd(val * inv)
        interp = rnd((val_next * inv + rnd(val * inv)) / 2)
        mid = rnd(val_mid * inv)
        bias = rnd((interp - mid) / 2)
        lut[i] = int(min(max(sample - bias, -32768.0), 32767.0))
    lut[steps] = int(min(max(rnd(fn(input_max) * inv), -32768.0), 32767.0))
    return lut


@lru_cache(maxsize=1)
def softmax_s16_luts() -> tuple[np.ndarray, np.ndarray]:
    """(exp_lut, one_over_one_plus_x_lut) exactly as LiteRT's int16 SoftmaxPrepare fills them."""
    rng = 32767 - (-32768)
    exp_lut = _lut_int16(math.exp, 10.0 / rng, 32767, 2.0 / rng, 0)
    recip_lut = _lut_int16(lambda v: 1.0 / (1.0 + v), 1.0 / rng, -32768, 2.0 / rng, 0)
    return exp_lut, recip_lut


def softmax_s16_scaling(beta: float, in_scale: float) -> tuple[int, int]:
    real = float(np.float32(np.float32(in_scale) * np.float32(beta))) / (10.0 / 65535.0)
    return quantize_multiplier(real)


def _near_one_over(a: float, denominator: int) -> bool:
    """TF_LITE_ENSURE_NEAR(a, 1.f / d, 0.001f * 1.f / d) in float32 arithmetic."""
    f = np.float32
    a32, b32 = f(a), f(1.0) / f(denominator)
    eps = f(0.001) * f(1.0) / f(denominator)
    delta = a32 - b32 if a32 > b32 else b32 - a32
    return not delta > eps


def _io(op: Op, g: Graph) -> tuple[Tensor | None, Tensor | None, str | None]:
    ins, outs = tensors(g, op)
    if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
        return None, None, "needs exactly one input and one output"
    inp, out = ins[0], outs[0]
    if inp.quant is None or out.quant is None:
        return inp, out, "input and output must be quantized (float softmax is not supported)"
    if inp.quant.per_channel or out.quant.per_channel:
        return inp, out, "per-channel quantization is not supported"
    if len(inp.shape) < 1:
        return inp, out, "input must have at least one dimension"
    if inp.size != out.size or inp.shape[-1] != out.shape[-1]:
        return inp, out, "input and output shapes differ"
    if inp.size == 0:
        return inp, out, "empty tensor"
    return inp, out, None


class SoftmaxLike(OpLowering):
    """What SOFTMAX and LOG_SOFTMAX share: the kernel header, the cost, one td_softmax_params."""

    header = "td_softmax.h"

    def macs(self, op: Op, g: Graph) -> int:
        return 2 * g.tensors[op.inputs[0]].size

    def _call(self, op: Op, g: Graph, e, function: str, mult: int, shift: int, diff_min: int,
              reverse: tuple[int, int] = (0, 0), luts: tuple[str, str] = ("NULL", "NULL")) -> None:
        inp = g.tensors[op.inputs[0]]
        depth = inp.shape[-1]
        p = e.params("td_softmax_params", [
            ("outer_size", inp.size // depth), ("depth", depth), ("input_multiplier", mult),
            ("input_shift", shift), ("diff_min", diff_min), ("reverse_multiplier", reverse[0]),
            ("reverse_shift", reverse[1]), ("exp_lut", luts[0]), ("recip_lut", luts[1]),
        ])
        e.call(function, p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))


@register("SOFTMAX")
class Softmax(SoftmaxLike):

    def check(self, op: Op, g: Graph) -> str | None:
        inp, out, why = _io(op, g)
        if why:
            return why
        beta = _beta(op)
        if inp.dtype == "int8":
            if out.dtype == "int8":
                if out.zero_point != -128 or not _near_one_over(out.scale, 256):
                    return (f"int8 output needs scale 1/256 and zero point -128 "
                            f"(got {out.scale:g}, {out.zero_point})")
            elif out.dtype != "int16":
                return f"int8 input needs an int8 or int16 output (got {out.dtype})"
            if softmax_scaling(beta, inp.scale) is None:
                return (f"beta * input scale = {beta * inp.scale:g} is too small "
                        f"(LiteRT needs more than 2^-26; a missing options table means beta 0)")
            return None
        if inp.dtype == "int16":
            if out.dtype != "int16":
                return f"int16 input needs an int16 output (got {out.dtype})"
            if inp.zero_point != 0 or out.zero_point != 0:
                return "int16 input and output need zero point 0"
            if not _near_one_over(out.scale, 32768):
                return f"int16 output needs scale 1/32768 (got {out.scale:g})"
            if len(inp.shape) > 4:
                return "int16 softmax supports 1 to 4 dimensions (as LiteRT)"
            return None
        return f"type combination {inp.dtype}->{out.dtype} is not supported"

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        beta = _beta(op)
        if inp.dtype == "int8":
            mult, shift, diff_min = softmax_scaling(beta, inp.scale)  # type: ignore[misc]
            self._call(op, g, e, "td_softmax_s8" if out.dtype == "int8" else "td_softmax_s8_s16", mult, shift,
                       diff_min)
        else:
            mult, shift = softmax_s16_scaling(beta, inp.scale)
            lut_e, lut_r = softmax_s16_luts()
            luts = (e.const_array(lut_e, "int16_t", "exp_lut", flash=True),
                    e.const_array(lut_r, "int16_t", "recip_lut", flash=True))
            self._call(op, g, e, "td_softmax_s16", mult, shift, 0, luts=luts)


@register("LOG_SOFTMAX")
class LogSoftmax(SoftmaxLike):
    def check(self, op: Op, g: Graph) -> str | None:
        inp, out, why = _io(op, g)
        if why:
            return why
        if inp.dtype != "int8" or out.dtype != "int8":
            return f"type combination {inp.dtype}->{out.dtype} is not supported (int8 only)"
        if out.scale != 16.0 / 256 or out.zero_point != 127:
            return f"int8 output needs scale 16/256 and zero point 127 (got {out.scale:g}, {out.zero_point})"
        if log_softmax_scaling(inp.scale) is None:
            return f"input scale {inp.scale:g} is too small (needs more than 2^-25)"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        scaling = log_softmax_scaling(g.tensors[op.inputs[0]].scale)
        mult, shift, diff_min, rev_mult, rev_shift = scaling  # type: ignore[misc]
        self._call(op, g, e, "td_log_softmax_s8", mult, shift, diff_min, (rev_mult, rev_shift))
