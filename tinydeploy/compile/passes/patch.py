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
from dataclasses import dataclass, field, replace

from ...errors import TinyDeployError
from ..ir import Graph, Op, Tensor
from ..ops import lowering_for
from ..ops.td_place import RegionOptions, is_contiguous_box, region_offset, region_span
from ..ops.window import Window

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
    from_input: bool = False  # the tiles read their boxes straight from a model input outside the arena
    candidates: list[dict] = field(default_factory=list)  # auto: the planned candidates

    @property
    def extra_macs(self) -> int:
        return self.patched_macs - self.macs

    @property
    def macs_overhead(self) -> float:
        return self.patched_macs / self.macs - 1.0 if self.macs else 0.0

    def as_dict(self) -> dict:
        return {"enabled": self.enabled, "split_op": self.split_op, "split_tensor": self.split_tensor,
                "split_shape": list(self.split_shape) if self.split_shape else None,
                "grid": list(self.grid) if self.grid else None, "stage_ops": self.stage_ops,
                "arena_bytes": self.arena_bytes, "unpatched_arena_bytes": self.unpatched_arena_bytes,
                "macs": self.macs, "patched_macs": self.patched_macs, "extra_macs": self.extra_macs,
                "macs_overhead": round(self.macs_overhead, 4), "from_input": self.from_input, "reason": self.reason,
                "candidates": self.candidates}


class PatchError(TinyDeployError):
    pass


# -- the stage ---------------------------------------------------------------------------------
def _is_nhwc1(t: Tensor) -> bool:
    return len(t.shape) == 4 and t.shape[0] == 1 and not t.is_const and t.dtype in ("int8", "int16")


def _acts(op: Op, g: Graph) -> list[int]:
    """The op's activation (non-constant) inputs, without repeats."""
    out: list[int] = []
    for t in op.inputs:
        if t >= 0 and not g.tensors[t].is_const and t not in out:
            out.append(t)
    return out


def _edge_quantize(op: Op, g: Graph) -> bool:
    """A QUANTIZE from a float32 model input outside the arena (an edge, passes/float_edges.py) into an
    int8/int16 batch-1 NHWC tensor whose quantization a quantizing TD_CROP takes."""
    if op.kind != "QUANTIZE" or len(op.inputs) != 1 or op.inputs[0] not in g.external or len(op.outputs) != 1:
        return False
    src, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    q = out.quant
    return (src.dtype == "float32" and _is_nhwc1(out) and src.shape == out.shape and q is not None
            and (q.scale.size == 1 or (q.axis == 3 and q.scale.size == out.shape[3])))


def _op_reason(op: Op, g: Graph, from_input: bool = False) -> str | None:
    """Why op cannot be part of a patched stage (from_input: an edge QUANTIZE may)."""
    if from_input and _edge_quantize(op, g):
        return None
    low = lowering_for(op.kind)
    if low is None or low.check(op, g):
        return f"op {op.index} ({op.kind}) cannot be compiled"
    if op.intermediates or len(op.outputs) != 1 or (op.explicit_padding is not None and op.kind not in SPATIAL):
        return f"op {op.index} ({op.kind}) is not a plain single-output op"  # (a folded PAD's padding is fine)
    out = g.tensors[op.outputs[0]]
    acts = _acts(op, g)
    if not acts or not _is_nhwc1(out) or not all(_is_nhwc1(g.tensors[t]) for t in acts):
        return f"op {op.index} ({op.kind}) is not an int8/int16 batch-1 NHWC op"
    if op.kind in SPATIAL:
        return None if acts == [op.inputs[0]] else f"op {op.index} ({op.kind}) reads a second activation"
    if not low.inplace:
        return f"op {op.index} ({op.kind}) is not a spatial or elementwise op"
    if any(g.tensors[t].shape != out.shape for t in acts):
        return f"op {op.index} ({op.kind}) broadcasts an activation"
    for t in op.inputs:  # constants may broadcast along channels only
        c = g.tensor(t)
        if c is not None and c.is_const and c.size != 1 and any(int(d) != 1 for d in c.shape[:-1]):
            return f"op {op.index} ({op.kind}) has a constant with spatial extent"
    return None


