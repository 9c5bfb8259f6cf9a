"""Patch-based inference, the stage and its tiles (passes/patch.py has the overview and the choosing):
which ops form a stage, the boxes each tile needs of every stage tensor (receptive fields back through
stride, filter, dilation and padding; folded PADs' explicit padding included), MAC counts, and what
`tinydeploy plan` reports (PatchInfo)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import TinyDeployError
from ..ir import Graph, Op, Tensor
from ..ops import lowering_for
from ..ops.window import Window

SPATIAL = ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")

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

