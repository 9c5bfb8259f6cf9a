"""Patch-based inference (MCUNetV2): run the first, memory-heavy stage of a CNN tile by tile.

The stage is a chain of spatial ops (CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D and
single-input elementwise ops) from a stage input S (the graph input) to a split tensor T. T is
cut into a grid of ph x pw tiles; each tile's region is propagated back through the stage
(stride, filter, dilation, padding: the receptive field, halos overlap and are recomputed) and
the graph is rewritten so that, per tile, the stage runs on small patch tensors:

    TD_CROP(S -> region of S) -> clone of op 1 -> ... -> clone of op k -> TD_PLACE(tile -> T)

Each clone carries an explicit (top, left) padding, region_start - out_start * stride + pad: 0
inside the image, the real padding at the borders; the kernels' bounds checks against the
region's height/width then reproduce the image border exactly, so results stay bit-exact.
The planner sees the patch tensors' short lifetimes, so the stage's peak is S + T + one tile's
buffers instead of its two largest feature maps. With sharing on, T is also put over the rows of
S that no later tile reads (Graph.shared), and tiles whose box is contiguous (full-width bands)
are stored in place in S / T (views: no copy).

`--patch auto` tries every valid split and grid (1..8 x 1..8 tiles), keeps those within the MAC
budget, estimates each one's peak, plans the most promising ones and picks the smallest arena
(fewest extra MACs on ties); patching is left off unless it saves at least 3% of the arena.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..errors import TinyDeployError
from ..ir import Graph, Op, Tensor
from ..ops import lowering_for
from ..ops.td_place import RegionOptions, is_contiguous_box, region_offset, region_span

SPATIAL = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
MAX_GRID = 8
#: candidates planned for real by --patch auto (the rest are ranked by the estimate only)
PLANNED_CANDIDATES = 8
#: --patch auto keeps patching off unless it makes the arena at least this much smaller (tiles cost
#: copies and calls that the MAC count does not show)
MIN_GAIN = 0.03

Box = tuple[int, int, int, int]  # rows [y0, y1), columns [x0, x1)


@dataclass
class PatchInfo:
    """What the patch pass did (shown by `tinydeploy plan`)."""

    enabled: bool = False
    split_op: int | None = None  # index of the op whose output is T (schedule before patching)
    split_tensor: str | None = None
    split_shape: tuple[int, ...] | None = None
    grid: tuple[int, int] | None = None
    stage_ops: int = 0
    macs: int = 0  # whole model, without patching
    patched_macs: int = 0  # whole model, with patching
    arena_bytes: int | None = None  # arena of the plan with patching (filled by compile_graph)
    unpatched_arena_bytes: int | None = None  # same planner, no patching (auto only)
    reason: str = ""  # why patching is off, or how it was chosen
    candidates: list[dict] = field(default_factory=list)  # auto: the planned candidates

    @property
    def macs_overhead(self) -> float:
        return self.patched_macs / self.macs - 1.0 if self.macs else 0.0

    def as_dict(self) -> dict:
        return {"enabled": self.enabled, "split_op": self.split_op, "split_tensor": self.split_tensor,
                "split_shape": list(self.split_shape) if self.split_shape else None,
                "grid": list(self.grid) if self.grid else None, "stage_ops": self.stage_ops,
                "arena_bytes": self.arena_bytes, "unpatched_arena_bytes": self.unpatched_arena_bytes,
                "macs": self.macs, "patched_macs": self.patched_macs,
                "macs_overhead": round(self.macs_overhead, 4), "reason": self.reason,
                "candidates": self.candidates}


class PatchError(TinyDeployError):
    pass


# -- the stage ---------------------------------------------------------------------------------
def _window(op: Op, g: Graph) -> tuple[int, int, int, int, int, int, int, int] | None:
    """(filter_h, filter_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left) of a spatial op."""
    low = lowering_for(op.kind)
    o = op.options
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        _, w, _, _, _, ph, pw = low._geometry(op, g)
        return (w.shape[1], w.shape[2], int(o.strideH), int(o.strideW), int(o.dilationHFactor),
                int(o.dilationWFactor), ph, pw)
    if op.kind in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        geo = low._geometry(op, g)
        return (geo["filter_height"], geo["filter_width"], geo["stride_height"], geo["stride_width"], 1, 1,
                geo["pad_height"], geo["pad_width"])
    return None


def _is_nhwc1(t: Tensor) -> bool:
    return len(t.shape) == 4 and t.shape[0] == 1 and not t.is_const


def _op_reason(op: Op, g: Graph) -> str | None:
    """Why op cannot be part of a patched stage."""
    low = lowering_for(op.kind)
    if low is None or low.check(op, g):
        return f"op {op.index} ({op.kind}) cannot be compiled"
    if op.explicit_padding is not None or op.intermediates or len(op.outputs) != 1:
        return f"op {op.index} ({op.kind}) is not a plain single-output op"
    acts = [t for t in op.inputs if t >= 0 and not g.tensors[t].is_const]
    if acts != [op.inputs[0]]:
        return f"op {op.index} ({op.kind}) has more than one activation input"
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if not _is_nhwc1(inp) or not _is_nhwc1(out):
        return f"op {op.index} ({op.kind}) is not a batch-1 NHWC op"
    if inp.dtype not in ("int8", "int16") or out.dtype not in ("int8", "int16"):
        return f"op {op.index} ({op.kind}) does not compute on int8/int16"
    if op.kind in SPATIAL:
        return None
    if low.inplace and tuple(inp.shape) == tuple(out.shape):
        return None  # single-input elementwise op (activation, requantize)
    return f"op {op.index} ({op.kind}) is not a spatial or elementwise op"


def stage_chain(g: Graph, split: int) -> list[Op]:
    """The ops from the stage input to op `split` (inclusive), in order; raises PatchError."""
    if not 0 <= split < len(g.ops):
        raise PatchError(f"patch split op {split} does not exist (the graph has {len(g.ops)} ops)")
    why = _op_reason(g.ops[split], g)
    if why:
        raise PatchError(f"cannot patch up to op {split}: {why}")
    producer = {t: op for op in g.ops for t in op.outputs}
    readers: dict[int, list[int]] = {}
    for op in g.ops:
        for t in set(op.inputs):
            readers.setdefault(t, []).append(op.index)
    chain = [g.ops[split]]
    while True:  # extend back while the producer is patchable and only the chain reads its output
        prev = producer.get(chain[0].inputs[0])
        if prev is None or _op_reason(prev, g) or prev.outputs[0] in g.outputs or \
                readers.get(prev.outputs[0]) != [chain[0].index]:
            break
        chain.insert(0, prev)
    if not any(op.kind in SPATIAL for op in chain):
        raise PatchError(f"cannot patch up to op {split}: the stage has no spatial op")
    return chain


def _splits(n: int, parts: int) -> list[tuple[int, int]]:
    return [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]


def _axis_back(chain: list[Op], g: Graph, wins: list, lo: int, hi: int, axis: int) -> list[tuple[int, int, int]]:
    """Along one axis (0: rows, 1: columns), for output range [lo, hi) of the last stage op: the
    input range [lo, hi) of each stage op and the padding of its clone (first op first), then
    the output range itself (padding 0)."""
    out = [(lo, hi, 0)]
    for op, win in zip(reversed(chain), reversed(wins)):
        if win is None:  # elementwise: same range
            out.insert(0, (lo, hi, 0))
            continue
        f, s, d, p = win[axis], win[2 + axis], win[4 + axis], win[6 + axis]
        size = g.tensors[op.inputs[0]].shape[1 + axis]
        new_lo = max(0, lo * s - p)
        new_hi = min(size, (hi - 1) * s - p + (f - 1) * d + 1)
        if new_hi <= new_lo:
            raise PatchError("a tile's receptive field lies entirely in the padding")
        out.insert(0, (new_lo, new_hi, p - lo * s + new_lo))
        lo, hi = new_lo, new_hi
    return out


@dataclass
class _Tile:
    box: Box  # in T
    boxes: list[Box]  # input box of each stage op (boxes[0]: the box of S)
    pads: list[tuple[int, int] | None]


def _tiles(g: Graph, chain: list[Op], grid: tuple[int, int], wins: list | None = None) -> list[_Tile]:
    """The tiles of T in run order (row-major), each with the boxes its stage ops read."""
    t = g.tensors[chain[-1].outputs[0]]
    if not 1 <= grid[0] <= t.shape[1] or not 1 <= grid[1] <= t.shape[2] or tuple(grid) == (1, 1):
        raise PatchError(f"grid {grid[0]}x{grid[1]} does not fit the {t.shape[1]}x{t.shape[2]} split tensor")
    wins = wins if wins is not None else [_window(op, g) for op in chain]
    rows = [_axis_back(chain, g, wins, a, b, 0) for a, b in _splits(t.shape[1], grid[0])]
    cols = [_axis_back(chain, g, wins, a, b, 1) for a, b in _splits(t.shape[2], grid[1])]
    tiles = []
    for r in rows:
        for c in cols:
            boxes = [(y0, y1, x0, x1) for (y0, y1, _), (x0, x1, _) in zip(r, c)]
            pads = [None if w is None else (py, px) for w, (_, _, py), (_, _, px) in zip(wins, r, c)]
            tiles.append(_Tile(boxes[-1], boxes[:-1], pads))
    return tiles


def _nhwc_box(box: Box, channels: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    y0, y1, x0, x1 = box
    return (0, y0, x0, 0), (1, y1 - y0, x1 - x0, channels)


def model_macs(g: Graph) -> int:
    return sum(lowering_for(op.kind).macs(op, g) for op in g.ops)


# -- the rewrite -------------------------------------------------------------------------------
def apply_patch(g: Graph, split: int, grid: tuple[int, int], share: bool = True) -> tuple[Graph, PatchInfo]:
    """A copy of g whose stage up to op `split` runs as a grid of tiles. Raises PatchError."""
    chain = stage_chain(g, split)
    s_id, t_id = chain[0].inputs[0], chain[-1].outputs[0]
    S, T = g.tensors[s_id], g.tensors[t_id]
    tiles = _tiles(g, chain, grid)
    tensors = list(g.tensors)
    in_chain = {op.index for op in chain}
    tile_ops: list[Op] = []
    shared: list[tuple[int, int, int]] = []
    views: list[tuple[int, int, int]] = []

    def new_tensor(like: Tensor, box: Box, tag: str) -> int:
        shape = (1, box[1] - box[0], box[3] - box[2], like.shape[3])
        tensors.append(Tensor(len(tensors), f"{like.name}/{tag}", shape, like.dtype, quant=like.quant))
        return len(tensors) - 1

    for k, tile in enumerate(tiles):
        tag = f"patch{k}"
        begin, size = _nhwc_box(tile.boxes[0], S.shape[3])
        cur = new_tensor(S, tile.boxes[0], tag)
        tile_ops.append(Op(-1, "TD_CROP", [s_id], [cur], RegionOptions(begin, size)))
        if is_contiguous_box(S.shape, begin, size):
            views.append((s_id, cur, -region_offset(S.shape, begin) * S.itemsize))
        for j, op in enumerate(chain):
            out_box = tile.boxes[j + 1] if j + 1 < len(chain) else tile.box
            out = new_tensor(g.tensors[op.outputs[0]], out_box, tag)
            tile_ops.append(replace(op, index=-1, inputs=[cur] + list(op.inputs[1:]), outputs=[out],
                                    intermediates=[], explicit_padding=tile.pads[j]))
            cur = out
        begin, size = _nhwc_box(tile.box, T.shape[3])
        tile_ops.append(Op(-1, "TD_PLACE", [cur], [t_id], RegionOptions(begin, size)))
        if is_contiguous_box(T.shape, begin, size):
            views.append((t_id, cur, -region_offset(T.shape, begin) * T.itemsize))

    ops: list[Op] = []
    for op in g.ops:
        if op.index == split:
            ops.extend(tile_ops)
        elif op.index not in in_chain:
            ops.append(op)
    ops = [replace(op, index=i) for i, op in enumerate(ops)]
    if share:
        d = _stage_overlap(g, S, T, tiles, len(chain))
        if d is not None and s_id not in g.outputs and [c.index for c in g.consumers(s_id)] == [chain[0].index]:
            shared.append((s_id, t_id, d))
        shared.extend(views)
    out = replace(g, tensors=tensors, ops=ops, shared=list(g.shared) + shared)
    info = PatchInfo(enabled=True, split_op=split, split_tensor=T.name, split_shape=tuple(T.shape), grid=grid,
                     stage_ops=len(chain), macs=model_macs(g), patched_macs=model_macs(out))
    return out, info


def _stage_overlap(g: Graph, S: Tensor, T: Tensor, tiles: list[_Tile], stage_ops: int) -> int | None:
    """Bytes D such that T may start D bytes before S in one buffer: what tile k writes into T ends
    before the first byte of S that a later tile reads, for every k (tiles run in order). With a
    one-op stage, the op may read S (a view) while it writes T: then tile k's own reads count too."""
    reads = [region_span(S.shape, *_nhwc_box(t.boxes[0], S.shape[3]))[0] * S.itemsize for t in tiles]
    writes = [region_span(T.shape, *_nhwc_box(t.box, T.shape[3]))[1] * T.itemsize for t in tiles]
    own = 0 if stage_ops == 1 else 1
    d = 0
    for k in range(len(tiles) - own):
        d = max(d, writes[k] - min(reads[k + own:]))
    align = max(S.itemsize, T.itemsize, 4)
    d = (d + align - 1) // align * align
    if d + S.nbytes >= S.nbytes + T.nbytes:  # sharing would save nothing
        return None
    return d