@dataclass
class Stage:
    """The ops that make T, in schedule order, their inputs from outside, and their windows."""

    ops: list[Op]
    inputs: list[int]  # stage inputs S (read by stage ops, made outside the stage)
    output: int  # T
    wins: dict[int, Window | None]  # op index -> window (None: elementwise)


def stage_of(g: Graph, split: int, from_input: bool = False) -> Stage:
    """The largest stage that ends with op `split`'s output; raises PatchError. from_input: it may start
    at a float model input's edge QUANTIZE (see the module doc)."""
    if not 0 <= split < len(g.ops):
        raise PatchError(f"patch split op {split} does not exist (the graph has {len(g.ops)} ops)")
    why = _op_reason(g.ops[split], g)
    if why:
        raise PatchError(f"cannot patch up to op {split}: {why}")
    producer = {t: op for op in g.ops for t in op.outputs}
    readers: dict[int, set[int]] = {}
    for op in g.ops:
        for t in op.inputs:
            readers.setdefault(t, set()).add(op.index)
    members = {split}
    grew = True
    while grew:  # add producers that are patchable and read only by the stage
        grew = False
        for i in sorted(members):
            for t in _acts(g.ops[i], g):
                p = producer.get(t)
                if p is None or p.index in members or t in g.outputs or not readers.get(t, set()) <= members:
                    continue
                if _op_reason(p, g, from_input) is None:
                    members.add(p.index)
                    grew = True
    ops = [g.ops[i] for i in sorted(members)]
    if not any(op.kind in SPATIAL for op in ops):
        raise PatchError(f"cannot patch up to op {split}: the stage has no spatial op")
    made = {op.outputs[0] for op in ops}
    inputs = []
    for op in ops:
        for t in _acts(op, g):
            if t not in made and t not in inputs:
                inputs.append(t)
    wins = {op.index: lowering_for(op.kind).window(op, g) for op in ops}
    return Stage(ops, inputs, g.ops[split].outputs[0], wins)


