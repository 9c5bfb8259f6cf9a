"""Patch-based inference (MCUNetV2): run the first, memory-heavy stage of a CNN tile by tile.

The stage is the set of ops that produce a split tensor T from one or more stage inputs S
(usually the graph input): spatial ops (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D) and
elementwise ops (activations, requantization, and ADD/SUB/MUL/MAXIMUM/MINIMUM of same-shape
tensors, so residual blocks are included), every intermediate tensor read only inside the stage.
T is cut into a grid of ph x pw tiles; each tile's box is propagated back through the stage
(stride, filter, dilation, padding: the receptive field; a tensor read by several ops gets the
bounding box of what they need; halos overlap and are recomputed) and the graph is rewritten so
that, per tile, the stage runs on small patch tensors:

    TD_CROP(S -> box of S) -> clones of the stage ops on patches -> TD_PLACE(tile -> T)

Each spatial clone carries an explicit (top, left) padding, input_box_start - out_start * stride +
pad: 0 inside the image, the real padding at the borders (negative when its input patch starts
before the first row it reads); the kernels' bounds checks against the patch's height/width then
reproduce the image border exactly, so results stay bit-exact. An elementwise op whose input
patch is larger than its output gets a TD_CROP of the part it needs. The planner sees the patch
tensors' short lifetimes, so the stage's peak is S + T + one tile's buffers instead of its two
largest feature maps. With sharing on, T is also put over the rows of S that no later tile reads
(Graph.shared), and boxes that are contiguous (full-width bands) are stored in place in S / T
(views: no copy).

From the input (PlanOptions.input_outside_arena, `from_input`): S may be a model input that stays in the
caller's buffer (Graph.external), so the whole input never sits in the arena: an int8/int16 input is
cropped from there tile by tile, and a float32 input's edge QUANTIZE (elementwise: its box is its
output's) joins the stage as a quantizing TD_CROP, which reads just the tile's box of the caller's
floats into the tile's integer patch.

`--patch auto` tries every valid split and grid (1..8 x 1..8 tiles), keeps those within the MAC
budget, estimates each one's peak, plans the most promising ones and picks the smallest arena
(fewest extra MACs on ties); patching is left off unless it saves at least 3% of the arena.
"""
from __future__ import annotations

import re
from dataclasses import replace

from ...errors import TinyDeployError
from ..ir import Graph, Op, Tensor  # noqa: F401  (re-exported: the tests build graphs with them)
from ..ops import lowering_for

# the stage, its tiles and the rewrite live in patch_stage.py / patch_rewrite.py; re-exported here
from .patch_rewrite import _stage_overlap, apply_patch  # noqa: F401
from .patch_stage import (  # noqa: F401
    SPATIAL,
    PatchError,
    PatchInfo,
    Stage,
    _acts,
    _area,
    _axis_back,
    _Tile,
    _tiles,
    model_macs,
    stage_of,
)

MAX_GRID = 8
#: candidates planned for real by --patch auto (the rest are ranked by the estimate only)
PLANNED_CANDIDATES = 8
#: --patch auto keeps patching off unless it makes the arena at least this much smaller (tiles cost
#: copies and calls that the MAC count does not show)
MIN_GAIN = 0.03


_FORCED = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*x\s*(\d+)\s*$")


def parse_patch(spec: str) -> str | tuple[int, tuple[int, int]]:
    """'off' | 'auto' | (split op, (ph, pw)) from 'SPLIT:PHxPW'; raises TinyDeployError."""
    s = (spec or "off").strip().lower()
    if s in ("off", "auto"):
        return s
    m = _FORCED.match(s)
    if not m:
        raise TinyDeployError(f"unknown --patch value {spec!r}",
                              "use off, auto, or SPLIT_OP:PHxPW (e.g. 7:3x3 to tile op 7's output 3x3)")
    return int(m.group(1)), (int(m.group(2)), int(m.group(3)))


def valid_splits(g: Graph, from_input: bool = False) -> list[int]:
    out = []
    for op in g.ops:
        try:
            stage_of(g, op.index, from_input)
        except PatchError:
            continue
        out.append(op.index)
    return out


def _estimate(g: Graph, st: Stage, tiles: list[_Tile], post_arena: int, shift: int | None) -> int:
    """Cheap peak estimate: S and T (or S plus the shift when T goes over consumed rows of S) plus
    the largest sum of patches live at once in any tile, or the arena before/after the stage."""
    T = g.tensors[st.output]
    base = sum(g.tensors[s].nbytes for s in st.inputs if s not in g.external) + \
        (shift if shift is not None else T.nbytes)
    made_at = {t: -1 for t in st.inputs}
    last_read: dict[int, int] = {}
    for j, op in enumerate(st.ops):
        made_at[op.outputs[0]] = j
        for t in _acts(op, g):
            last_read[t] = j
    # per op j: the stage tensors whose patches are live while it runs
    live = [[t for t, m in made_at.items() if m <= j and (m == j or last_read.get(t, -1) >= j)]
            for j in range(len(st.ops))]
    unit = {t: g.tensors[t].shape[3] * g.tensors[t].itemsize for tile in tiles[:1] for t in tile.boxes}
    for t in st.inputs:  # a float input's patch is never made: the quantizing crop writes the integer one
        if t in g.external and g.tensors[t].dtype == "float32":
            unit[t] = 0
    work = 0
    for tile in tiles:
        for ts in live:
            work = max(work, sum(_area(tile.boxes[t]) * unit[t] for t in ts))
    return max(base + work, post_arena)


