"""Random single-op int8 models for kernel tests (every variant, on the host and on targets): odd shapes,
zero points near the ends, per-channel scales with rescales of both signs, fused activations. Each maker
returns (.tflite bytes, a label that names the case)."""
from __future__ import annotations

import numpy as np

from ..compile import out_size
from .builder import ModelBuilder, options

OPTS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}


def conv_layer(b: ModelBuilder, rng: np.random.Generator, x: int, cin: int, scale: float, cout: int, kh: int,
               kw: int, stride: tuple[int, int], dilation: tuple[int, int], padding: int) -> tuple[int, float, str]:
    """One CONV_2D on x: per-channel or per-tensor weights (some rescales above 1), zero or random bias."""
    per_channel = bool(rng.integers(0, 2))
    w_scale = 10 ** rng.uniform(-3.5, -0.5, cout if per_channel else 1)
    out_scale = float(scale * np.median(w_scale) * 10 ** rng.uniform(-0.7, 2.5))
    w = b.tensor([cout, kh, kw, cin], "int8", w_scale, 0,
                 data=rng.integers(-128 if rng.integers(0, 4) == 0 else -127, 128, (cout, kh, kw, cin)), axis=0)
    bias = rng.integers(-60000, 60000, cout) if rng.integers(0, 5) else np.zeros(cout, np.int64)
    ins = [x, w, b.tensor([cout], "int32", scale * w_scale, 0, data=bias)]  # LiteRT wants a bias here
    act = int(rng.choice([0, 1, 3]))
    return ins, out_scale, act


