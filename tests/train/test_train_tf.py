"""The numpy reference's gradients (bit-exact with the C, tests/train/test_train_backward.py) against
TensorFlow's GradientTape on the dequantized float graph (float64), per backward op, on random shapes.

Stated tolerances, relative to the largest |TensorFlow gradient| of the tensor:
- input gradients: 2**-12 (mantissas are normalized to 14 bits; weight scales enter as 24-bit integers);
- weight and bias gradients: 1e-6 (exact integer sums, one float32 rounding);
- the loss gradient p - onehot: 2**-13 absolute (Q14 probabilities from a Q30 exp table);
- the QAS step: master_new - w_q equals -lr * (float gradient) / s_w within 2**-12 of its largest value
  (+ float32 rounding of the master), i.e. the int8 update follows float SGD.
"""
import dataclasses

import numpy as np
import pytest
from train_cases import random_geometry, random_grad

from tinydeploy.train import kernels as K
from tinydeploy.train.numerics import exp_table, weight_scales

CASES = 10
TOL_INPUT, TOL_PARAM, TOL_LOSS = 2.0 ** -12, 1e-6, 2.0 ** -13


@pytest.fixture(scope="module")
def tf():
    import tensorflow as tf
    return tf


def close(ours, theirs, tol, label):
    ours, theirs = np.asarray(ours, np.float64).ravel(), np.asarray(theirs, np.float64).ravel()
    scale = max(np.abs(theirs).max(), 1e-300)
    err = np.abs(ours - theirs).max() / scale
    assert err <= tol, f"{label}: max error {err:.3g} of the largest gradient > {tol:.3g}"


def grads(tf, fn, inputs, dy):
    vs = [tf.Variable(np.asarray(v, np.float64)) for v in inputs]
    with tf.GradientTape() as tape:
        y = fn(*vs)
    return [g.numpy() for g in tape.gradient(y, vs, output_gradients=tf.constant(dy.reshape(y.shape)))]


def setup_layer(rng, o_shape, w_shape, channels):
    s_x, zp = float(10 ** rng.uniform(-2.5, -1)), int(rng.integers(-128, 128))
    s_w = (10 ** rng.uniform(-3, -1, channels)).astype(np.float32)
    w = rng.integers(-127, 128, w_shape).astype(np.int8)
    m, e = random_grad(rng, int(np.prod(o_shape)))
    return s_x, zp, s_w, w, m, e, m.astype(np.float64) * 2.0 ** e


def test_fc_against_tf(tf):
    rng = np.random.default_rng(21)
    for case in range(CASES):
        o, i = int(rng.integers(1, 40)), int(rng.integers(1, 200))
        s_x, zp, s_w, w, m, e, dy = setup_layer(rng, (o,), (o, i), o)
        x = rng.integers(-128, 128, i).astype(np.int8)
        xf, wf = s_x * (x.astype(np.float64) - zp), s_w[:, None].astype(np.float64) * w
        dx_tf, dw_tf, db_tf = grads(tf, lambda a, b, c: tf.matmul(a[None], b, transpose_b=True) + c,
                                    [xf, wf, np.zeros(o)], dy)
        r, k = weight_scales(s_w)
        dxm, dxe = K.fc_dx(m, e, w, r, k)
        close(dxm * 2.0 ** dxe, dx_tf, TOL_INPUT, f"fc dx {o}x{i}")
        acc = K.fc_dw(m, x, zp)
        close(acc * 2.0 ** e * s_x, dw_tf, TOL_PARAM, "fc dW")
        close(m * 2.0 ** e, db_tf, TOL_PARAM, "fc db")
        # QAS: one SGD step on the master (in units of s_w) moves the float weight as float SGD does
        lr = float(10 ** rng.uniform(-2, 0))
        master = w.astype(np.float32).ravel()
        factor = np.repeat((np.float32(s_x) / s_w).astype(np.float32), i)
        K.sgd(acc, e, factor, master, None, lr, 0.0, -127, 127)
        want = -lr * dw_tf.ravel() / np.repeat(s_w, i)
        got = master - w.ravel()
        assert np.abs(got - want).max() <= TOL_INPUT * np.abs(want).max() + 2e-5, "QAS step"


def _tf_window(tf, gm, xf, kind):
    """x (float, [ih, iw, ic]) padded as the window pads it and cut to the taps it reads: [1, H, W, ic]."""
    need_h, need_w = (gm.oh - 1) * gm.sh + (gm.kh - 1) * gm.dh + 1, (gm.ow - 1) * gm.sw + (gm.kw - 1) * gm.dw + 1
    pads = [[0, 0], [gm.ph, max(0, need_h - gm.ih - gm.ph)], [gm.pw, max(0, need_w - gm.iw - gm.pw)], [0, 0]]
    return tf.pad(xf[None], pads)[:, :need_h, :need_w]


def _tf_geometry(rng, kind):
    """A geometry TensorFlow's CPU kernels take: no stride with dilation; depthwise: equal strides."""
    while True:
        gm = random_geometry(rng, kind)
        if ((gm.dh, gm.dw) == (1, 1) or (gm.sh, gm.sw) == (1, 1)) and (kind == "conv" or gm.sh == gm.sw):
            return gm