# -- choosing ----------------------------------------------------------------------------------
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


def valid_splits(g: Graph) -> list[int]:
    out = []
    for op in g.ops:
        try:
            stage_chain(g, op.index)
        except PatchError:
            continue
        out.append(op.index)
    return out


def _estimate(g: Graph, chain: list[Op], tiles: list[_Tile], post_arena: int, shift: int | None) -> int:
    """Cheap peak estimate: S and T (or S plus the shift when T goes over consumed rows of S) plus
    the largest input + output (+ scratch) of any tile op, or the arena after the stage."""
    S, T = g.tensors[chain[0].inputs[0]], g.tensors[chain[-1].outputs[0]]
    base = S.nbytes + shift if shift is not None else S.nbytes + T.nbytes
    chans = [S] + [g.tensors[op.outputs[0]] for op in chain]
    work = 0
    for tile in tiles:
        boxes = tile.boxes + [tile.box]
        nb = [(b[1] - b[0]) * (b[3] - b[2]) * t.shape[3] * t.itemsize for b, t in zip(boxes, chans)]
        work = max(work, max(a + b for a, b in zip(nb, nb[1:])))
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


def patch_graph(g: Graph, options) -> tuple[Graph, PatchInfo]:
    """Apply options.patch ('off', 'auto' or 'SPLIT:PHxPW') to g."""
    spec = parse_patch(options.patch)
    if spec == "off":
        return g, PatchInfo(reason="off")
    share = options.inplace
    if spec != "auto":
        split, grid = spec
        g2, info = apply_patch(g, split, grid, share)
        info.reason = "forced"
        return g2, info
    return _auto(g, options)


