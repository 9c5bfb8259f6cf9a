"""Operator reordering: among the valid schedules of a branching graph, pick one with the lowest peak.

Dynamic programming over the sets of already-run ops (downsets of the DAG): the live bytes while
running op k depend only on which ops ran before it, so the best peak from a state is
min over runnable ops of max(live bytes during that op, best peak of the next state).
Chains have one state per op; residual blocks add a few. Graphs with too many states keep their order.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..ir import Graph

MAX_STATES = 50_000


def _align(n: int, a: int = 16) -> int:
    return (n + a - 1) // a * a


def best_order(g: Graph) -> list[int] | None:
    """Op indices in a lower-peak order, or None when the given order is best or the search too big."""
    n = len(g.ops)
    producer = {t: op.index for op in g.ops for t in op.outputs}
    deps = [frozenset(producer[t] for t in op.inputs if t in producer) for op in g.ops]
    size = {t.index: _align(t.nbytes) for t in g.tensors if not t.is_const}
    readers: dict[int, set[int]] = {}
    for op in g.ops:
        for t in op.inputs:
            if t >= 0 and t in size:
                readers.setdefault(t, set()).add(op.index)
    pinned = set(g.outputs) | {t.index for t in g.tensors if t.is_variable}
    inputs = [t for t in g.inputs if t in size]
    states = 0

    def live_after(done: frozenset[int]) -> int:
        total = 0
        for t in list(inputs) + [o for i in done for o in g.ops[i].outputs]:
            if t in size and (t in pinned or not readers.get(t, set()) <= done):
                total += size[t]
        return total

    @lru_cache(maxsize=None)
    def solve(done: frozenset[int]) -> tuple[int, tuple[int, ...]]:
        nonlocal states
        states += 1
        if states > MAX_STATES:
            raise OverflowError
        if len(done) == n:
            return 0, ()
        best: tuple[int, tuple[int, ...]] | None = None
        base = live_after(done)
        for i in range(n):
            if i in done or not deps[i] <= done:
                continue
            during = base + sum(size.get(t, 0) for t in g.ops[i].outputs)
            rest_peak, rest = solve(done | {i})
            cand = (max(during, rest_peak), (i,) + rest)
            if best is None or cand[0] < best[0]:
                best = cand
        return best

    try:
        peak, order = solve(frozenset())
    except (OverflowError, RecursionError):
        return None
    return list(order) if list(order) != list(range(n)) else None


def reorder(g: Graph) -> Graph:
    """A copy of g with its ops in the lowest-peak valid order (unchanged when nothing is better)."""
    order = best_order(g)
    if order is None:
        return g
    ops = [replace(g.ops[i], index=k) for k, i in enumerate(order)]
    return replace(g, ops=ops)
