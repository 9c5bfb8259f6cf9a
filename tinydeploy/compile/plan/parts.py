"""A group's buffer as linked parts (base.Part): the tensors that in-place and row-streaming ops link
(src consumed at op k while dst is written) are separate parts in time, so a small tensor at the
start of a chain does not hold the chain's largest size over the whole chain's life.

Parts are the group's tensors joined by views and patch sharing (which coexist: one part). Part time
runs in half-steps: a link's dst part starts at 2k + 1, its src part ends at 2k. When two parts of one
group would still collide (a shape the links do not describe), the group stays one rectangle.
"""
from __future__ import annotations

from typing import Callable

from ..ir import Graph
from .base import Part, meet


def group_parts(g: Graph, tensors: list[int], spans: dict[int, tuple[int, int]], rel: dict[int, int],
                links: list[tuple[int, int, int]], align: Callable[[int], int]) -> list[Part] | None:
    """The parts of one group (None: one rectangle, the group's bounding box over its whole life)."""
    members = set(tensors)
    own = [(s, d, k) for s, d, k in links if s in members and d in members]
    if not own:
        return None
    linked = {s for s, _, _ in own} | {d for _, d, _ in own}
    # parts: the group split where the links are; views/sharing keep their tensors together
    parent = {t: t for t in tensors}

    def find(t: int) -> int:
        while parent[t] != t:
            t = parent[t]
        return t

    link_pairs = {(s, d) for s, d, _ in own}
    for t in tensors:  # a tensor joined by no link belongs with the linked tensor it shares bytes and life with
        if t in linked:
            continue
        for u in tensors:
            if u != t and (t, u) not in link_pairs and (u, t) not in link_pairs and _touch(t, u, spans, rel, g):
                parent[find(t)] = find(u)
    parts_of: dict[int, list[int]] = {}
    for t in tensors:
        parts_of.setdefault(find(t), []).append(t)
    starts_late = {find(d): k for _, d, k in own}
    ends_early = {find(s): k for s, _, k in own}
    parts = []
    for root, ts in parts_of.items():
        lo = min(rel[t] for t in ts)
        hi = max(rel[t] + g.tensors[t].nbytes for t in ts)
        first, last = min(spans[t][0] for t in ts), max(spans[t][1] for t in ts)
        start = 2 * first + (1 if starts_late.get(root) == first else 0)
        end = 2 * last + (0 if ends_early.get(root) == last else 1)
        parts.append(Part(lo, hi - lo, start, end))
    for i, a in enumerate(parts):  # parts of one group must never collide
        for b in parts[i + 1:]:
            if meet(a, b) and a.rel < b.rel + align(b.size) and b.rel < a.rel + align(a.size):
                return None
    return parts


def _touch(t: int, u: int, spans, rel, g: Graph) -> bool:
    """t and u live at once and share bytes."""
    (a0, a1), (b0, b1) = spans[t], spans[u]
    return a0 <= b1 and b0 <= a1 and rel[t] < rel[u] + g.tensors[u].nbytes and rel[u] < rel[t] + g.tensors[t].nbytes
