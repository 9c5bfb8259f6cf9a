"""The float reference of a sparse update (issue 17): the same parameters, the same samples in the same
order, the same SGD (lr, momentum, one sample per step) in TensorFlow float32, on the int8 model's own
graph with its dequantized weights and a fake-quant forward.

Forward: every op of the graph in TensorFlow (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD,
AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, RESHAPE, SQUEEZE); each op's output is rounded to its int8 grid and
clamped to its fused activation's int8 range (act_range), with a straight-through gradient inside the
range and none outside (fake quantization). Loss: softmax cross-entropy on beta * logits. The updated
parameters are float variables (weights s_w * q, biases s_b * q); a PCT% share masks the gradient to the
leading output channels. SGD as the int8 step: v = mu * v + g, w -= lr * v (mu = 0: w -= lr * g).
TensorFlow is imported lazily (the train extra).
"""
from __future__ import annotations

import os

import numpy as np

from ..compile import Graph, parse_model
from ..errors import TinyDeployError
from .graph import TrainGraph, build_train_graph
from .numerics import act_range, geometry
from .spec import Update

_PASS = ("RESHAPE", "SQUEEZE")


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tensorflow as tf
    except ImportError:
        raise TinyDeployError("the float reference needs TensorFlow", "pip install -e '.[train]'") from None
    return tf


def dequantize(g: Graph, t: int) -> np.ndarray:
    """A constant tensor as float32 (per-channel scales along the quantization axis)."""
    tensor = g.tensors[t]
    q = tensor.quant
    data = tensor.data.astype(np.float64)
    if q.scale.size == 1:
        return (q.scale[0] * (data - q.zero_point[0])).astype(np.float32)
    shape = [1] * data.ndim
    shape[q.axis] = -1
    return (q.scale.reshape(shape) * (data - q.zero_point.reshape(shape))).astype(np.float32)


