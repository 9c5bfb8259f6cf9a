"""Each backward kernel of lib/tinydeploy/td_train.c against its numpy twin (tinydeploy/train/kernels.py),
bit for bit, on random shapes and values: input gradients (mantissas and exponent), weight/bias
gradients through the SGD step (masters, momentum and quantized copies), the loss gradient, masks, sums."""
import ctypes
import dataclasses

import numpy as np
import pytest
from train_cases import Param, Sgd, geom_struct, ptr, random_geometry, random_grad, td_train_lib

from tinydeploy.train import kernels as K
from tinydeploy.train.numerics import exp_table, weight_scales

CASES = 25


@pytest.fixture(scope="module")
def lib():
    return td_train_lib()


def _out():
    return ctypes.c_int32()


def _same(c: tuple[np.ndarray, int], ref: tuple[np.ndarray, int], label: str) -> None:
    assert c[1] == ref[1], f"{label}: exponent {c[1]} != {ref[1]}"
    np.testing.assert_array_equal(c[0], np.asarray(ref[0]).ravel(), err_msg=label)


def _weights(rng, shape, channels):
    w = rng.integers(-127, 128, shape).astype(np.int8)
    r, k = weight_scales((10 ** rng.uniform(-3, -1, channels)).astype(np.float32))
    return w, r.astype(np.int32), k


def test_ce_grad(lib):
    rng = np.random.default_rng(1)
    for case in range(CASES):
        n = int(rng.integers(2, 40))
        z = rng.integers(-128, 128, n).astype(np.int8)
        if case % 5 == 0:
            z[:] = 127  # all equal
        table = exp_table(float(10 ** rng.uniform(-2.5, 0)), float(rng.choice([1.0, 0.5]))).astype(np.int32)
        label = int(rng.integers(0, n))
        g, e = np.zeros(n, np.int16), _out()
        loss = lib.td_train_ce_grad(ptr(z), n, label, ptr(table), ptr(g), ctypes.byref(e))
        m, re_, rloss = K.ce_grad(z, label, table)
        _same((g, e.value), (m, re_), f"case {case}")
        assert abs(loss - rloss) <= 1e-5 * max(1.0, rloss), (loss, rloss)


def test_mask_and_grad_add(lib):
    rng = np.random.default_rng(2)
    for case in range(CASES):
        n = int(rng.integers(1, 300))
        m, e = random_grad(rng, n)
        y = rng.integers(-128, 128, n).astype(np.int8)
        lo, hi = sorted(int(v) for v in rng.integers(-128, 128, 2))
        c = m.copy()
        lib.td_train_mask(ptr(c), ptr(y), n, lo, hi)
        np.testing.assert_array_equal(c, K.mask(m, y, lo, hi))
        m2, e2 = random_grad(rng, n)
        e2 = e + int(rng.choice([0, 1, -3, 20, -40]))
        dst, de = m.copy(), ctypes.c_int32(e)
        lib.td_train_grad_add(ptr(dst), ctypes.byref(de), ptr(m2), e2, n)
        _same((dst, de.value), K.accumulate((m, e), (m2, e2)), f"add case {case}")


def test_fc_dx(lib):
    rng = np.random.default_rng(3)
    for case in range(CASES):
        o, i = int(rng.integers(1, 50)), int(rng.integers(1, 300))
        m, e = random_grad(rng, o)
        w, r, k = _weights(rng, (o, i), o)
        dx, de = np.zeros(i, np.int16), _out()
        lib.td_train_fc_dx(ptr(m), e, ptr(w), ptr(r), k, o, i, ptr(dx), ctypes.byref(de))
        _same((dx, de.value), K.fc_dx(m, e, w, r, k), f"fc {o}x{i}")


@pytest.mark.parametrize("kind", ["conv", "dw"])
def test_conv_dx(lib, kind):
    rng = np.random.default_rng(4 if kind == "conv" else 5)
    for case in range(CASES):
        gm = random_geometry(rng, kind)
        m, e = random_grad(rng, gm.oh * gm.ow * gm.oc)
        shape = (gm.oc, gm.kh, gm.kw, gm.ic) if kind == "conv" else (1, gm.kh, gm.kw, gm.oc)
        w, r, k = _weights(rng, shape, gm.oc)
        dx, de = np.zeros(gm.ih * gm.iw * gm.ic, np.int16), _out()
        fn = lib.td_train_conv_dx if kind == "conv" else lib.td_train_dw_dx
        fn(ctypes.byref(geom_struct(gm)), ptr(m), e, ptr(w), ptr(r), k, ptr(dx), ctypes.byref(de))
        ref = (K.conv_dx if kind == "conv" else K.dw_dx)(m, e, w, r, k, gm)
        _same((dx, de.value), ref, f"{kind} {gm}")


