"""The planner interface: add_buffer(size, first_use, last_use[, parts]) -> id; plan() -> offsets.

A buffer is placed at one offset. It is one rectangle (bytes x ops), or several linked parts at fixed
offsets inside it (in-place and row-streaming ops: the output written over the input it consumes).
Time runs in half-steps: op k is 2k (its inputs are read) and 2k + 1 (its outputs live); a part that
an in-place op writes starts at 2k + 1 and the part it consumes ends at 2k, so the two may share bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Part(NamedTuple):
    rel: int     # bytes from the buffer's offset
    size: int
    start: int   # first half-step (2 * first op, + 1 when written over a consumed part)
    end: int     # last half-step, inclusive (2 * last op + 1, - 1 when consumed by an in-place op)


@dataclass
class Buffer:
    size: int
    first_use: int  # index of the first op that touches it
    last_use: int  # index of the last op that touches it (inclusive)
    offset: int = -1
    parts: list[Part] = field(default_factory=list)  # empty: one part, [0, size) over the whole life

    def shape(self) -> list[Part]:
        return self.parts or [Part(0, self.size, 2 * self.first_use, 2 * self.last_use + 1)]


def meet(a: Part, b: Part) -> bool:
    """The two parts live at a common half-step."""
    return a.start <= b.end and b.start <= a.end


class Planner:
    """Collects buffers, then assigns offsets so that parts live at the same time never overlap."""

    name = "base"

    def __init__(self, alignment: int = 16) -> None:
        self.alignment = alignment
        self.buffers: list[Buffer] = []

    def add_buffer(self, size: int, first_use: int, last_use: int, parts: list[Part] | None = None) -> int:
        if last_use < first_use:
            raise ValueError("last_use before first_use")
        self.buffers.append(Buffer(size=int(size), first_use=int(first_use), last_use=int(last_use),
                                   parts=list(parts or [])))
        return len(self.buffers) - 1

    def align(self, n: int) -> int:
        return (n + self.alignment - 1) // self.alignment * self.alignment

    def extent(self, p: Part) -> int:
        """Bytes a part holds from the buffer's offset (its end aligned)."""
        return self.align(p.rel + p.size) - p.rel

    def forbidden(self, b: Buffer, placed: Buffer) -> list[tuple[int, int]]:
        """Offsets [lo, hi) where b would collide with the placed buffer."""
        out = []
        for p in b.shape():
            for q in placed.shape():
                if p.size and q.size and meet(p, q):
                    q_lo = placed.offset + q.rel
                    out.append((q_lo - p.rel - self.extent(p) + 1, q_lo + self.extent(q) - p.rel))
        return out

    def plan(self) -> list[int]:
        """Assign and return offsets, one per buffer in add order."""
        raise NotImplementedError

    @property
    def arena_bytes(self) -> int:
        return max((b.offset + p.rel + self.extent(p) for b in self.buffers for p in b.shape() if p.size), default=0)

    def lower_bound(self) -> int:
        """The most bytes live at any half-step: no plan can use less."""
        parts = [p for b in self.buffers for p in b.shape() if p.size]
        steps = {p.start for p in parts} | {p.end for p in parts}
        return max((sum(self.align(p.size) for p in parts if p.start <= t <= p.end) for t in steps), default=0)

    def check(self) -> None:
        """Raise AssertionError when parts of two buffers live at once share bytes."""
        bs = [b for b in self.buffers if b.size]
        for i, a in enumerate(bs):
            for b in bs[i + 1:]:
                for p in a.shape():
                    for q in b.shape():
                        if p.size and q.size and meet(p, q):
                            lo_a, lo_b = a.offset + p.rel, b.offset + q.rel
                            assert lo_a + p.size <= lo_b or lo_b + q.size <= lo_a, (a, b)
