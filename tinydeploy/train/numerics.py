"""The constants of the training math, shared by the numpy reference and the C generator (see the
package docstring for the scheme). Every float constant is a float32 computed once here."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile import Graph, out_size

GBITS = 14  #: gradient mantissas (int16) are normalized to |m| <= 2**GBITS
GRAD_BYTES = 2  #: bytes per gradient element (td_grad_t)
RBITS = 24  #: per-channel weight scales as integers below 2**RBITS
EXP_BITS = 30  #: the softmax exp table in Q30
POOL_BITS = 24  #: 1/count of an average window as round(2**24 / count)
_ACT = {0: None, 1: (0.0, None), 3: (0.0, 6.0), 2: (-1.0, 1.0)}


def bitlen(x: int) -> int:
    return int(x).bit_length()


def round_shift(acc: np.ndarray, r: int) -> np.ndarray:
    """floor((acc + 2**(r-1)) / 2**r): round half up, on int64."""
    acc = np.asarray(acc, dtype=np.int64)
    return acc if r <= 0 else (acc + (np.int64(1) << np.int64(r - 1))) >> np.int64(r)


def normalize(acc: np.ndarray, e: int) -> tuple[np.ndarray, int]:
    """Exact int64 accumulators with exponent e -> int16 mantissas |m| <= 2**GBITS and their exponent."""
    acc = np.asarray(acc, dtype=np.int64)
    peak = int(np.abs(acc).max()) if acc.size else 0
    r = max(0, bitlen(peak) - GBITS)
    return round_shift(acc, r).astype(np.int16), e + r


def act_range(g: Graph, op) -> tuple[int, int]:
    """The int8 clamp of op's fused activation on its output (TFLite CalculateActivationRangeQuantized)."""
    out = g.tensors[op.outputs[0]]
    act = _ACT.get(int(getattr(op.options, "fusedActivationFunction", 0) or 0))
    lo, hi = -128, 127
    if act is not None:
        def q(x: float) -> int:
            v = float(np.float32(x) / np.float32(out.scale))
            return out.zero_point + int(np.sign(v) * np.floor(abs(v) + 0.5))  # round half away from zero
        lo = max(lo, q(act[0]))
        hi = hi if act[1] is None else min(hi, q(act[1]))
    return lo, hi


@dataclass(frozen=True)
class Geometry:
    """A sliding window over NHWC (batch 1): input and output sizes, filter, stride, dilation, top/left pad."""

    ih: int
    iw: int
    ic: int
    oh: int
    ow: int
    oc: int
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    dh: int = 1
    dw: int = 1
    ph: int = 0
    pw: int = 0
    mult: int = 1  # depthwise channel multiplier


def _pad(size: int, taps: int, stride: int, out: int, dil: int) -> int:
    return max((out - 1) * stride + (taps - 1) * dil + 1 - size, 0) // 2


def geometry(g: Graph, op) -> Geometry:
    """The window of a conv/depthwise/pool/mean op."""
    _, ih, iw, ic = g.tensors[op.inputs[0]].shape
    o = op.options
    if op.kind == "MEAN":
        oc = ic
        return Geometry(ih, iw, ic, 1, 1, oc, ih, iw)
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        kh, kw = g.tensors[op.inputs[1]].shape[1:3]
    else:
        kh, kw = o.filterHeight, o.filterWidth
    dh = int(getattr(o, "dilationHFactor", 1) or 1)
    dw = int(getattr(o, "dilationWFactor", 1) or 1)
    oh = out_size(o.padding, ih, kh, o.strideH, dh)
    ow = out_size(o.padding, iw, kw, o.strideW, dw)
    oc = g.tensors[op.outputs[0]].shape[3]
    mult = int(getattr(o, "depthMultiplier", 1) or 1) if op.kind == "DEPTHWISE_CONV_2D" else 1
    if op.kind == "DEPTHWISE_CONV_2D":
        mult = oc // ic
    return Geometry(ih, iw, ic, oh, ow, oc, kh, kw, o.strideH, o.strideW, dh, dw,
                    _pad(ih, kh, o.strideH, oh, dh), _pad(iw, kw, o.strideW, ow, dw), mult)


def exp_table(scale: float, beta: float = 1.0) -> np.ndarray:
    """exp(beta * scale * d) in Q30 for d = 0, -1, ..., -255 (logit minus the largest logit)."""
    d = -np.arange(256, dtype=np.float64)
    return np.round(np.exp(float(beta) * float(scale) * d) * (1 << EXP_BITS)).astype(np.int64)


def weight_scales(scales: np.ndarray) -> tuple[np.ndarray, int]:
    """(R, k): R[o] = round(s_w[o] * 2**k) < 2**RBITS with the largest k, so s_w[o] ~ R[o] * 2**-k."""
    s = np.asarray(scales, dtype=np.float64)
    k = RBITS - 1 - int(np.floor(np.log2(s.max())))
    r = np.round(s * 2.0 ** k).astype(np.int64)
    while r.max() >= (1 << RBITS):
        k -= 1
        r = np.round(s * 2.0 ** k).astype(np.int64)
    return r, k


def channel_scales(g: Graph, t: int, channels: int) -> np.ndarray:
    """A weight or bias tensor's float32 scales, one per output channel."""
    s = np.asarray(g.tensors[t].quant.scale, dtype=np.float32)
    return np.repeat(s, channels) if s.size == 1 else s


def param_factors(g: Graph, op, bias: bool) -> np.ndarray:
    """float32 per channel: the factor that turns 2**-e * exact gradient accumulators into the gradient in
    units of the parameter's quantization step (QAS): s_x / s_w[o] for weights, 1 / s_b[o] for biases."""
    x = g.tensors[op.inputs[0]]
    w = g.tensors[op.inputs[1]]
    ch = _channels(g, op)
    sw = channel_scales(g, op.inputs[1], ch)
    if not bias:
        return (np.float32(x.scale) / sw).astype(np.float32)
    b = g.tensors[op.inputs[2]]
    sb = channel_scales(g, op.inputs[2], ch) if b.quant is not None else (np.float32(x.scale) * sw)
    del w
    return (np.float32(1.0) / sb.astype(np.float32)).astype(np.float32)


def _channels(g: Graph, op) -> int:
    w = g.tensors[op.inputs[1]].shape
    return w[3] if op.kind == "DEPTHWISE_CONV_2D" else w[0]


def param_layout(g: Graph, op, bias: bool) -> tuple[int, int]:
    """(channels, inner): element i of the parameter belongs to channel (i // inner) % channels."""
    ch = _channels(g, op)
    if bias or op.kind == "DEPTHWISE_CONV_2D":
        return ch, 1
    return ch, int(np.prod(g.tensors[op.inputs[1]].shape[1:]))


def pool_q(count: int) -> int:
    """round(2**POOL_BITS / count), as C computes it: (2**POOL_BITS + count / 2) / count."""
    return ((1 << POOL_BITS) + count // 2) // count
