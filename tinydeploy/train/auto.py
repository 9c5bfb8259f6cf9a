"""`--update auto --budget 256KB`: the sparse update that gives the most expected loss decrease per byte
under a memory budget, in the spirit of the contribution analysis of Lin et al. 2022.

Units: the bias of each conv/depthwise/fc layer, and its weights in steps of an eighth of the output
channels (CONV_2D, FULLY_CONNECTED: a leading-channel prefix, as the PCT% share; DEPTHWISE_CONV_2D: whole).
Contribution of a unit (the cheap proxy): the squared gradient of the mean loss over labelled training
samples, summed over the unit's elements, in float (the fake-quant TensorFlow reference, tf_reference.py).
One SGD step of learning rate lr on a parameter set lowers the loss by lr * that sum to first order, and
under QAS the int8 step follows the float step, so this ranks what an update of each unit would gain
without fine-tuning every candidate. Cost of a unit: the state bytes it adds (float32 master, momentum
when used, the parameter's RAM copy once per tensor).

Choice: one sequence of units, greedy by contribution per byte, a layer's channel steps in order; the
update is the longest prefix of that sequence whose exact memory (training buffer + state, from the
generated step, + a stack reserve) fits. A bigger budget gives a longer prefix: never fewer bytes.
"""
from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass

import numpy as np

from ..compile import Graph
from ..errors import TinyDeployError
from .spec import KINDS, Update

STEPS = 8  #: channel steps of a CONV_2D / FULLY_CONNECTED weight tensor
STACK_RESERVE = 10240  #: bytes kept for the stack and the protocol firmware (qemu-m4: 8,192 + 2,071)
N_SAMPLES = 128  #: labelled samples for the gradient proxy
_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m)?\s*$", re.IGNORECASE)


def parse_budget(text: str | int) -> int:
    """'256KB' (also 256K, 256KiB: x1024), '0.5MB', '262144' -> bytes."""
    if isinstance(text, int):
        return text
    m = _BUDGET.match(str(text))
    if not m:
        raise TinyDeployError(f"budget {text!r} is not a size", "write e.g. --budget 256KB (or 262144, 0.5MB)")
    unit = (m.group(2) or "b").lower()[:1]
    return int(float(m.group(1)) * {"b": 1, "k": 1024, "m": 1024 * 1024}[unit])


@dataclass(frozen=True)
class Unit:
    op: int
    bias: bool
    channels: int  # weights: leading output channels after this step (bias: its channels)
    gain: float  # contribution (sum of squared mean gradients of the elements it adds)
    cost: int  # state bytes it adds


@dataclass
class AutoChoice:
    update: Update
    spec: str  # the same update as an explicit spec (parse_update gives it back)
    buffer_bytes: int
    state_bytes: int
    budget: int
    units: list[Unit]

    @property
    def total_bytes(self) -> int:
        return self.buffer_bytes + self.state_bytes


def _weighted(g: Graph) -> list:
    return [op for op in g.ops if op.kind in KINDS["conv"] + KINDS["fc"]]


def _has_bias(op) -> bool:
    return len(op.inputs) > 2 and op.inputs[2] >= 0


def full_update(g: Graph) -> Update:
    """Every weight and bias of every conv/depthwise/fc layer."""
    ops = _weighted(g)
    return Update(weights=tuple(op.index for op in ops), biases=tuple(op.index for op in ops if _has_bias(op)))


def landed(g: Graph, t: int, sq: np.ndarray, drift: float) -> np.ndarray:
    """The squared gradients of parameter t times the share of the float update that survives rounding
    to its int8 grid: an element drifts D = drift * |g| / s quantization steps; it moves round(D)."""
    tensor = g.tensors[t]
    if tensor.dtype != "int8":
        return sq  # int32 biases: steps far below any update
    q = tensor.quant
    shape = [1] * len(tensor.shape)
    shape[q.axis] = -1
    s = q.scale.reshape(shape).astype(np.float64) if q.scale.size > 1 else float(q.scale[0])
    d = drift * np.sqrt(sq) / s
    share = np.where(d > 0, np.floor(d + 0.5) / np.maximum(d, 1e-300), 0.0)
    return sq * np.minimum(share, 1.0)