class FloatTrainer:
    """SGD in float on the updated parameters of an int8 model (inputs and labels as for HostTrainer)."""

    def __init__(self, model: bytes | Graph, update: Update | str, momentum: float = 0.0,
                 fake_quant: bool = True) -> None:
        tf = self.tf = _tf()
        self.graph = g = model if isinstance(model, Graph) else parse_model(bytes(model))
        self.tg: TrainGraph = build_train_graph(g, update)
        self.momentum, self.fake_quant = float(momentum), fake_quant
        self.vars: dict[int, object] = {}
        self.masks: dict[int, object] = {}
        self.vel: dict[int, object] = {}
        for t in self.tg.params:
            self.vars[t] = tf.Variable(dequantize(g, t), trainable=True)
            mask = np.zeros(g.tensors[t].size, np.float32)
            mask[:self.tg.updated_count(t)] = 1.0
            self.masks[t] = tf.constant(mask.reshape(g.tensors[t].shape))
            self.vel[t] = tf.Variable(np.zeros(g.tensors[t].shape, np.float32), trainable=False)
        self.consts = {t: tf.constant(dequantize(g, t)) for op in g.ops for t in op.inputs[1:3]
                       if t >= 0 and t not in self.vars and g.tensors[t].is_const and g.tensors[t].quant}
        inp = g.tensors[g.inputs[0]]
        self._in = (inp.scale, inp.zero_point)
        self._step = tf.function(self._step_fn, reduce_retracing=True)
        self._logits = tf.function(self.logits, reduce_retracing=True)

    def _param(self, t: int):
        return self.vars.get(t, self.consts.get(t))

    def _fq(self, x, op, t: int):
        """Fake quantization of op's output tensor t (clamped to its fused activation's int8 range)."""
        tf, out = self.tf, self.graph.tensors[t]
        lo, hi = act_range(self.graph, op) if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                                            "ADD") else (-128, 127)
        s, zp = np.float32(out.scale), out.zero_point
        xc = tf.clip_by_value(x, s * (lo - zp), s * (hi - zp))
        if not self.fake_quant:
            return xc
        return xc + tf.stop_gradient(s * tf.round(xc / s) - xc)

    def _window(self, x, op):
        tf, gm = self.tf, geometry(self.graph, op)
        need_h = (gm.oh - 1) * gm.sh + (gm.kh - 1) * gm.dh + 1
        need_w = (gm.ow - 1) * gm.sw + (gm.kw - 1) * gm.dw + 1
        pads = [[0, 0], [gm.ph, max(0, need_h - gm.ih - gm.ph)], [gm.pw, max(0, need_w - gm.iw - gm.pw)], [0, 0]]
        return tf.pad(x, pads), gm

    def _op(self, op, vals):
        tf, g = self.tf, self.graph
        x = vals[op.inputs[0]]
        out_shape = [-1, *g.tensors[op.outputs[0]].shape[1:]]
        if op.kind in _PASS:
            return tf.reshape(x, out_shape)
        if op.kind == "ADD":
            y = x + vals[op.inputs[1]]
        elif op.kind == "MEAN":
            y = tf.reshape(tf.reduce_mean(x, axis=[1, 2]), out_shape)
        elif op.kind == "FULLY_CONNECTED":
            w = self._param(op.inputs[1])
            y = tf.matmul(tf.reshape(x, [-1, g.tensors[op.inputs[1]].shape[1]]), w, transpose_b=True)
        elif op.kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            gm = geometry(g, op)
            pad = "SAME" if int(getattr(op.options, "padding", 1)) == 0 else "VALID"
            pool = tf.nn.avg_pool2d if op.kind == "AVERAGE_POOL_2D" else tf.nn.max_pool2d
            y = pool(x, [gm.kh, gm.kw], [gm.sh, gm.sw], pad)
        elif op.kind == "CONV_2D":
            xp, gm = self._window(x, op)
            w = tf.transpose(self._param(op.inputs[1]), [1, 2, 3, 0])
            y = tf.nn.conv2d(xp, w, [1, gm.sh, gm.sw, 1], "VALID", dilations=[gm.dh, gm.dw])
        elif op.kind == "DEPTHWISE_CONV_2D":
            xp, gm = self._window(x, op)
            w = tf.reshape(self._param(op.inputs[1]), [gm.kh, gm.kw, gm.ic, gm.mult])
            y = tf.nn.depthwise_conv2d(xp, w, [1, gm.sh, gm.sw, 1], "VALID", dilations=[gm.dh, gm.dw])
        else:
            raise TinyDeployError(f"op {op.index} ({op.kind}) has no float reference",
                                  "the float reference covers the ops training supports")
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") and len(op.inputs) > 2 and op.inputs[2] >= 0:
            y = y + self._param(op.inputs[2])
        return self._fq(tf.reshape(y, out_shape), op, op.outputs[0])

    def logits(self, x):
        """beta * the float logits of a batch of dequantized inputs."""
        vals = {self.graph.inputs[0]: x}
        for op in self.graph.ops:
            if self.tg.logits in vals:
                break
            vals[op.outputs[0]] = self._op(op, vals)
        return vals[self.tg.logits] * np.float32(self.tg.beta)

    def _step_fn(self, x, label, lr):
        tf = self.tf
        params = list(self.vars)
        with tf.GradientTape() as tape:
            logits = tf.reshape(self.logits(x), [1, -1])
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(label, logits))
        grads = tape.gradient(loss, [self.vars[t] for t in params])
        for t, grad in zip(params, grads):
            grad = grad * self.masks[t]
            if self.momentum:
                self.vel[t].assign(self.vel[t] * self.momentum + grad)
                grad = self.vel[t]
            self.vars[t].assign_sub(lr * grad)
        return loss

    def grad_squares(self, x: np.ndarray, y: np.ndarray) -> dict[int, np.ndarray]:
        """Per updated parameter: the squared gradient of the mean loss over the samples (float64, the
        parameter's shape): the first-order loss decrease of one SGD step is lr times its sum."""
        tf = self.tf
        params = list(self.vars)
        with tf.GradientTape() as tape:
            logits = self.logits(tf.constant(self._floats(x)))
            logits = tf.reshape(logits, [len(y), -1])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(np.asarray(y).ravel(), logits))
        grads = tape.gradient(loss, [self.vars[t] for t in params])
        return {t: np.square(gr.numpy().astype(np.float64)) for t, gr in zip(params, grads)}

    def _floats(self, x: np.ndarray) -> np.ndarray:
        s, zp = self._in
        shape = self.graph.tensors[self.graph.inputs[0]].shape
        return (np.float32(s) * (np.asarray(x, np.float32).reshape(-1, *shape[1:]) - zp)).astype(np.float32)

    def step(self, x: np.ndarray, label: int, lr: float) -> float:
        """One SGD step on one int8 sample; returns its loss before the step."""
        tf = self.tf
        return float(self._step(tf.constant(self._floats(x)), tf.constant([int(label)]), tf.constant(lr, tf.float32)))

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """The predicted labels of int8 inputs [N, ...]."""
        xf = self._floats(x)
        return np.concatenate([np.argmax(self._logits(self.tf.constant(xf[i:i + batch])).numpy(), axis=-1)
                               for i in range(0, len(xf), batch)])

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y).ravel()))