@pytest.mark.parametrize("kind", ["avg", "mean", "max"])
def test_pool_dx(lib, kind):
    rng = np.random.default_rng({"avg": 6, "mean": 7, "max": 8}[kind])
    for case in range(CASES):
        gm = random_geometry(rng, "pool")
        if kind == "mean":
            gm = dataclasses.replace(gm, oh=1, ow=1, kh=gm.ih, kw=gm.iw, sh=1, sw=1, ph=0, pw=0)
        m, e = random_grad(rng, gm.oh * gm.ow * gm.oc)
        x = rng.integers(-128, 128, gm.ih * gm.iw * gm.ic).astype(np.int8)
        if case % 4 == 0:
            x //= 32  # many ties
        dx, de = np.zeros(gm.ih * gm.iw * gm.ic, np.int16), _out()
        if kind == "max":
            lib.td_train_max_pool_dx(ctypes.byref(geom_struct(gm)), ptr(m), e, ptr(x), ptr(dx), ctypes.byref(de))
            ref = K.max_pool_dx(m, e, x, gm)
        else:
            lib.td_train_avg_pool_dx(ctypes.byref(geom_struct(gm)), ptr(m), e, ptr(dx), ctypes.byref(de))
            ref = K.avg_pool_dx(m, e, gm)
        _same((dx, de.value), ref, f"{kind} {gm}")


def _param(rng, n: int, channels: int, inner: int, dtype, momentum: bool):
    """(ctypes struct, master, velocity, quantized, factor) with random masters near the quantized values."""
    q = rng.integers(-127, 128, n).astype(dtype) if dtype == np.int8 else \
        rng.integers(-50000, 50000, n).astype(np.int32)
    master = (q + rng.uniform(-0.5, 0.5, n)).astype(np.float32)
    vel = rng.normal(0, 0.1, n).astype(np.float32) if momentum else None
    factor = (10 ** rng.uniform(-1, 3, channels)).astype(np.float32)
    s = Param(master.ctypes.data, vel.ctypes.data if momentum else None, factor.ctypes.data, channels, inner, n,
              q.ctypes.data if dtype == np.int8 else None, q.ctypes.data if dtype != np.int8 else None)
    return s, master, vel, q, factor


@pytest.mark.parametrize("kind", ["fc", "conv", "dw", "bias"])
def test_update(lib, kind):
    """The weight/bias gradient and the float32 SGD step: masters, momentum and quantized copies, 3 steps."""
    rng = np.random.default_rng({"fc": 9, "conv": 10, "dw": 11, "bias": 12}[kind])
    for case in range(CASES // 2):
        gm = random_geometry(rng, "dw" if kind == "dw" else "conv")
        momentum = bool(case % 2)
        zp = int(rng.integers(-128, 128))
        if kind == "fc":
            o, i = int(rng.integers(1, 30)), int(rng.integers(1, 100))
            n, ch, inner, xn, gn = o * i, o, i, i, o
        elif kind == "conv":
            n, ch, inner = gm.oc * gm.kh * gm.kw * gm.ic, gm.oc, gm.kh * gm.kw * gm.ic
            xn, gn = gm.ih * gm.iw * gm.ic, gm.oh * gm.ow * gm.oc
        elif kind == "dw":
            n, ch, inner, xn, gn = gm.kh * gm.kw * gm.oc, gm.oc, 1, gm.ih * gm.iw * gm.ic, gm.oh * gm.ow * gm.oc
        else:
            ch = gm.oc
            n, inner, xn, gn = ch, 1, 0, gm.oh * gm.ow * ch
        s, master, vel, q, factor = _param(rng, n, ch, inner, np.int32 if kind == "bias" else np.int8, momentum)
        rmaster, rvel = master.copy(), None if vel is None else vel.copy()
        mu = float(rng.uniform(0.5, 0.99))
        for _ in range(3):
            m, e = random_grad(rng, gn)
            lr = float(10 ** rng.uniform(-3, 0))
            opt = Sgd(lr, mu)
            x = rng.integers(-128, 128, max(xn, 1)).astype(np.int8)
            if kind == "fc":
                lib.td_train_fc_update(ptr(m), e, ptr(x), zp, o, i, ctypes.byref(s), ctypes.byref(opt))
                acc = K.fc_dw(m, x, zp)
            elif kind == "bias":
                lib.td_train_bias_update(ptr(m), e, gn // ch, ch, ctypes.byref(s), ctypes.byref(opt))
                acc = m.astype(np.int64).reshape(-1, ch).sum(axis=0)
            else:
                fn = lib.td_train_conv_update if kind == "conv" else lib.td_train_dw_update
                fn(ctypes.byref(geom_struct(gm)), ptr(m), e, ptr(x), zp, ctypes.byref(s), ctypes.byref(opt))
                acc = (K.conv_dw if kind == "conv" else K.dw_dw)(m, x, zp, gm)
            lo, hi = (-127, 127) if kind != "bias" else (-(1 << 31), (1 << 31) - 1)
            rq = K.sgd(acc, e, factor[(np.arange(n) // inner) % ch], rmaster, rvel, np.float32(lr), np.float32(mu),
                       lo, hi)
            np.testing.assert_array_equal(master.view(np.int32), rmaster.view(np.int32), err_msg=f"{kind} master")
            if momentum:
                np.testing.assert_array_equal(vel.view(np.int32), rvel.view(np.int32), err_msg=f"{kind} momentum")
            np.testing.assert_array_equal(q, rq, err_msg=f"{kind} quantized")