def _auto(g: Graph, options) -> tuple[Graph, PatchInfo]:
    from ..plan.arena import plan_arena

    greedy = replace(options, planner="greedy", patch="off")
    base_arena = plan_arena(g, greedy).arena_bytes
    macs = model_macs(g)
    info = PatchInfo(macs=macs, patched_macs=macs, unpatched_arena_bytes=base_arena)
    wins: dict[int, object] = {}
    op_macs: dict[int, int] = {}
    ranked = []
    splits = valid_splits(g)
    if not splits:
        info.reason = "no patchable stage (a chain of conv/depthwise/pooling ops on batch-1 NHWC tensors)"
        return g, info
    for split in splits:
        chain = stage_chain(g, split)
        for op in chain:
            if op.index not in wins:
                wins[op.index] = _window(op, g)
                op_macs[op.index] = lowering_for(op.kind).macs(op, g)
        chain_wins = [wins[op.index] for op in chain]
        S, T = g.tensors[chain[0].inputs[0]], g.tensors[chain[-1].outputs[0]]
        post = _post_stage_arena(g, split, greedy)
        for ph in range(1, min(MAX_GRID, T.shape[1]) + 1):
            for pw in range(1, min(MAX_GRID, T.shape[2]) + 1):
                if (ph, pw) == (1, 1):
                    continue
                try:
                    tiles = _tiles(g, chain, (ph, pw), chain_wins)
                except PatchError:
                    continue
                extra = _stage_extra_macs(g, chain, tiles, op_macs)
                if extra > options.patch_budget * macs:
                    continue
                shift = _stage_overlap(g, S, T, tiles, len(chain)) if options.inplace else None
                est = _estimate(g, chain, tiles, post, shift)
                ranked.append((est, extra, ph * pw, split, (ph, pw)))
    if not ranked:
        info.reason = f"no split point and grid within the MAC budget (+{options.patch_budget:.0%})"
        return g, info
    ranked.sort()
    best: tuple[int, int, Graph, PatchInfo] | None = None
    for est, extra, _, split, grid in ranked[:PLANNED_CANDIDATES]:
        g2, cand = apply_patch(g, split, grid, options.inplace)
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


def _stage_extra_macs(g: Graph, chain: list[Op], tiles: list[_Tile], op_macs: dict[int, int] | None = None) -> int:
    """MACs the tiles compute beyond the stage itself (recomputed halos)."""
    extra = 0
    for j, op in enumerate(chain):
        out = g.tensors[op.outputs[0]]
        full = op_macs[op.index] if op_macs else lowering_for(op.kind).macs(op, g)
        per_pixel = full // max(out.shape[1] * out.shape[2], 1)
        pixels = 0
        for tile in tiles:
            b = tile.boxes[j + 1] if j + 1 < len(chain) else tile.box
            pixels += (b[1] - b[0]) * (b[3] - b[2])
        extra += per_pixel * pixels - full
    return extra
