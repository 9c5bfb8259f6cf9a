"""TANH: int8 through a 256-entry table built with glibc's tanhf, int16 through TFLite's sigmoid
table kernel (tanh(x) = 2 * sigmoid(2x) - 1). See logistic.py for the shared helpers.

Unlike LOGISTIC, LiteRT puts no constraint on the int8 output quantization (the table absorbs
it); int16 needs zero points 0 and an output scale of 1/32768 (within CheckedLog2's tolerance),
and power-of-two input scales 2^-12 and 2^-11 take the multiplier-0 shortcut.
"""
from __future__ import annotations

from . import register
from .logistic import TableActivation, tanhf


@register("TANH")
class Tanh(TableActivation):
    transform = staticmethod(tanhf)
    s16_function = "td_tanh_s16"
    pot_shifts = (0, 1)
    exact_output_scale: dict[str, int] = {}  # int16: 1/32768 within CheckedLog2's tolerance
