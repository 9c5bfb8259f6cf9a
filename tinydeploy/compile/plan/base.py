"""The planner interface: add_buffer(size, first_use, last_use) -> id; plan() -> offsets."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Buffer:
    size: int
    first_use: int  # index of the first op that touches it
    last_use: int  # index of the last op that touches it (inclusive)
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first_use <= other.last_use and other.first_use <= self.last_use


class Planner:
    """Collects buffers, then assigns offsets so that buffers live at the same time never overlap."""

    name = "base"

    def __init__(self, alignment: int = 16) -> None:
        self.alignment = alignment
        self.buffers: list[Buffer] = []

    def add_buffer(self, size: int, first_use: int, last_use: int) -> int:
        if last_use < first_use:
            raise ValueError("last_use before first_use")
        self.buffers.append(Buffer(size=int(size), first_use=int(first_use), last_use=int(last_use)))
        return len(self.buffers) - 1

    def align(self, n: int) -> int:
        return (n + self.alignment - 1) // self.alignment * self.alignment

    def plan(self) -> list[int]:
        """Assign and return offsets, one per buffer in add order."""
        raise NotImplementedError

    @property
    def arena_bytes(self) -> int:
        return max((b.offset + self.align(b.size) for b in self.buffers if b.size), default=0)

    def lower_bound(self) -> int:
        """The most bytes live at any one op: no plan can use less."""
        steps = {t for b in self.buffers for t in (b.first_use, b.last_use)}
        return max((sum(self.align(b.size) for b in self.buffers if b.first_use <= t <= b.last_use)
                    for t in steps), default=0)

    def check(self) -> None:
        """Raise AssertionError when two buffers live at once share bytes."""
        bs = [b for b in self.buffers if b.size]
        for i, a in enumerate(bs):
            for b in bs[i + 1:]:
                if a.overlaps_in_time(b):
                    assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
