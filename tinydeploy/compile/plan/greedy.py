"""Greedy-by-size: biggest buffers first, each at the lowest offset that fits (like TFLM's planner)."""
from __future__ import annotations

from .base import Planner


class GreedyBySizePlanner(Planner):
    name = "greedy"

    def plan(self) -> list[int]:
        placed: list[int] = []
        order = sorted(range(len(self.buffers)), key=lambda i: (-self.buffers[i].size, self.buffers[i].first_use))
        for i in order:
            buf = self.buffers[i]
            if buf.size == 0:
                buf.offset = 0
                continue
            busy = sorted(iv for j in placed for iv in self.forbidden(buf, self.buffers[j]))
            offset, moved = 0, True
            while moved:  # the lowest aligned offset in no forbidden range
                moved = False
                for lo, hi in busy:
                    if lo <= offset < hi:
                        offset, moved = self.align(hi), True
            buf.offset = offset
            placed.append(i)
        return [b.offset for b in self.buffers]