def conv_model(rng: np.random.Generator) -> tuple[bytes, str]:
    """A random int8 convolution (odd channel counts, 1x1 to 5x5, strides 1-2, dilation, SAME/VALID, input
    offsets near +-128), half the time followed by a 1x1 convolution that runs in place."""
    h, w_ = int(rng.integers(1, 11)), int(rng.integers(1, 11))
    cin = int(rng.choice([rng.integers(1, 9), rng.integers(9, 40)]))
    cout = int(rng.choice([rng.integers(1, 9), rng.integers(9, 40)]))
    kh, kw = int(rng.choice([1, 1, 3, 3, 5, 2])), int(rng.choice([1, 1, 3, 3, 5, 4]))
    stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    dilation = (1, 1) if rng.integers(0, 4) else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    padding = int(rng.integers(0, 2))  # 0 SAME, 1 VALID
    if padding == 1:
        h, w_ = h + dilation[0] * (kh - 1), w_ + dilation[1] * (kw - 1)
    in_zp = int(rng.choice([rng.integers(-128, -120), rng.integers(120, 128), rng.integers(-128, 128)]))
    scale = float(rng.uniform(0.005, 0.1))
    b = ModelBuilder()
    x = b.tensor([1, h, w_, cin], "int8", scale, in_zp)
    ins, out_scale, act = conv_layer(b, rng, x, cin, scale, cout, kh, kw, stride, dilation, padding)
    oh = -(-h // stride[0]) if padding == 0 else (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = -(-w_ // stride[1]) if padding == 0 else (w_ - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = b.tensor([1, oh, ow, cout], "int8", out_scale, int(rng.integers(-128, 128)))
    b.op("CONV_2D", ins, [y], options("Conv2DOptions", padding=padding, strideH=stride[0], strideW=stride[1],
                                      dilationHFactor=dilation[0], dilationWFactor=dilation[1],
                                      fusedActivationFunction=act))
    label = f"conv {h}x{w_}x{cin}->{cout} k{kh}x{kw} s{stride} d{dilation} pad{padding} act{act} zp{in_zp}"
    out = y
    if rng.integers(0, 2):
        c2 = int(rng.choice([rng.integers(1, 9), rng.integers(9, 48)]))
        ins2, scale2, act2 = conv_layer(b, rng, y, cout, out_scale, c2, 1, 1, (1, 1), (1, 1), 0)
        out = b.tensor([1, oh, ow, c2], "int8", scale2, int(rng.integers(-128, 128)))
        b.op("CONV_2D", ins2, [out], options("Conv2DOptions", padding=0, strideH=1, strideW=1,
                                             fusedActivationFunction=act2))
        label += f" then 1x1 ->{c2}"
    return b.build([x], [out]), label


def fc_model(rng: np.random.Generator, big: bool = False) -> tuple[bytes, str]:
    """One random int8 FULLY_CONNECTED: odd shapes, input offsets near +-128, per-channel shifts of both
    signs (some channels' rescale above 1), with and without bias, fused activations."""
    batches = int(rng.integers(1, 4))
    depth = int(rng.integers(100, 400)) if big else int(rng.choice([rng.integers(1, 9), rng.integers(9, 80)]))
    units = int(rng.integers(20, 70)) if big else int(rng.choice([rng.integers(1, 9), rng.integers(9, 40)]))
    per_channel = bool(rng.integers(0, 2))
    act = int(rng.choice([0, 1, 3]))
    in_zp = int(rng.choice([rng.integers(-128, -120), rng.integers(120, 128), rng.integers(-128, 128)]))
    in_scale = float(rng.uniform(0.005, 0.1))
    w_scale = 10 ** rng.uniform(-3.5, -0.5, units if per_channel else 1)
    out_scale = float(in_scale * np.median(w_scale) * 10 ** rng.uniform(-0.5, 2.5))
    b = ModelBuilder()
    x = b.tensor([batches, depth], "int8", in_scale, in_zp)
    w = b.tensor([units, depth], "int8", w_scale, 0, data=rng.integers(-128 if rng.integers(0, 4) == 0 else -127,
                                                                        128, (units, depth)), axis=0)
    ins = [x, w]
    if rng.integers(0, 5):
        ins.append(b.tensor([units], "int32", in_scale * w_scale, 0, data=rng.integers(-40000, 40000, units)))
    y = b.tensor([batches, units], "int8", out_scale, int(rng.integers(-128, 128)))
    b.op("FULLY_CONNECTED", ins, [y], options("FullyConnectedOptions", fusedActivationFunction=act))
    label = f"fc b{batches} d{depth} u{units} pc{int(per_channel)} act{act} zp{in_zp} bias{int(len(ins) == 3)}"
    return b.build([x], [y]), label


def dw_model(rng: np.random.Generator) -> tuple[bytes, str]:
    """One random int8 DEPTHWISE_CONV_2D: H/W 1..30 (H*W*C <= 640), channels 1..40 (mostly not multiples of 4;
    sometimes 65..160), 3x3 / 5x5
    / other filters, strides 1 and 2, SAME/VALID, sometimes dilation or depth multiplier 2 (reference
    fallback), input zero points near +-128, per-channel shifts of both signs, activations, bias or not."""
    cin = int(rng.choice([rng.integers(1, 41), rng.choice([4, 8, 16, 32])]))
    if rng.random() < 0.1:  # more than one 64-channel chunk (weights widened row by row)
        cin = int(rng.integers(65, 161))
    while True:
        h, w = (int(v) for v in rng.integers(1, 31, 2))
        while h * w * cin > 640:  # 200+ arenas and their samples share one firmware's RAM and flash
            h, w = (max(1, h * 2 // 3), w) if h > w else (h, max(1, w * 2 // 3))
        shapes = [(3, 3), (3, 3), (5, 5), (5, 5), (1, 1), (2, 2), (3, 1), (1, 5), (7, 7), (4, 3)]
        fh, fw = shapes[rng.integers(0, 10 if cin <= 64 else 4)]  # (a 7x7 scratch of 64 channels is 7 KB)
        sh, sw = (int(v) for v in rng.choice([1, 2], 2))
        dh, dw = (1, 1) if rng.random() < 0.85 else (int(v) for v in rng.integers(1, 3, 2))
        padding = 0 if rng.random() < 0.7 else 1  # SAME or VALID
        oh, ow = out_size(padding, h, fh, sh, dh), out_size(padding, w, fw, sw, dw)
        if oh > 0 and ow > 0:
            break
    mult = 2 if rng.random() < 0.05 else 1
    cout = cin * mult
    per_channel = rng.random() < 0.7
    act = int(rng.choice([0, 1, 3]))
    in_zp = int(rng.choice([rng.integers(-128, -120), rng.integers(120, 128), rng.integers(-128, 128)]))
    in_scale = float(rng.uniform(0.005, 0.1))
    w_scale = 10 ** rng.uniform(-3.5, -0.5, cout if per_channel else 1)
    # output scale: rescale mostly below 1 (the fast requantization), sometimes above 1 for some channels
    spread = rng.uniform(-0.5, 2.5) if rng.random() < 0.8 else rng.uniform(-3.5, 0.5)
    out_scale = float(in_scale * np.median(w_scale) * np.sqrt(fh * fw) * 10 ** spread)
    b = ModelBuilder()
    n = 2 if h * w * cin <= 320 and rng.random() < 0.1 else 1  # batches (never in place)
    x = b.tensor([n, h, w, cin], "int8", in_scale, in_zp)
    lo = -128 if rng.integers(0, 4) == 0 else -127
    wt = b.tensor([1, fh, fw, cout], "int8", w_scale, 0, data=rng.integers(lo, 128, (1, fh, fw, cout)), axis=3)
    ins = [x, wt]
    if rng.integers(0, 5):
        ins.append(b.tensor([cout], "int32", in_scale * w_scale, 0, data=rng.integers(-40000, 40000, cout)))
    y = b.tensor([n, oh, ow, cout], "int8", out_scale, int(rng.integers(-128, 128)))
    b.op("DEPTHWISE_CONV_2D", ins, [y], options("DepthwiseConv2DOptions", padding=padding, strideH=sh, strideW=sw,
                                                dilationHFactor=dh, dilationWFactor=dw, depthMultiplier=mult,
                                                fusedActivationFunction=act))
    label = (f"dw {n}x{h}x{w}x{cin} f{fh}x{fw} m{mult} s{sh},{sw} d{dh},{dw} pad{'SV'[padding]} pc{int(per_channel)} "
             f"act{act} zp{in_zp} bias{int(len(ins) == 3)}")
    return b.build([x], [y]), label


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def zero_point(rng: np.random.Generator) -> int:
    """Near -128 or +127 two times in three (the offsets' extremes), else anywhere."""
    return int(rng.choice([rng.integers(-128, -120), rng.integers(119, 128), rng.integers(-128, 128)]))


def binary_model(rng: np.random.Generator, kind: str, shape=None, broadcast: bool = False):
    """One random int8 ADD / SUB / MUL: equal, doubled or random scales, zero points near the ends,
    fused activations; input 2 broadcast when asked (the reference kernel then)."""
    if shape is None:
        rank = int(rng.integers(1, 5))
        shape = [int(rng.integers(1, 41)) for _ in range(rank)]
        while int(np.prod(shape)) > 1000:
            shape[int(np.argmax(shape))] //= 2
    shape2 = [1 if broadcast and rng.random() < 0.6 else d for d in shape]
    if broadcast and shape2 == shape:
        shape2 = [1] * len(shape)
    s1 = log_uniform(rng, 0.002, 0.5)
    s2 = float(rng.choice([s1, 2 * s1, s1 / 2, log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)]))
    if kind == "MUL":
        so = s1 * s2 * log_uniform(rng, 1.0, 1000.0)  # below 2: output shift >= 0, the reference kernel
    else:
        so = max(s1, s2) * log_uniform(rng, 0.2, 5.0 if rng.random() < 0.9 else 500.0)
    zps = [zero_point(rng) for _ in range(3)]
    act = int(rng.choice([0, 0, 1, 2, 3]))
    b = ModelBuilder()
    x = b.tensor(shape, "int8", s1, zps[0])
    w = b.tensor(shape2, "int8", s2, zps[1])
    y = b.tensor(shape, "int8", so, zps[2])
    b.op(kind, [x, w], [y], options(OPTS[kind], fusedActivationFunction=act))
    label = f"{kind} {shape}{'x' + str(shape2) if broadcast else ''} s {s1:.4g} {s2:.4g} {so:.4g} zp {zps} act{act}"
    return b.build([x, w], [y]), label


def pool_model(rng: np.random.Generator, kind: str, geometry=None):
    """One random int8 pooling: odd depths, clipped SAME windows, global windows, activations."""
    if geometry is None:
        while True:
            h, w, c = int(rng.integers(1, 41)), int(rng.integers(1, 41)), int(rng.integers(1, 41))
            while h * w * c > 2000:
                h, w = max(1, h // 2), max(1, w // 2)
            fh, fw = int(rng.integers(1, min(h, 6) + 1)), int(rng.integers(1, min(w, 6) + 1))
            if rng.random() < 0.2:
                fh, fw = h, w  # global pooling
            sh, sw, pad = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(0, 2))
            if out_size(pad, h, fh, sh) > 0 and out_size(pad, w, fw, sw) > 0:
                break
        geometry = (int(rng.integers(1, 3)) if rng.random() < 0.2 else 1, h, w, c, fh, fw, sh, sw, pad)
    n, h, w, c, fh, fw, sh, sw, pad = geometry
    act, scale, zp = int(rng.choice([0, 0, 1, 2, 3])), log_uniform(rng, 0.005, 0.2), zero_point(rng)
    b = ModelBuilder()
    x = b.tensor([n, h, w, c], "int8", scale, zp)
    y = b.tensor([n, out_size(pad, h, fh, sh), out_size(pad, w, fw, sw), c], "int8", scale, zp)
    b.op(kind, [x], [y], options("Pool2DOptions", padding=pad, strideW=sw, strideH=sh, filterWidth=fw,
                                 filterHeight=fh, fusedActivationFunction=act))
    return b.build([x], [y]), f"{kind} {geometry} act{act} zp{zp}"


def pad_conv_model(rng: np.random.Generator) -> tuple[bytes, str]:
    """A random PAD / PADV2 (asymmetric amounts, sometimes a pad value other than the zero point or a
    channel pad: not foldable) read by one to three ops: CONV_2D or DEPTHWISE_CONV_2D (SAME or VALID,
    strides 1-2, 3x3 or 5x5: the PAD folds into them) and sometimes a MAX_POOL_2D (it never folds)."""
    h, w, c = int(rng.integers(2, 12)), int(rng.integers(2, 12)), int(rng.integers(1, 12))
    top, bottom, left, right = (int(v) for v in rng.integers(0, 3, 4))
    pad_c = int(rng.random() < 0.1)
    scale, zp = float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))
    b = ModelBuilder()
    x = b.tensor([1, h, w, c], "int8", scale, zp)
    pads = b.tensor([4, 2], "int32", data=np.array([[0, 0], [top, bottom], [left, right], [0, pad_c]]))
    ph, pw, pc = h + top + bottom, w + left + right, c + pad_c
    padded = b.tensor([1, ph, pw, pc], "int8", scale, zp)
    kind = "PADV2" if rng.random() < 0.3 else "PAD"
    ins = [x, pads]
    if kind == "PADV2":
        value = zp if rng.random() < 0.7 else int(np.clip(zp + rng.choice([-3, 5]), -128, 127))
        ins.append(b.tensor([1], "int8", scale, zp, data=np.array([value])))
    b.op(kind, ins, [padded], options("PadV2Options" if kind == "PADV2" else "PadOptions"))
    outs, label = [], f"{kind} {h}x{w}x{c} pads t{top} b{bottom} l{left} r{right} c{pad_c} zp{zp} ->"
    for _ in range(int(rng.integers(1, 4))):
        reader = rng.choice(["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D"], p=[0.4, 0.45, 0.15])
        k = int(rng.choice([3, 3, 5])) if min(ph, pw) >= 5 else min(3, ph, pw)
        stride, padding = int(rng.integers(1, 3)), int(rng.random() < 0.6)  # mostly VALID, as TF exports
        oh, ow = out_size(padding, ph, k, stride), out_size(padding, pw, k, stride)
        out_scale = float(scale * 10 ** rng.uniform(-0.5, 0.5))
        if reader == "MAX_POOL_2D":
            y = b.tensor([1, oh, ow, pc], "int8", scale, zp)
            b.op(reader, [padded], [y], options("Pool2DOptions", padding=padding, strideW=stride, strideH=stride,
                                                 filterWidth=k, filterHeight=k))
        else:
            cout = pc if reader == "DEPTHWISE_CONV_2D" else int(rng.integers(1, 12))
            shape = [1, k, k, cout] if reader == "DEPTHWISE_CONV_2D" else [cout, k, k, pc]
            w_scale = 10 ** rng.uniform(-2.5, -1, cout)
            wt = b.tensor(shape, "int8", w_scale, 0, data=rng.integers(-127, 128, shape),
                          axis=3 if reader == "DEPTHWISE_CONV_2D" else 0)
            bias = b.tensor([cout], "int32", scale * w_scale, 0, data=rng.integers(-3000, 3000, cout))
            y = b.tensor([1, oh, ow, cout], "int8", out_scale * k, int(rng.integers(-128, 128)))
            opts = (options("DepthwiseConv2DOptions", padding=padding, strideH=stride, strideW=stride,
                            depthMultiplier=1) if reader == "DEPTHWISE_CONV_2D"
                    else options("Conv2DOptions", padding=padding, strideH=stride, strideW=stride))
            b.op(reader, [padded, wt, bias], [y], opts)
        outs.append(y)
        label += f" {reader} k{k} s{stride} {'VALID' if padding else 'SAME'}"
    return b.build([x], outs), label


