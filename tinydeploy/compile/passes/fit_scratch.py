"""Kernel scratch against a memory goal: the fast kernel variants buy speed with scratch (im2col fields,
widened rows, padded planes) that the arena must hold. When a plan exceeds PlanOptions.arena_limit,
ops go back to their reference kernels, the most scratch saved first, until the arena fits (or no
variant scratch is left to give back); the trade-off is reported (CompiledModel.kernel_fallbacks).

    options, fallbacks = fit_scratch(g, options)    # options.reference_ops set; [(op, kind, bytes)]
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Graph
from ..model import PlanOptions
from ..ops import kernel_scratch_bytes
from ..plan.arena import plan_arena


def extra_scratch(g: Graph, options: PlanOptions) -> list[tuple[int, int]]:
    """(bytes, op index) of every op whose variant kernel needs more scratch than its reference one."""
    out = []
    for op in g.ops:
        extra = kernel_scratch_bytes(op, g, options.kernels) - kernel_scratch_bytes(op, g, "reference")
        if extra > 0:
            out.append((extra, op.index))
    return sorted(out, key=lambda x: (-x[0], x[1]))


def _live_by_op(g: Graph, plan) -> dict[int, int]:
    """Bytes of the planned buffers alive at each op (a group counted over its whole life)."""
    return {op.index: sum(b.size for b in plan.buffers if b.first_use <= op.index <= b.last_use) for op in g.ops}


def fit_scratch(g: Graph, options: PlanOptions) -> tuple[PlanOptions, list[tuple[int, str, int]]]:
    """options with ops put back on reference kernels until the arena fits options.arena_limit: each
    time the op with variant scratch where the most bytes are live (the peak), and the op list as
    (index, kind, scratch bytes given back). Cheap plans (greedy, against the live-set lower bound)
    choose; the options' own planner confirms, and the loop goes on while it does not fit."""
    extra = {index: bytes_ for bytes_, index in extra_scratch(g, options)}
    chosen: list[int] = []
    for planner in ("greedy", options.planner):
        while True:
            opts = replace(options, planner=planner, reference_ops=tuple(sorted(chosen)))
            plan = plan_arena(g, opts)
            size = plan.lower_bound_bytes if planner == "greedy" else plan.arena_bytes
            left = [k for k in extra if k not in chosen]
            if size <= options.arena_limit or not left:
                break
            live = _live_by_op(g, plan)
            chosen.append(max(left, key=lambda k: (live[k], extra[k], -k)))
    report = [(k, g.ops[k].kind, extra[k]) for k in chosen]
    return replace(options, reference_ops=tuple(sorted(chosen))), report
