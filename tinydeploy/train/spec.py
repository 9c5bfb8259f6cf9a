"""The update spec: which parameter tensors a training step changes.

    bias:all,fc:last,conv:last2

Comma-separated `KIND:WHICH[:PCT%]` items. KIND is `fc` (FULLY_CONNECTED weights and bias), `conv`
(CONV_2D and DEPTHWISE_CONV_2D weights and bias), `dw` (DEPTHWISE_CONV_2D only) or `bias` (biases only, of
every conv/depthwise/fc layer selected). WHICH is `all`, `none`, `last`, `lastN`, `first`, `firstN`,
counted over that kind's layers in schedule order. PCT (fc and conv: CONV_2D layers only) updates the
weights of the first PCT% output channels (at least one; a contiguous prefix of the OHWI tensor, as the
paper's sparse channel update); the biases stay whole.

Single layers: `opN:w[:PCT%]` (the weights of op N, N its index in the schedule), `opN:b` (its bias),
`opN:wb` (both). `auto` with a budget and labelled samples: the update auto.py chooses
(parse_update("auto", g, budget="256KB", data=(x, y))); its explicit spec is AutoChoice.spec.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..compile import Graph
from ..errors import TinyDeployError

KINDS = {"fc": ("FULLY_CONNECTED",), "conv": ("CONV_2D", "DEPTHWISE_CONV_2D"),
         "dw": ("DEPTHWISE_CONV_2D",), "bias": ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")}
_WHICH = re.compile(r"^(all|none|(last|first)(\d*))$")
_PCT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_OP = re.compile(r"^op(\d+)$")
_FIX = ("write e.g. --update bias:all,fc:last,conv:last2:25% (kinds fc, conv, dw, bias; all, none, lastN, "
        "firstN; an optional share of output channels)")


@dataclass(frozen=True)
class Update:
    """Per op index: whether its weights and/or its bias are updated."""

    weights: tuple[int, ...]  # op indices whose weight tensor (input 1) is updated
    biases: tuple[int, ...]  # op indices whose bias tensor (input 2) is updated
    partial: tuple[tuple[int, int], ...] = ()  # (op index, output channels updated) for a PCT% share

    def channels(self, op: int) -> int | None:
        """How many leading output channels of op's weights are updated (None: all)."""
        return dict(self.partial).get(op)

    @property
    def ops(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.weights) | set(self.biases)))

    def tensors(self, g: Graph) -> list[int]:
        """The updated parameter tensors (weights, then biases, in schedule order)."""
        out = [g.ops[i].inputs[1] for i in self.weights]
        return out + [g.ops[i].inputs[2] for i in self.biases]


def _pick(ops: list[int], which: str, item: str, kind: str) -> list[int]:
    m = _WHICH.match(which)
    if not m:
        raise TinyDeployError(f"update spec {item!r}: {which!r} is not all, none, lastN or firstN", _FIX)
    if which in ("all", "none"):
        return list(ops) if which == "all" else []
    if not ops:
        raise TinyDeployError(f"update spec {item!r}: the model has no {' or '.join(KINDS[kind])} layer",
                              "drop the item (a 1x1 CONV_2D classifier is conv:last)")
    n = int(m.group(3) or 1)
    if n < 1 or n > len(ops):
        raise TinyDeployError(f"update spec {item!r}: the model has {len(ops)} such layer(s), not {n}",
                              f"use a count from 1 to {len(ops)}" if ops else _FIX)
    return list(ops[-n:] if m.group(2) == "last" else ops[:n])


def _one_op(g: Graph, item: str, index: int, which: str) -> list[int]:
    if index >= len(g.ops) or g.ops[index].kind not in KINDS["conv"] + KINDS["fc"]:
        raise TinyDeployError(f"update spec {item!r}: op {index} is no conv, depthwise or fc layer",
                              "name a layer by its index in `tinydeploy inspect`")
    if which not in ("w", "b", "wb"):
        raise TinyDeployError(f"update spec {item!r}: {which!r} is not w, b or wb", _FIX)
    return [index]


def parse_update(spec: str, g: Graph, budget: int | str | None = None, data=None, momentum: float = 0.0) -> Update:
    """The parameters `spec` selects in g; TinyDeployError naming the bad item. `auto` chooses them for
    `budget` bytes from data = (int8 inputs, labels) (auto.py)."""
    if (spec or "").strip().lower() == "auto":
        if budget is None or data is None:
            raise TinyDeployError("--update auto needs a memory budget and labelled samples",
                                  "pass --budget 256KB and --data train.npz")
        from .auto import choose_update
        return choose_update(g, budget, data[0], data[1], momentum=momentum).update
    items = [s.strip() for s in (spec or "").split(",") if s.strip()]
    if not items:
        raise TinyDeployError("empty update spec", _FIX)
    weights: set[int] = set()
    biases: set[int] = set()
    partial: dict[int, int] = {}
    seen: set[str] = set()
    for item in items:
        kind, sep, which = item.partition(":")
        kind, which = kind.strip().lower(), which.strip().lower()
        which, _, pct = which.partition(":")
        single = _OP.match(kind)
        if single and sep:
            chosen = _one_op(g, item, int(single.group(1)), which.strip())
            if pct:
                if which.strip() == "b":
                    raise TinyDeployError(f"update spec {item!r}: a share of channels applies to weights", _FIX)
                partial.update(_partial(g, chosen, pct.strip(), item, "conv"))
            if "w" in which:
                weights.update(chosen)
            if "b" in which:
                biases.update(i for i in chosen if len(g.ops[i].inputs) > 2 and g.ops[i].inputs[2] >= 0)
            continue
        if not sep or kind not in KINDS:
            raise TinyDeployError(f"update spec item {item!r}: unknown kind {kind!r}", _FIX)
        if kind in seen:
            raise TinyDeployError(f"update spec names {kind!r} twice", "give each kind once")
        seen.add(kind)
        ops = [op.index for op in g.ops if op.kind in KINDS[kind]]
        chosen = _pick(ops, which, item, kind)
        if pct:
            partial.update(_partial(g, chosen, pct.strip(), item, kind))
        if kind != "bias":
            weights.update(chosen)
        biases.update(i for i in chosen if len(g.ops[i].inputs) > 2 and g.ops[i].inputs[2] >= 0)
    if not weights and not biases:
        raise TinyDeployError(f"update spec {spec!r} selects no parameter of this model", _FIX)
    return Update(weights=tuple(sorted(weights)), biases=tuple(sorted(biases)), partial=tuple(sorted(partial.items())))


def _partial(g: Graph, chosen: list[int], pct: str, item: str, kind: str) -> dict[int, int]:
    """op -> leading output channels for a `PCT%` share of the chosen layers."""
    m = _PCT.match(pct)
    share = float(m.group(1)) if m else -1.0
    if not 0 < share <= 100:
        raise TinyDeployError(f"update spec {item!r}: {pct!r} is not a share like 25%", _FIX)
    if kind not in ("fc", "conv"):
        raise TinyDeployError(f"update spec {item!r}: a share of channels applies to fc and conv", _FIX)
    out = {}
    for i in chosen:
        op = g.ops[i]
        if op.kind == "DEPTHWISE_CONV_2D":
            raise TinyDeployError(f"update spec {item!r} selects op {i} (DEPTHWISE_CONV_2D), whose channels are "
                                  "not a prefix of its weights", "select it in a separate item without a share")
        out[i] = max(1, math.ceil(g.tensors[op.inputs[1]].shape[0] * share / 100))
    return out