def kws_like_model(rng: np.random.Generator) -> tuple[bytes, str]:
    """A small random chain shaped like the keyword-spotting CNNs (kws_ref_model): a tall CONV_2D with stride
    2 on a one-channel spectrogram, a 3x3 DEPTHWISE_CONV_2D and a 1x1 CONV_2D (in place when the planner
    likes), a global AVERAGE_POOL_2D and a FULLY_CONNECTED; ReLU or not, per-channel scales, zero points near
    the ends. Sized for 8 KB of SRAM."""
    h, w, c, c2, units = (int(rng.integers(8, 15)), int(rng.integers(4, 9)), int(rng.integers(3, 13)),
                          int(rng.integers(3, 17)), int(rng.integers(2, 13)))
    kh, kw = int(rng.choice([4, 6, 8])), int(rng.choice([2, 3, 4]))
    scale, b = log_uniform(rng, 0.01, 0.1), ModelBuilder()
    x = b.tensor([1, h, w, 1], "int8", scale, zero_point(rng))
    ins, s1, act = conv_layer(b, rng, x, 1, scale, c, kh, kw, (2, 2), (1, 1), 0)
    oh, ow = -(-h // 2), -(-w // 2)
    y1 = b.tensor([1, oh, ow, c], "int8", s1, zero_point(rng))
    b.op("CONV_2D", ins, [y1], options("Conv2DOptions", padding=0, strideH=2, strideW=2, fusedActivationFunction=act))
    w_scale = 10 ** rng.uniform(-3, -1, c)
    wt = b.tensor([1, 3, 3, c], "int8", w_scale, 0, data=rng.integers(-127, 128, (1, 3, 3, c)), axis=3)
    bias = b.tensor([c], "int32", s1 * w_scale, 0, data=rng.integers(-20000, 20000, c))
    s2 = float(s1 * np.median(w_scale) * 3 * 10 ** rng.uniform(-0.3, 1.5))
    y2 = b.tensor([1, oh, ow, c], "int8", s2, zero_point(rng))
    b.op("DEPTHWISE_CONV_2D", [y1, wt, bias], [y2], options("DepthwiseConv2DOptions", padding=0, strideH=1,
                                                                 strideW=1, depthMultiplier=1,
                                                                 fusedActivationFunction=int(rng.choice([0, 1]))))
    ins, s3, act3 = conv_layer(b, rng, y2, c, s2, c2, 1, 1, (1, 1), (1, 1), 0)
    y3 = b.tensor([1, oh, ow, c2], "int8", s3, zero_point(rng))
    b.op("CONV_2D", ins, [y3], options("Conv2DOptions", padding=0, strideH=1, strideW=1, fusedActivationFunction=act3))
    y4 = b.tensor([1, 1, 1, c2], "int8", s3, b.tensors[y3].quantization.zeroPoint[0])
    b.op("AVERAGE_POOL_2D", [y3], [y4], options("Pool2DOptions", padding=1, strideH=1, strideW=1, filterHeight=oh,
                                                 filterWidth=ow))
    fw_scale = 10 ** rng.uniform(-3, -1, units)
    fw = b.tensor([units, c2], "int8", fw_scale, 0, data=rng.integers(-127, 128, (units, c2)), axis=0)
    fb = b.tensor([units], "int32", s3 * fw_scale, 0, data=rng.integers(-20000, 20000, units))
    y5 = b.tensor([1, units], "int8", float(s3 * np.median(fw_scale) * 10 ** rng.uniform(0, 1.5)), zero_point(rng))
    b.op("FULLY_CONNECTED", [y4, fw, fb], [y5], options("FullyConnectedOptions"))
    return b.build([x], [y5]), f"kws-like {h}x{w} conv{kh}x{kw}->{c} dw3x3 pw->{c2} avgpool fc->{units}"
