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
            busy = sorted((self.buffers[j].offset, self.buffers[j].offset + self.align(self.buffers[j].size))
                          for j in placed if self.buffers[j].overlaps_in_time(buf))
            offset = 0
            for start, end in busy:
                if offset + buf.size <= start:
                    break
                offset = max(offset, end)
            buf.offset = offset
            placed.append(i)
        return [b.offset for b in self.buffers]