@pytest.mark.parametrize("kind", ["conv", "dw"])
def test_conv_against_tf(tf, kind):
    rng = np.random.default_rng(22 if kind == "conv" else 23)
    for case in range(CASES):
        gm = _tf_geometry(rng, kind)
        shape = (gm.oc, gm.kh, gm.kw, gm.ic) if kind == "conv" else (1, gm.kh, gm.kw, gm.oc)
        s_x, zp, s_w, w, m, e, dy = setup_layer(rng, (gm.oh, gm.ow, gm.oc), shape, gm.oc)
        x = rng.integers(-128, 128, (gm.ih, gm.iw, gm.ic)).astype(np.int8)
        xf = s_x * (x.astype(np.float64) - zp)
        if kind == "conv":
            wf = (s_w[:, None, None, None] * w.astype(np.float64))

            def fn(a, b, gm=gm):
                return tf.nn.conv2d(_tf_window(tf, gm, a, kind), tf.transpose(b, (1, 2, 3, 0)),
                                    [1, gm.sh, gm.sw, 1], "VALID", dilations=[1, gm.dh, gm.dw, 1])
        else:
            wf = s_w[None, None, None, :] * w.astype(np.float64)

            def fn(a, b, gm=gm):
                return tf.nn.depthwise_conv2d(_tf_window(tf, gm, a, kind), tf.reshape(b, (gm.kh, gm.kw, gm.ic, gm.mult)),
                                              [1, gm.sh, gm.sw, 1], "VALID", dilations=[gm.dh, gm.dw])
        dx_tf, dw_tf = grads(tf, fn, [xf, wf], dy)
        r, k = weight_scales(s_w)
        dxm, dxe = (K.conv_dx if kind == "conv" else K.dw_dx)(m, e, w, r, k, gm)
        close(dxm * 2.0 ** dxe, dx_tf, TOL_INPUT, f"{kind} dx {gm}")
        acc = (K.conv_dw if kind == "conv" else K.dw_dw)(m, x, zp, gm)
        close(acc * 2.0 ** e * s_x, dw_tf, TOL_PARAM, f"{kind} dW {gm}")


@pytest.mark.parametrize("kind", ["avg", "mean", "max"])
def test_pool_against_tf(tf, kind):
    rng = np.random.default_rng({"avg": 24, "mean": 25, "max": 26}[kind])
    for case in range(CASES):
        gm = random_geometry(rng, "pool")
        if kind == "mean":
            gm = dataclasses.replace(gm, oh=1, ow=1, kh=gm.ih, kw=gm.iw, sh=1, sw=1, ph=0, pw=0)
        m, e = random_grad(rng, gm.oh * gm.ow * gm.oc)
        dy = m.astype(np.float64) * 2.0 ** e
        # distinct values per channel: TensorFlow and we agree on where a window's maximum is
        x = np.stack([rng.permutation(256)[:gm.ih * gm.iw] - 128 for _ in range(gm.ic)], -1)
        x = x.reshape(gm.ih, gm.iw, gm.ic).astype(np.int8)
        valid = gm.ph == gm.pw == 0 and gm.oh == (gm.ih - gm.kh) // gm.sh + 1 and gm.ow == (gm.iw - gm.kw) // gm.sw + 1
        pad = "VALID" if valid else "SAME"
        pool = {"mean": None, "avg": tf.nn.avg_pool2d, "max": tf.nn.max_pool2d}[kind]

        def fn(a, gm=gm, pad=pad, pool=pool):
            if pool is None:
                return tf.reduce_mean(a[None], axis=[1, 2], keepdims=True)
            return pool(a[None], [gm.kh, gm.kw], [gm.sh, gm.sw], pad)
        ours = K.max_pool_dx(m, e, x, gm) if kind == "max" else K.avg_pool_dx(m, e, gm)
        (dx_tf,) = grads(tf, fn, [0.05 * x.astype(np.float64)], dy)
        close(ours[0] * 2.0 ** ours[1], dx_tf, TOL_INPUT, f"{kind} {gm} {pad}")


def test_loss_gradient_against_tf(tf):
    rng = np.random.default_rng(27)
    for case in range(CASES * 3):
        n = int(rng.integers(2, 30))
        z = rng.integers(-128, 128, n).astype(np.int8)
        scale, zp, label = float(10 ** rng.uniform(-2, -0.5)), int(rng.integers(-128, 128)), int(rng.integers(0, n))
        zf = scale * (z.astype(np.float64) - zp)
        onehot = np.eye(n)[label]
        v = tf.Variable(zf)
        with tf.GradientTape() as tape:
            loss = tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=v)
        g_tf = tape.gradient(loss, v).numpy()
        m, e, our_loss = K.ce_grad(z, label, exp_table(scale))
        assert np.abs(m * 2.0 ** e - g_tf).max() <= TOL_LOSS, f"loss gradient, {n} logits"
        assert abs(our_loss - float(loss.numpy())) <= 1e-3 * max(1.0, float(loss.numpy())) or \
            float(loss.numpy()) > 20, "loss"
