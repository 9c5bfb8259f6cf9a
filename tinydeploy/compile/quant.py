"""Conversion-time quantization arithmetic, computed exactly as TFLite's Prepare() does."""
from __future__ import annotations

import math

import numpy as np

INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767), "uint8": (0, 255), "int32": (-(2**31), 2**31 - 1)}


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split a real multiplier into a Q31 integer and a power-of-two shift (TFLite QuantizeMultiplier)."""
    if real == 0.0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = int(round_half_away(mantissa * (1 << 31)))
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:
        shift, q = 0, 0
    if shift > 30:  # TFLite clamps in QuantizeMultiplier for huge multipliers
        shift, q = 30, (1 << 31) - 1
    return q, shift


def round_half_away(x: float) -> float:
    """std::round: halves away from zero (Python's round() rounds halves to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def per_channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                            channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift) arrays as TFLite's PopulateConvolutionQuantizationParams."""
    fs = np.broadcast_to(np.asarray(filter_scales, dtype=np.float32), (channels,))
    mult = np.zeros(channels, dtype=np.int32)
    shift = np.zeros(channels, dtype=np.int32)
    for c in range(channels):
        # TFLite: double(input_scale) * double(filter_scale) / double(output_scale)
        scale = float(np.float32(input_scale)) * float(fs[c]) / float(np.float32(output_scale))
        mult[c], shift[c] = quantize_multiplier(scale)
    return mult, shift


def activation_range(activation: int, scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """Clamp bounds for a fused activation (TFLite CalculateActivationRangeQuantized)."""
    qmin, qmax = INT_RANGES[dtype]

    def quantize(x: float) -> int:
        return zero_point + int(round_half_away(float(np.float32(x) / np.float32(scale))))

    if activation == 1:  # RELU
        return max(qmin, quantize(0.0)), qmax
    if activation == 3:  # RELU6
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if activation == 2:  # RELU_N1_TO_1
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    return qmin, qmax
