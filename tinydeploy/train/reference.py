"""The Python reference of one training step: the forward by LiteRT BUILTIN_REF on the current parameters
(saved activations read as extra outputs), the backward and the SGD step by kernels.py, bit for bit the
math of the generated C."""
from __future__ import annotations

import numpy as np

from ..compile import Graph, parse_model
from ..evaluate import reference_outputs
from . import kernels as K
from .graph import TrainGraph, build_train_graph
from .numerics import act_range, exp_table, geometry, param_factors, param_layout, weight_scales
from .spec import Update
from .write import replace_params, with_outputs

Grad = tuple[np.ndarray, int]


def param_bounds(g: Graph, t: int) -> tuple[int, int]:
    return (-127, 127) if g.tensors[t].dtype == "int8" else (-(1 << 31), (1 << 31) - 1)


class ReferenceTrainer:
    """SGD (optional momentum) on the updated parameters of an int8 model, one sample per step."""

    def __init__(self, model: bytes, update: Update | str, momentum: float = 0.0) -> None:
        self.model = bytes(model)
        self.graph = parse_model(self.model)
        self.tg: TrainGraph = build_train_graph(self.graph, update)
        self.momentum = float(momentum)
        g = self.graph
        self.values = {t: g.tensors[t].data.copy() for t in self.tg.params}  # int8 weights / int32 biases
        self.count = {t: self.tg.updated_count(t) for t in self.tg.params}  # leading elements updated
        self.master = {t: v.astype(np.float32).ravel()[:self.count[t]].copy() for t, v in self.values.items()}
        self.velocity = {t: np.zeros(self.count[t], np.float32) for t in self.values} if momentum else {}
        self.table = exp_table(g.tensors[self.tg.logits].scale, self.tg.beta)
        self.last_grads: dict[int, Grad] = {}
        self.last_updates: dict[int, np.ndarray] = {}

    def current_model(self) -> bytes:
        """The .tflite with the current parameters."""
        return replace_params(self.model, self.values)

    def forward(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """The saved activations (int8, batch 1) of one sample, by LiteRT."""
        g, saved = self.graph, self.tg.saved
        outs = reference_outputs(with_outputs(self.current_model(), saved), [np.asarray(x)[None]])
        names = list(g.outputs) + [t for t in saved if t not in g.outputs]
        acts = {t: o[0] for t, o in zip(names, outs)}
        acts[g.inputs[0]] = np.asarray(x, dtype=np.int8).reshape(g.tensors[g.inputs[0]].shape)
        return acts

    def weight(self, t: int) -> np.ndarray:
        return self.values[t] if t in self.values else self.graph.tensors[t].data

    def step(self, x: np.ndarray, label: int, lr: float) -> float:
        """One SGD step on one sample; returns the loss before the step."""
        g = self.graph
        acts = self.forward(x)
        m, e, loss = K.ce_grad(acts[self.tg.logits], int(label), self.table)
        grads: dict[int, Grad] = {self.tg.logits: (m, e)}
        self.last_grads, self.last_updates = grads, {}
        for b in self.tg.backward:
            op = g.ops[b.op]
            m, e = grads[b.out]
            if b.kind in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD"):
                m = K.mask(m, acts[b.out], *act_range(g, op))
                grads[b.out] = (m, e)
            for t, grad in zip(b.grad_inputs, self._input_grads(op, b.kind, m, e, acts)):
                grads[t] = K.accumulate(grads.get(t), grad)
            if b.weights or b.bias:
                self._update(op, b, m, e, acts, lr)
        return loss

    def _input_grads(self, op, kind: str, m: np.ndarray, e: int, acts) -> list[Grad]:
        g = self.graph
        if kind in ("RESHAPE", "SQUEEZE"):
            return [(m.ravel().copy(), e)]
        if kind == "ADD":
            return [(m.ravel().copy(), e), (m.ravel().copy(), e)]
        if kind in ("AVERAGE_POOL_2D", "MEAN"):
            out = K.avg_pool_dx(m, e, geometry(g, op))
        elif kind == "MAX_POOL_2D":
            out = K.max_pool_dx(m, e, acts[op.inputs[0]], geometry(g, op))
        else:
            w = self.weight(op.inputs[1])
            r, k = weight_scales(g.tensors[op.inputs[1]].quant.scale)
            chans = w.shape[3] if kind == "DEPTHWISE_CONV_2D" else w.shape[0]
            r = np.repeat(r, chans) if r.size == 1 else r
            if kind == "FULLY_CONNECTED":
                out = K.fc_dx(m, e, w.reshape(w.shape[0], -1), r, k)
            elif kind == "CONV_2D":
                out = K.conv_dx(m, e, w, r, k, geometry(g, op))
            else:
                out = K.dw_dx(m, e, w, r, k, geometry(g, op))
        return [(out[0].ravel(), out[1])]

    def _update(self, op, b, m: np.ndarray, e: int, acts, lr: float) -> None:
        g = self.graph
        x = g.tensors[op.inputs[0]]
        if b.weights:
            xin = acts[op.inputs[0]]
            if b.kind == "FULLY_CONNECTED":
                acc = K.fc_dw(m, xin, x.zero_point)
            elif b.kind == "CONV_2D":
                acc = K.conv_dw(m, xin, x.zero_point, geometry(g, op))
            else:
                acc = K.dw_dw(m, xin, x.zero_point, geometry(g, op))
            self._sgd(op, op.inputs[1], acc, e, False, lr)
        if b.bias:
            acc = m.astype(np.int64).reshape(-1, g.tensors[op.inputs[2]].size).sum(axis=0)
            self._sgd(op, op.inputs[2], acc, e, True, lr)

    def _sgd(self, op, t: int, acc: np.ndarray, e: int, bias: bool, lr: float) -> None:
        g = self.graph
        ch, inner = param_layout(g, op, bias)
        f = param_factors(g, op, bias)
        n = self.count[t]
        acc = acc.ravel()[:n]
        factor = f[(np.arange(n) // inner) % ch]
        self.last_updates[t] = K.scale2(acc.astype(np.float32), e) * factor
        q = K.sgd(acc, e, factor, self.master[t], self.velocity.get(t), lr, self.momentum, *param_bounds(g, t))
        flat = self.values[t].ravel().copy()
        flat[:n] = q
        self.values[t] = flat.reshape(self.values[t].shape)