def _units(g: Graph, sq: dict[int, np.ndarray], momentum: float) -> list[list[Unit]]:
    """Per layer and part, its units in the order they must be taken."""
    per = 8 if momentum else 4  # master (+ momentum) bytes per updated element
    chains = []
    for op in _weighted(g):
        if _has_bias(op):
            t = g.tensors[op.inputs[2]]
            chains.append([Unit(op.index, True, t.size, float(sq[op.inputs[2]].sum()), (per + 4) * t.size)])
        w = g.tensors[op.inputs[1]]
        s = sq[op.inputs[1]]
        if op.kind == "DEPTHWISE_CONV_2D":
            chains.append([Unit(op.index, False, w.shape[3], float(s.sum()), (per + 1) * w.size)])
            continue
        oc, inner = w.shape[0], w.size // w.shape[0]
        per_ch = s.reshape(oc, -1).sum(axis=1)
        chain, done = [], 0
        for k in range(1, STEPS + 1):
            n = math.ceil(oc * k / STEPS)
            if n > done:
                copy = w.nbytes if done == 0 else 0
                chain.append(Unit(op.index, False, n, float(per_ch[done:n].sum()), per * inner * (n - done) + copy))
                done = n
        chains.append(chain)
    return chains


def rank_units(chains: list[list[Unit]]) -> list[Unit]:
    """One sequence: the best gain per byte among the next unit of each chain, repeatedly."""
    heap = [(-c[0].gain / c[0].cost, i, 0) for i, c in enumerate(chains) if c]
    heapq.heapify(heap)
    out = []
    while heap:
        _, i, j = heapq.heappop(heap)
        out.append(chains[i][j])
        if j + 1 < len(chains[i]):
            nxt = chains[i][j + 1]
            heapq.heappush(heap, (-nxt.gain / nxt.cost, i, j + 1))
    return out


def units_update(g: Graph, units: list[Unit]) -> Update:
    weights: dict[int, int] = {}
    biases = set()
    for u in units:
        if u.bias:
            biases.add(u.op)
        else:
            weights[u.op] = max(weights.get(u.op, 0), u.channels)
    partial = tuple(sorted((op, n) for op, n in weights.items()
                           if g.ops[op].kind != "DEPTHWISE_CONV_2D" and n < g.tensors[g.ops[op].inputs[1]].shape[0]))
    return Update(weights=tuple(sorted(weights)), biases=tuple(sorted(biases)), partial=partial)


def describe(g: Graph, u: Update) -> str:
    """An explicit spec for u: bias:all when every layer's bias is in, else opN:b; opN:w[:PCT%] for weights."""
    every = {op.index for op in _weighted(g) if _has_bias(op)}
    items = ["bias:all"] if set(u.biases) == every and every else [f"op{i}:b" for i in u.biases]
    for i in u.weights:
        n = u.channels(i)
        oc = g.tensors[g.ops[i].inputs[1]].shape[0]
        items.append(f"op{i}:w" if n is None else f"op{i}:w:{100 * n / oc:.6g}%")
    return ",".join(items)


def memory(g: Graph, update: Update, momentum: float = 0.0) -> tuple[int, int]:
    """(training buffer bytes, state bytes) of the generated step for `update`."""
    from .codegen import generate_train_c
    from .graph import build_train_graph
    tc = generate_train_c(build_train_graph(g, update), "auto", momentum=momentum)
    return tc.buffer_bytes, tc.state_bytes


def choose_update(g: Graph, budget: int | str, x: np.ndarray, y: np.ndarray, momentum: float = 0.0,
                  lr: float = 0.005, epochs: int = 1, stack_reserve: int = STACK_RESERVE,
                  n_samples: int = N_SAMPLES) -> AutoChoice:
    """The update for `budget` bytes (buffer + state + stack_reserve) from labelled int8 samples x, y
    (lr, epochs: of the fine-tune to come, for the int8 grid's share of each weight's update)."""
    from .tf_reference import FloatTrainer
    budget = parse_budget(budget)
    x, y = np.asarray(x), np.asarray(y).ravel()
    if len(x) == 0 or len(x) != len(y):
        raise TinyDeployError("--update auto needs labelled training samples", "pass --data train.npz with x and y")
    sq = FloatTrainer(g, full_update(g)).grad_squares(x[:n_samples], y[:n_samples])
    drift = lr * epochs * len(x) / (1.0 - momentum if momentum < 1 else 1.0)
    sq = {t: landed(g, t, v, drift) for t, v in sq.items()}
    order = rank_units(_units(g, sq, momentum))
    cache: dict[int, tuple[int, int]] = {}

    def fits(k: int) -> bool:
        if k not in cache:
            cache[k] = memory(g, units_update(g, order[:k]), momentum)
        return sum(cache[k]) + stack_reserve <= budget

    if not fits(1):
        raise TinyDeployError(f"no update fits in {budget} bytes: the smallest needs "
                              f"{sum(cache[1]) + stack_reserve} (buffer, state and a {stack_reserve}-byte stack)",
                              "raise --budget or train a smaller model")
    lo, hi = 1, len(order)  # the longest fitting prefix (memory grows with the prefix)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    u = units_update(g, order[:lo])
    return AutoChoice(update=u, spec=describe(g, u), buffer_bytes=cache[lo][0], state_bytes=cache[lo][1],
                      budget=budget, units=order[:lo])