def _post_stage_arena(g: Graph, split: int, options) -> int:
    """Arena of the ops after `split` alone (the tensors they read from before it as inputs)."""
    from ..plan.arena import plan_arena

    ops = [replace(op, index=i) for i, op in enumerate(g.ops[split + 1:])]
    if not ops:
        return sum(g.tensors[t].nbytes for t in g.outputs)
    made = {t for op in ops for t in op.outputs}
    ins = []
    for op in ops:
        for t in op.inputs:
            if t >= 0 and not g.tensors[t].is_const and t not in made and t not in ins:
                ins.append(t)
    return plan_arena(replace(g, ops=ops, inputs=ins, shared=[]), options).arena_bytes


def _pre_stage_arena(g: Graph, first: int, options) -> int:
    """Arena of the ops before op `first` alone (what they make for later ops as outputs)."""
    from ..plan.arena import plan_arena

    ops = g.ops[:first]
    if not ops:
        return 0
    made = {t for op in ops for t in op.outputs}
    later = {t for op in g.ops[first:] for t in op.inputs} | set(g.outputs)
    outs = [t for t in made if t in later]
    return plan_arena(replace(g, ops=list(ops), outputs=outs, shared=[]), options).arena_bytes


def patch_graph(g: Graph, options) -> tuple[Graph, PatchInfo]:
    """Apply options.patch ('off', 'auto' or 'SPLIT:PHxPW') to g."""
    spec = parse_patch(options.patch)
    if spec == "off":
        return g, PatchInfo(reason="off")
    if spec != "auto":
        split, grid = spec
        g2, info = apply_patch(g, split, grid, options.inplace, _from_input(options))
        info.reason = "forced"
        return g2, info
    return _auto(g, options)


def _from_input(options) -> bool:
    return bool(getattr(options, "input_outside_arena", False))


def _auto(g: Graph, options) -> tuple[Graph, PatchInfo]:
    from ..plan.arena import plan_arena

    greedy = replace(options, planner="greedy", patch="off")
    base_arena = plan_arena(g, greedy).arena_bytes
    macs = model_macs(g)
    info = PatchInfo(macs=macs, patched_macs=macs, unpatched_arena_bytes=base_arena)
    op_macs = {op.index: lowering_for(op.kind).macs(op, g) for op in g.ops}
    ranked = []
    from_input = _from_input(options)
    splits = valid_splits(g, from_input)
    if not splits:
        info.reason = "no patchable stage (conv/depthwise/pooling/elementwise ops on batch-1 NHWC tensors)"
        return g, info
    for split in splits:
        st = stage_of(g, split, from_input)
        T = g.tensors[st.output]
        post = max(_post_stage_arena(g, split, greedy), _pre_stage_arena(g, st.ops[0].index, greedy))
        for ph in range(1, min(MAX_GRID, T.shape[1]) + 1):
            for pw in range(1, min(MAX_GRID, T.shape[2]) + 1):
                if (ph, pw) == (1, 1):
                    continue
                try:
                    tiles = _tiles(g, st, (ph, pw))
                except PatchError:
                    continue
                extra = _stage_extra_macs(g, st, tiles, op_macs)
                if extra > options.patch_budget * macs:
                    continue
                shift = _stage_overlap(g, st, tiles) if options.inplace else None
                est = _estimate(g, st, tiles, post, shift)
                ranked.append((est, extra, ph * pw, split, (ph, pw)))
    if not ranked:
        info.reason = f"no split point and grid within the MAC budget (+{options.patch_budget:.0%})"
        return g, info
    ranked.sort()
    best: tuple[int, int, Graph, PatchInfo] | None = None
    for est, extra, _, split, grid in ranked[:PLANNED_CANDIDATES]:
        g2, cand = apply_patch(g, split, grid, options.inplace, from_input)
        arena = plan_arena(g2, greedy).arena_bytes
        info.candidates.append({"split_op": split, "grid": list(grid), "estimate_bytes": est,
                                "arena_bytes": arena, "macs_overhead": round(cand.macs_overhead, 4)})
        if best is None or (arena, cand.patched_macs) < (best[0], best[1]):
            best = (arena, cand.patched_macs, g2, cand)
    assert best is not None
    if best[0] > (1.0 - MIN_GAIN) * base_arena:
        info.reason = (f"no candidate is {MIN_GAIN:.0%} smaller than the plain plan ({base_arena:,} B; best "
                       f"{best[0]:,} B)")
        return g, info
    g2, cand = best[2], best[3]
    cand.unpatched_arena_bytes = base_arena
    cand.candidates = info.candidates
    cand.reason = (f"auto: smallest of {len(ranked)} candidates within +{options.patch_budget:.0%} MACs "
                   f"({len(info.candidates)} planned)")
    return g2, cand


def _stage_extra_macs(g: Graph, st: Stage, tiles: list[_Tile], op_macs: dict[int, int] | None = None) -> int:
    """MACs the tiles compute beyond the stage itself (recomputed halos)."""
    extra = 0
    for op in st.ops:
        out = g.tensors[op.outputs[0]]
        full = op_macs[op.index] if op_macs else lowering_for(op.kind).macs(op, g)
        per_pixel = full // max(out.shape[1] * out.shape[2], 1)
        extra += per_pixel * sum(_area(tile.boxes[op.outputs[0]]) for tile in tiles) - full
    return extra
