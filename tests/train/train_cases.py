"""Shared helpers of the tests/train tests: td_train.c through ctypes, random geometries, small models."""
from __future__ import annotations

import ctypes

import numpy as np

from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.train.host import build_shared
from tinydeploy.train.numerics import Geometry

I32P = ctypes.POINTER(ctypes.c_int32)


class Geom(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in ("ih", "iw", "ic", "oh", "ow", "oc", "kh", "kw", "sh", "sw", "dh",
                                              "dw", "ph", "pw", "mult")]


class Param(ctypes.Structure):
    _fields_ = [("master", ctypes.c_void_p), ("velocity", ctypes.c_void_p), ("factor", ctypes.c_void_p),
                ("channels", ctypes.c_int32), ("inner", ctypes.c_int32), ("count", ctypes.c_int32),
                ("q8", ctypes.c_void_p),
                ("q32", ctypes.c_void_p)]


class Sgd(ctypes.Structure):
    _fields_ = [("lr", ctypes.c_float), ("momentum", ctypes.c_float)]


def td_train_lib() -> ctypes.CDLL:
    """The runtime (td_train.c among it) as a shared library."""
    lib = ctypes.CDLL(str(build_shared({"td_train_cases.c": "typedef int td_train_cases_unused;\n"}, "tdtrain")))
    lib.td_train_ce_grad.restype = ctypes.c_float
    return lib


def ptr(a: np.ndarray) -> ctypes.c_void_p:
    assert a.flags.c_contiguous
    return ctypes.c_void_p(a.ctypes.data)


def geom_struct(gm: Geometry) -> Geom:
    return Geom(*(getattr(gm, f) for f, _ in Geom._fields_))


def random_geometry(rng: np.random.Generator, kind: str) -> Geometry:
    """A random window: SAME or VALID, strides 1-3, dilation (conv, depthwise), depthwise multipliers 1-2."""
    while True:
        ih, iw, ic = (int(v) for v in rng.integers(1, 9, 3))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        dil = kind in ("conv", "dw") and rng.random() < 0.3
        dh, dw = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if dil else (1, 1)
        mult = int(rng.integers(1, 3)) if kind == "dw" else 1
        oc = ic * mult if kind in ("dw", "pool") else int(rng.integers(1, 9))
        same = bool(rng.integers(0, 2))
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        oh = -(-ih // sh) if same else (ih - eh) // sh + 1
        ow = -(-iw // sw) if same else (iw - ew) // sw + 1
        if oh > 0 and ow > 0:
            ph = max((oh - 1) * sh + eh - ih, 0) // 2 if same else 0
            pw = max((ow - 1) * sw + ew - iw, 0) // 2 if same else 0
            return Geometry(ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, ph, pw, mult)


def random_grad(rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
    """Mantissas as the kernels produce them (|m| <= 2**14, some zeros) and an exponent."""
    m = rng.integers(-(1 << 14), (1 << 14) + 1, n).astype(np.int16)
    m[rng.random(n) < 0.2] = 0
    return m, int(rng.integers(-40, 0))


def _scales(rng: np.random.Generator, n: int) -> np.ndarray:
    return (10 ** rng.uniform(-3, -1.5, n)).astype(np.float32)


def _conv(b: ModelBuilder, rng, x: int, shape_in, cout: int, k: int, stride: int, act: int, s_in: float,
          depthwise: bool = False, mult: int = 1) -> tuple[int, float, tuple]:
    _, h, w, cin = shape_in
    oc = cin * mult if depthwise else cout
    sw = _scales(rng, oc)
    wshape = [1, k, k, oc] if depthwise else [oc, k, k, cin]
    wt = b.tensor(wshape, "int8", sw, 0, data=rng.integers(-127, 128, wshape), axis=3 if depthwise else 0)
    bias = b.tensor([oc], "int32", s_in * sw, 0, data=rng.integers(-2000, 2000, oc))
    taps = k * k * (1 if depthwise else cin)
    s_out = float(s_in * np.median(sw) * np.sqrt(taps) * 64 * 50 / 40)
    oh, ow = -(-h // stride), -(-w // stride)
    y = b.tensor([1, oh, ow, oc], "int8", s_out, -128 if act else int(rng.integers(-20, 20)))
    if depthwise:
        b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], options(
            "DepthwiseConv2DOptions", padding=0, strideH=stride, strideW=stride, depthMultiplier=mult,
            fusedActivationFunction=act), version=2)
    else:
        b.op("CONV_2D", [x, wt, bias], [y], options("Conv2DOptions", padding=0, strideH=stride, strideW=stride,
                                                    fusedActivationFunction=act))
    return y, s_out, (1, oh, ow, oc)


def mobile_like(seed: int = 0) -> bytes:
    """A MobileNet-like int8 classifier: conv RELU6, depthwise x2 stride 2, pointwise, residual ADD, average
    pool, spatial MEAN, RESHAPE, FULLY_CONNECTED, SOFTMAX."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor([1, 8, 8, 3], "int8", 0.02, -5)
    a, sa, shp = _conv(b, rng, x, (1, 8, 8, 3), 4, 3, 1, 3, 0.02)
    d, sd, shp = _conv(b, rng, a, shp, 0, 3, 2, 3, sa, depthwise=True, mult=2)
    p1, s1, shp = _conv(b, rng, d, shp, 8, 1, 1, 0, sd)
    p2, s2, _ = _conv(b, rng, p1, shp, 8, 1, 1, 1, s1)
    s_add = float(max(s1, s2) * 1.5)
    add = b.tensor(shp, "int8", s_add, 0)
    b.op("ADD", [p1, p2], [add], options("AddOptions", fusedActivationFunction=0))
    pool = b.tensor([1, 2, 2, 8], "int8", s_add, 0)
    b.op("AVERAGE_POOL_2D", [add], [pool], options("Pool2DOptions", padding=1, strideH=2, strideW=2,
                                                    filterHeight=2, filterWidth=2))
    axes = b.tensor([2], "int32", data=np.array([1, 2]))
    mean = b.tensor([1, 1, 1, 8], "int8", s_add, 0)
    b.op("MEAN", [pool, axes], [mean], options("ReducerOptions", keepDims=True))
    shape = b.tensor([2], "int32", data=np.array([1, 8]))
    flat = b.tensor([1, 8], "int8", s_add, 0)
    b.op("RESHAPE", [mean, shape], [flat], options("ReshapeOptions", newShape=[1, 8]))
    sw = _scales(rng, 5)
    w = b.tensor([5, 8], "int8", sw, 0, data=rng.integers(-127, 128, (5, 8)))
    bias = b.tensor([5], "int32", s_add * sw, 0, data=rng.integers(-500, 500, 5))
    logits = b.tensor([1, 5], "int8", float(s_add * np.median(sw) * 64 * 8 / 8), 0)
    b.op("FULLY_CONNECTED", [flat, w, bias], [logits], options("FullyConnectedOptions"))
    probs = b.tensor([1, 5], "int8", 1 / 256, -128)
    b.op("SOFTMAX", [logits], [probs], options("SoftmaxOptions", beta=1.0))
    return b.build([x], [probs])
