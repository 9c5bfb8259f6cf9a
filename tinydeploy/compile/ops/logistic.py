"""LOGISTIC (sigmoid): int8 through a 256-entry table, int16 through TFLite's sigmoid table kernel.

int8: LiteRT's Prepare fills a 256-entry table in float32 (LUTPopulate) with the C library's
expf; numpy's float32 exp is not bit-identical with glibc's, so the table is built here by calling
libm's expf / tanhf through ctypes and replicating the float32 arithmetic step by step. The table
is emitted as a const array and the kernel is a plain lookup (td_lut_s8).

int16: the reference kernel rescales the input to 1/(3*4096) units (a power-of-two input scale
takes the x * 3 shortcut, multiplier 0) and interpolates a fixed sigmoid table
(td_logistic_s16 / td_tanh_s16). The shared helpers here are also used by TANH (tanh.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math
from functools import lru_cache
from typing import Callable

import numpy as np

from ..ir import Graph, Op, Tensor
from . import OpLowering, register
from ._common import tensors

F32 = np.float32


@lru_cache(maxsize=1)
def _libm() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    for name in ("expf", "tanhf", "logf"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_float
        fn.argtypes = [ctypes.c_float]
    return lib


def expf(x: np.float32) -> np.float32:
    return F32(_libm().expf(float(x)))


def tanhf(x: np.float32) -> np.float32:
    return F32(_libm().tanhf(float(x)))


def logf(x: np.float32) -> np.float32:
    return F32(_libm().logf(float(x)))


def roundf(x: np.float32) -> np.float32:
    """std::round on a float (halves away from zero); exact since |x| + 0.5 fits a double."""
    v = float(x)
    if not math.isfinite(v):
        return F32(v)
    r = math.floor(abs(v) + 0.5)
    return F32(math.copysign(r, v))


def sigmoid_f32(v: np.float32) -> np.float32:
    """LiteRT's transform 1.0f / (1.0f + std::exp(-value)) in float32."""
    return F32(F32(1.0) / F32(F32(1.0) + expf(F32(-v))))


def _float_to_int32(v: np.float32) -> int:
    """static_cast<int32_t>(float) as x86 does it (truncation; out of range gives INT32_MIN)."""
    f = float(v)
    if not math.isfinite(f) or f >= 2.0**31 or f < -(2.0**31):
        return -(2**31)
    return int(f)


