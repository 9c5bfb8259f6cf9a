"""Near-optimal placement with OR-Tools CP-SAT: buffers are rectangles (time x address), no overlap.

Starts from the greedy plan (a hint and an upper bound), so it is never worse than greedy;
with a deterministic budget it returns the best plan found, proven optimal when the solver says so.
OR-Tools crashes in a process that has TensorFlow loaded (their bundled native libraries clash): there
the solve runs in a fresh interpreter (multiprocessing "spawn"), with the same deterministic result.
"""
from __future__ import annotations

import sys

from .base import Buffer, Planner
from .greedy import GreedyBySizePlanner


def _solve_elsewhere(alignment: int, time_limit_s: float, buffers: list[Buffer]) -> tuple[list[int], bool]:
    """ExactPlanner.plan in a child process: (offsets, optimal)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_solve_here, (alignment, time_limit_s, buffers))


def _solve_here(alignment: int, time_limit_s: float, buffers: list[Buffer]) -> tuple[list[int], bool]:
    planner = ExactPlanner(alignment, time_limit_s)
    planner.buffers = buffers
    return planner.plan(), planner.optimal


class ExactPlanner(Planner):
    name = "exact"

    def __init__(self, alignment: int = 16, time_limit_s: float = 2.0) -> None:
        super().__init__(alignment)
        self.time_limit_s = time_limit_s
        self.optimal = False

    def plan(self) -> list[int]:
        greedy = GreedyBySizePlanner(self.alignment)
        greedy.buffers = [type(b)(b.size, b.first_use, b.last_use, parts=list(b.parts)) for b in self.buffers]
        hint = greedy.plan()
        upper = greedy.arena_bytes
        live = [i for i, b in enumerate(self.buffers) if b.size]
        if len(live) <= 1 or upper <= self.lower_bound():
            self.optimal = True
            return self._take(hint)
        if "tensorflow" in sys.modules and "ortools" not in sys.modules:
            offsets, self.optimal = _solve_elsewhere(self.alignment, self.time_limit_s, self.buffers)
            return self._take(offsets)
        try:
            from ortools.sat.python import cp_model
        except ImportError:  # solver missing: greedy is still a correct plan
            return self._take(hint)
        unit = self.alignment
        model = cp_model.CpModel()
        cap = upper // unit
        arena = model.NewIntVar(-(-self.lower_bound() // unit), cap, "arena")
        xs, boxes_x, boxes_t = {}, [], []
        for i in live:
            b = self.buffers[i]
            reach = max(p.rel + self.extent(p) for p in b.shape() if p.size)  # bytes from the offset
            x = model.NewIntVar(0, max(0, (upper - reach) // unit), f"x{i}")  # offset / unit
            xs[i] = x
            for k, p in enumerate(q for q in b.shape() if q.size):
                lo = unit * x + p.rel
                boxes_x.append(model.NewIntervalVar(lo, self.extent(p), lo + self.extent(p), f"ix{i}_{k}"))
                boxes_t.append(model.NewIntervalVar(p.start, p.end - p.start + 1, p.end + 1, f"it{i}_{k}"))
            model.Add(unit * x + reach <= unit * arena)
            model.AddHint(x, hint[i] // unit)
        model.AddNoOverlap2D(boxes_x, boxes_t)
        model.Minimize(arena)
        solver = cp_model.CpSolver()
        # deterministic budget and one worker: the same model always gets the same plan
        solver.parameters.max_deterministic_time = self.time_limit_s
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = 1
        status = solver.Solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or solver.Value(arena) * unit >= upper:
            self.optimal = status == cp_model.OPTIMAL
            return self._take(hint)
        self.optimal = status == cp_model.OPTIMAL
        offsets = list(hint)
        for i in live:
            offsets[i] = solver.Value(xs[i]) * unit
        return self._take(offsets)

    def _take(self, offsets: list[int]) -> list[int]:
        for b, off in zip(self.buffers, offsets):
            b.offset = off if b.size else 0
        return [b.offset for b in self.buffers]