def _splits(n: int, parts: int) -> list[tuple[int, int]]:
    return [(i * n // parts, (i + 1) * n // parts) for i in range(parts)]


def _back_range(win: Window, axis: int, lo: int, hi: int, size: int) -> tuple[int, int]:
    """Input range [lo, hi) that output range [lo, hi) of a spatial op reads along one axis."""
    f, s, d, p = win.along(axis)
    new_lo = max(0, lo * s - p)
    new_hi = min(size, (hi - 1) * s - p + (f - 1) * d + 1)
    if new_hi <= new_lo:
        raise PatchError("a tile's receptive field lies entirely in the padding")
    return new_lo, new_hi


def _axis_needs(g: Graph, st: Stage, lo: int, hi: int, axis: int) -> dict[int, tuple[int, int]]:
    """Along one axis (0: rows, 1: columns): for output range [lo, hi) of T, the range of every
    stage tensor the tile needs (the hull of what its readers in the stage need)."""
    need = {st.output: (lo, hi)}
    for op in reversed(st.ops):
        o_lo, o_hi = need[op.outputs[0]]
        win = st.wins[op.index]
        for t in _acts(op, g):
            r = (o_lo, o_hi) if win is None else \
                _back_range(win, axis, o_lo, o_hi, g.tensors[t].shape[1 + axis])
            old = need.get(t)
            need[t] = r if old is None else (min(old[0], r[0]), max(old[1], r[1]))
    return need


def _axis_back(chain: list[Op], g: Graph, wins: list, lo: int, hi: int, axis: int) -> list[tuple[int, int, int]]:
    """For a chain of ops: (lo, hi, padding of the clone) of each op's input along one axis, first
    op first, then the output range (padding 0)."""
    st = Stage(list(chain), [chain[0].inputs[0]], chain[-1].outputs[0],
               {op.index: w for op, w in zip(chain, wins)})
    need = _axis_needs(g, st, lo, hi, axis)
    out = []
    for op, w in zip(chain, wins):
        a, b = need[op.inputs[0]]
        pad = 0 if w is None else w[6 + axis] - need[op.outputs[0]][0] * w[2 + axis] + a
        out.append((a, b, pad))
    return out + [(lo, hi, 0)]


@dataclass
class _Tile:
    box: Box  # in T
    boxes: dict[int, Box]  # every stage tensor's box (inputs, intermediates, T)


def _tiles(g: Graph, st: Stage, grid: tuple[int, int]) -> list[_Tile]:
    """The tiles of T in run order (row-major), each with the boxes of all stage tensors."""
    t = g.tensors[st.output]
    if not 1 <= grid[0] <= t.shape[1] or not 1 <= grid[1] <= t.shape[2] or tuple(grid) == (1, 1):
        raise PatchError(f"grid {grid[0]}x{grid[1]} does not fit the {t.shape[1]}x{t.shape[2]} split tensor")
    rows = [_axis_needs(g, st, a, b, 0) for a, b in _splits(t.shape[1], grid[0])]
    cols = [_axis_needs(g, st, a, b, 1) for a, b in _splits(t.shape[2], grid[1])]
    tiles = []
    for r in rows:
        for c in cols:
            boxes = {k: (r[k][0], r[k][1], c[k][0], c[k][1]) for k in r}
            tiles.append(_Tile(boxes[st.output], boxes))
    return tiles


def _nhwc_box(box: Box, channels: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    y0, y1, x0, x1 = box
    return (0, y0, x0, 0), (1, y1 - y0, x1 - x0, channels)


def _area(box: Box) -> int:
    return (box[1] - box[0]) * (box[3] - box[2])


def model_macs(g: Graph) -> int:
    return sum(lowering_for(op.kind).macs(op, g) for op in g.ops)


# -- the rewrite -------------------------------------------------------------------------------
def apply_patch(g: Graph, split: int, grid: tuple[int, int], share: bool = True,
                from_input: bool = False) -> tuple[Graph, PatchInfo]:
    """A copy of g whose stage up to op `split` runs as a grid of tiles. Raises PatchError."""
    st = stage_of(g, split, from_input)
    T = g.tensors[st.output]
    tiles = _tiles(g, st, grid)
    tensors = list(g.tensors)
    in_stage = {op.index for op in st.ops}
    tile_ops: list[Op] = []
    views: list[tuple[int, int, int]] = []
    # edge QUANTIZEs of the stage: each tile quantizes its box of the caller's floats (a quantizing TD_CROP)
    fused = {op.inputs[0]: op for op in st.ops if _edge_quantize(op, g)}

    def new_tensor(like: Tensor, box: Box, tag: str) -> int:
        shape = (1, box[1] - box[0], box[3] - box[2], like.shape[3])
        tensors.append(Tensor(len(tensors), f"{like.name}/{tag}", shape, like.dtype, quant=like.quant))
        return len(tensors) - 1

    for k, tile in enumerate(tiles):
        tag = f"patch{k}"
        patch: dict[int, int] = {}  # stage tensor -> its patch in this tile
        for s_id in st.inputs:
            S = g.tensors[s_id]
            begin, size = _nhwc_box(tile.boxes[s_id], S.shape[3])
            made = fused[s_id].outputs[0] if s_id in fused else s_id  # the QUANTIZE's box is its input's
            patch[made] = new_tensor(g.tensors[made], tile.boxes[s_id], tag)
            tile_ops.append(Op(-1, "TD_CROP", [s_id], [patch[made]], RegionOptions(begin, size)))
            if s_id not in g.external and is_contiguous_box(S.shape, begin, size):
                views.append((s_id, patch[s_id], -region_offset(S.shape, begin) * S.itemsize))
        for op in st.ops:
            if op.inputs[0] in fused:
                continue
            out_t = op.outputs[0]
            out_box = tile.boxes[out_t]
            win = st.wins[op.index]
            inputs = list(op.inputs)
            for i, t in enumerate(op.inputs):
                if t < 0 or g.tensors[t].is_const:
                    continue
                src, box = patch[t], tile.boxes[t]
                if win is None and box != out_box:  # elementwise: crop the part it needs
                    src_t = tensors[src]
                    begin = (0, out_box[0] - box[0], out_box[2] - box[2], 0)
                    size = (1, out_box[1] - out_box[0], out_box[3] - out_box[2], src_t.shape[3])
                    sub = new_tensor(g.tensors[t], out_box, tag + "c")
                    tile_ops.append(Op(-1, "TD_CROP", [src], [sub], RegionOptions(begin, size)))
                    if is_contiguous_box(src_t.shape, begin, size):
                        views.append((src, sub, -region_offset(src_t.shape, begin) * src_t.itemsize))
                    src = sub
                inputs[i] = src
            pad = None
            if win is not None:
                in_box = tile.boxes[op.inputs[0]]
                pad = (win.pad_h - out_box[0] * win.stride_h + in_box[0],
                       win.pad_w - out_box[2] * win.stride_w + in_box[2])
            patch[out_t] = new_tensor(g.tensors[out_t], out_box, tag)
            tile_ops.append(replace(op, index=-1, inputs=inputs, outputs=[patch[out_t]], intermediates=[],
                                    explicit_padding=pad))
        begin, size = _nhwc_box(tile.box, T.shape[3])
        tile_ops.append(Op(-1, "TD_PLACE", [patch[st.output]], [st.output], RegionOptions(begin, size)))
        if is_contiguous_box(T.shape, begin, size):
            views.append((st.output, patch[st.output], -region_offset(T.shape, begin) * T.itemsize))

    ops: list[Op] = []
    for op in g.ops:
        if op.index == split:
            ops.extend(tile_ops)
        elif op.index not in in_stage:
            ops.append(op)
    ops = [replace(op, index=i) for i, op in enumerate(ops)]
    shared: list[tuple[int, int, int]] = []
    if share:
        d = _stage_overlap(g, st, tiles)
        if d is not None:
            shared.append((st.inputs[0], st.output, d))
        shared.extend(views)
    out = replace(g, tensors=tensors, ops=ops, shared=list(g.shared) + shared)
    info = PatchInfo(enabled=True, split_op=split, split_tensor=T.name, split_shape=tuple(T.shape), grid=grid,
                     stage_ops=len(st.ops), macs=model_macs(g), patched_macs=model_macs(out),
                     from_input=any(s in g.external for s in st.inputs))
    return out, info


def _stage_overlap(g: Graph, st: Stage, tiles: list[_Tile]) -> int | None:
    """Bytes D such that T may start D bytes before S (the one stage input, read by nothing else)
    in one buffer: what tile k writes into T ends before the first byte of S that a later tile
    reads, for every k (tiles run in order). When an op of the stage reads S and writes T, it may
    do so while reading a view of S: then tile k's own reads count too. None: no sharing."""
    if len(st.inputs) != 1 or st.inputs[0] in g.outputs or st.inputs[0] in g.external:
        return None
    s_id = st.inputs[0]
    stage_idx = {op.index for op in st.ops}
    if any(op.index not in stage_idx and s_id in op.inputs for op in g.ops):
        return None
    S, T = g.tensors[s_id], g.tensors[st.output]
    reads = [region_span(S.shape, *_nhwc_box(t.boxes[s_id], S.shape[3]))[0] * S.itemsize for t in tiles]
    writes = [region_span(T.shape, *_nhwc_box(t.box, T.shape[3]))[1] * T.itemsize for t in tiles]
    last = next(op for op in st.ops if op.outputs[0] == st.output)
    own = 0 if s_id in last.inputs else 1
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