def lut_s8(in_scale: float, in_zp: int, out_scale: float, out_zp: int,
           transform: Callable[[np.float32], np.float32]) -> np.ndarray:
    """256-entry int8 table exactly as LiteRT's LUTPopulateInt8, indexed by (uint8_t)input."""
    inverse_scale = F32(F32(1.0) / F32(out_scale))
    lut = np.zeros(256, dtype=np.int8)
    for val in range(-128, 128):
        dequantized = F32(F32(in_scale) * F32(val - in_zp))
        transformed = transform(dequantized)
        rescaled = roundf(F32(transformed * inverse_scale))
        quantized = _float_to_int32(F32(rescaled + F32(out_zp)))
        lut[val & 0xFF] = max(-128, min(127, quantized))
    return lut


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite CheckedLog2 (float32 arithmetic): (is a power of two within 1e-3, rounded log2)."""
    x_log2 = F32(logf(F32(x)) * F32(F32(1.0) / logf(F32(2.0))))
    rounded = roundf(x_log2)
    frac = F32(x_log2 - rounded)
    return abs(float(frac)) < 1e-3, int(rounded)


def sigmoid_s16_params(in_scale: float, pot_shifts: tuple[int, ...]) -> tuple[int, int]:
    """(input_multiplier, input_left_shift) as LiteRT's Sigmoid/TanhPrepare for int16.

    pot_shifts: the left shifts for which a power-of-two scale takes the multiplier-0 path
    ((0,) for LOGISTIC, (0, 1) for TANH).
    """
    pot, log2 = checked_log2(in_scale)
    left_shift = (15 - 3) + log2
    if pot and left_shift in pot_shifts:
        return 0, left_shift
    multiplier = float(F32(in_scale)) * 4096.0 * 3.0
    left_shift = 0
    while multiplier <= 32767.0 / 2.0 and left_shift <= 30:
        left_shift += 1
        multiplier = multiplier * 2.0
    return int(multiplier), left_shift


def check_s16_activation(inp: Tensor, out: Tensor, pot_shifts: tuple[int, ...]) -> str | None:
    """Reasons LiteRT (or int32 overflow in its kernel) rules out an int16 LOGISTIC / TANH."""
    if inp.zero_point != 0 or out.zero_point != 0:
        return "int16 input and output need zero point 0"
    pot, log2 = checked_log2(out.scale)
    if not pot or log2 != -15:
        return f"int16 output scale must be 1/32768 (got {out.scale:g})"
    if not inp.scale > 0:
        return "input scale must be positive"
    mult, shift = sigmoid_s16_params(inp.scale, pot_shifts)
    if mult > 65535:
        return f"int16 input scale {inp.scale:g} is too large (the input rescale overflows int32; max ~5.3)"
    if mult and shift > 30:
        return f"int16 input scale {inp.scale:g} is too small"
    return None


def lut_check(op: Op, g: Graph) -> tuple[Tensor, Tensor, str | None]:
    ins, outs = tensors(g, op)
    if len(ins) != 1 or len(outs) != 1 or ins[0] is None:
        return None, None, "needs exactly one input and one output"  # type: ignore[return-value]
    inp, out = ins[0], outs[0]
    if inp.dtype not in ("int8", "int16") or out.dtype != inp.dtype:
        return inp, out, f"type combination {inp.dtype}->{out.dtype} is not supported (int8 or int16)"
    if inp.quant is None or out.quant is None:
        return inp, out, "input and output must be quantized"
    if inp.quant.per_channel or out.quant.per_channel:
        return inp, out, "per-channel quantization is not supported"
    if inp.shape != out.shape:
        return inp, out, "input and output shapes differ"
    return inp, out, None


class TableActivation(OpLowering):
    """LOGISTIC here and TANH (tanh.py): the int8 table of `transform`, the int16 kernel
    `s16_function` whose power-of-two input scales take the multiplier-0 path for `pot_shifts`."""

    header = "td_logistic_tanh.h"
    inplace = True
    transform: Callable[[np.float32], np.float32] = staticmethod(sigmoid_f32)
    s16_function = "td_logistic_s16"
    pot_shifts: tuple[int, ...] = (0,)
    #: output scales LiteRT requires exactly, per type (TANH: none)
    exact_output_scale = {"int8": 256, "int16": 32768}

    def check(self, op: Op, g: Graph) -> str | None:
        inp, out, why = lut_check(op, g)
        if why:
            return why
        inverse = self.exact_output_scale.get(inp.dtype)
        if inverse is not None and out.scale != 1.0 / inverse:
            return f"{inp.dtype} output scale must be exactly 1/{inverse} (got {out.scale:g})"
        if inp.dtype == "int16":
            return check_s16_activation(inp, out, self.pot_shifts)
        return None if out.scale > 0 else "output scale must be positive"

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.outputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        if inp.dtype == "int8":
            lut = lut_s8(inp.scale, inp.zero_point, out.scale, out.zero_point, self.transform)
            p = e.params("td_lut_s8_params", [("size", out.size),
                                              ("lut", e.const_array(lut, "int8_t", "lut", flash=True))])
            e.call("td_lut_s8", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
        else:
            mult, shift = sigmoid_s16_params(inp.scale, self.pot_shifts)
            p = e.params("td_sigmoid_s16_params", [("size", out.size), ("input_multiplier", mult),
                                                   ("input_left_shift", shift)])
            e.call(self.s16_function, p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))


@register("LOGISTIC")
class Logistic(TableActivation):
    pass
