"""One planned buffer for the training step: the inference arena (the forward, with the saved activations
at the offsets its planner gave them) and, after it, the backward's gradient buffers placed in the same
bytes wherever no saved activation or other gradient is alive at the same backward step.

Backward steps: 0 is the loss gradient, step i + 1 is tg.backward[i]. A saved activation lives from step
0 to the last step that reads it; a gradient from the step that first writes it to the step that reads it;
the scratch of a gradient sum only at its step. Placement: largest first, lowest offset that fits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .graph import MASKED, TrainGraph
from .numerics import GRAD_BYTES

ALIGN = 16


@dataclass
class Block:
    key: object  # tensor index (gradient), ("saved", t) or ("scratch", step, t)
    size: int
    first: int
    last: int
    offset: int = -1


@dataclass
class TrainPlan:
    buffer_bytes: int  # the one buffer: forward arena and backward gradients
    lower_bound_bytes: int  # the most bytes alive at one time (forward peak or one backward step)
    grad_offsets: dict[int, int] = field(default_factory=dict)
    scratch_offsets: dict[tuple[int, int], int] = field(default_factory=dict)  # (step, tensor) -> offset
    blocks: list[Block] = field(default_factory=list)


def _reads(tg: TrainGraph) -> dict[int, int]:
    """saved tensor -> last backward step that reads it."""
    g = tg.graph
    last = {tg.logits: 0}
    for i, b in enumerate(tg.backward, start=1):
        op = g.ops[b.op]
        if b.kind in MASKED:
            last[b.out] = i
        if b.weights or b.kind == "MAX_POOL_2D":
            last[op.inputs[0]] = i
    return last


def plan_training(tg: TrainGraph, arena_bytes: int, arena_lower: int, offsets: dict[int, int],
                  keep_grads: bool = False) -> TrainPlan:
    """Place the gradients (GRAD_BYTES per element) around the saved activations at `offsets`. keep_grads:
    every gradient stays alive to the end (tests read them all after a step)."""
    g = tg.graph
    steps = len(tg.backward)
    fixed = [Block(("saved", t), g.tensors[t].nbytes, 0, last, offsets[t])
             for t, last in _reads(tg).items() if t in offsets]
    written: dict[int, int] = {tg.logits: 0}
    read: dict[int, int] = {}
    scratch: list[Block] = []
    for i, b in enumerate(tg.backward, start=1):
        read[b.out] = i
        for t in b.grad_inputs:
            if t in written:
                scratch.append(Block(("scratch", i, t), GRAD_BYTES * g.tensors[t].size, i, i))
            written.setdefault(t, i)
    grads = [Block(t, GRAD_BYTES * g.tensors[t].size, written[t], steps + 1 if keep_grads else read.get(t, written[t]))
             for t in tg.grads]
    placed = list(fixed)
    for blk in sorted(grads + scratch, key=lambda b: (-b.size, b.first)):
        clash = sorted((p.offset, p.offset + p.size) for p in placed if p.first <= blk.last and blk.first <= p.last)
        at = 0
        for lo, hi in clash:
            if at + blk.size <= lo:
                break
            at = max(at, -(-hi // ALIGN) * ALIGN)
        blk.offset = at
        placed.append(blk)
    top = max([arena_bytes] + [b.offset + b.size for b in placed])
    live = max([0] + [sum(b.size for b in placed if b.first <= s <= b.last) for s in range(steps + 2)])
    return TrainPlan(buffer_bytes=-(-top // ALIGN) * ALIGN, lower_bound_bytes=max(arena_lower, live),
                     grad_offsets={b.key: b.offset for b in grads},
                     scratch_offsets={b.key[1:]: b.offset for b in scratch}, blocks=placed)
