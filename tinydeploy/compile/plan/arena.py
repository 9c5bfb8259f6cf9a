"""Arena planning for a graph: lifetimes, views and in-place ops, scratch, then a Planner.

Tensors that may share storage form groups: RESHAPE-like ops make their output a view of the
input; elementwise ops whose lowering is `inplace` write over input 0 when nothing reads it later;
ops with an in-place kernel (depthwise, 1x1 conv) do the same with a small temp buffer.
Each group and each op's scratch becomes one planner buffer.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..ir import Graph
from ..model import PlanOptions
from ..ops import kernel_inplace_temp_bytes, kernel_scratch_bytes, lowering_for
from . import make_planner
from .lifetimes import tensor_lifetimes
from .parts import group_parts


@dataclass
class PlannedBuffer:
    label: str  # "t12" / "t12+t13" (group) / "scratch op 4"
    size: int
    first_use: int
    last_use: int
    offset: int
    tensors: list[int] = field(default_factory=list)
    scratch_of: int | None = None


@dataclass
class ArenaPlan:
    options: PlanOptions
    buffers: list[PlannedBuffer]
    tensor_offsets: dict[int, int]
    scratch_offsets: dict[int, int]
    arena_bytes: int
    lower_bound_bytes: int
    scratch_bytes: int  # the largest scratch buffer of any op
    io_bytes: int  # graph input + output bytes in the arena (float edges outside it not counted)
    inplace_ops: dict[int, int]  # op index -> temp bytes of its in-place kernel (0: elementwise)
    optimal: bool = False


def _alias_groups(g: Graph, spans: dict[int, tuple[int, int]], enabled: bool, overlap: bool = True,
                  kernels: str | PlanOptions = "reference"
                  ) -> tuple[dict[int, int], dict[int, int], dict[int, int], list]:
    """Tensor -> group root; tensor -> byte offset inside its group; op -> temp bytes of in-place ops;
    the links [(src, dst, op)].

    Views and in-place ops put the output at the input's offset; row-streaming ops (overlap_bytes)
    put it D bytes before the input, shifting the whole group when that would go below 0. In-place
    and row-streaming joins are links: dst is written at op while src is consumed, so the two are
    separate parts of the group's buffer in time (base.Part); views and patch sharing are one part.
    """
    parent = {t: t for t in spans}
    rel = {t: 0 for t in spans}

    def find(t: int) -> int:
        while parent[t] != t:
            t = parent[t]
        return t

    members: dict[int, list[int]] = {t: [t] for t in spans}
    inplace_ops: dict[int, int] = {}
    links: list[tuple[int, int, int]] = []

    def join(src: int, dst: int, shift: int) -> None:
        """Put dst (a group of its own) into src's group, `shift` bytes below src; the whole group
        moves up when that would go below offset 0."""
        root = find(src)
        rel[dst] = rel[src] - shift
        if rel[dst] < 0:
            for t in members[root]:
                rel[t] -= rel[dst]
            rel[dst] = 0
        parent[dst] = root
        members[root].append(dst)
        del members[dst]

    if enabled and overlap:  # sharing set up by graph passes (patch stage output over consumed input)
        for src, dst, shift in getattr(g, "shared", ()):
            if src not in spans or dst not in spans or find(src) == find(dst) or len(members[find(dst)]) != 1:
                continue
            join(src, dst, shift)
    if enabled:
        for op in g.ops:
            low = lowering_for(op.kind)
            if low is None or not op.inputs or not op.outputs or op.inputs[0] not in spans:
                continue
            src, dst = op.inputs[0], op.outputs[0]
            if dst not in spans or g.tensors[src].is_variable or g.tensors[dst].is_variable:
                continue
            root, other = find(src), find(dst)
            if other == root or len(members[other]) != 1:
                continue
            same_layout = g.tensors[src].shape == g.tensors[dst].shape and g.tensors[src].dtype == g.tensors[dst].dtype
            last_reader = max(spans[t][1] for t in members[root]) == op.index and src not in op.inputs[1:]
            shift = 0
            temp = None  # bytes of the in-place kernel's temp, when it has one
            if last_reader and not low.view:
                temp = kernel_inplace_temp_bytes(op, g, _kernels(kernels, op.index))
            if low.view:
                pass  # a view never writes, so sharing is always safe
            elif last_reader and low.inplace and same_layout:
                inplace_ops[op.index] = 0
            elif temp is not None:
                inplace_ops[op.index] = temp
            elif overlap and last_reader and low.overlap_bytes(op, g) is not None:
                shift = low.overlap_bytes(op, g)
            else:
                continue
            join(src, dst, shift)  # dst is `other`: a group of its own
            if not low.view:
                links.append((src, dst, op.index))
    return {t: find(t) for t in spans}, rel, inplace_ops, links


def _kernels(kernels: str | PlanOptions, op_index: int) -> str:
    return kernels if isinstance(kernels, str) else kernels.kernels_for(op_index)


def plan_arena(g: Graph, options: PlanOptions | None = None) -> ArenaPlan:
    """The plan with sharing (views, in-place, overlap) unless planning without it is smaller."""
    options = options or PlanOptions()
    best = _plan(g, options, overlap=True)
    if options.inplace:  # merged buffers can outlive what they save: keep the smallest variant
        for variant in (_plan(g, options, overlap=False), _plan(g, replace(options, inplace=False))):
            if variant.arena_bytes < best.arena_bytes:
                best = replace(variant, options=options)
    return best


def _plan(g: Graph, options: PlanOptions, overlap: bool = True) -> ArenaPlan:
    spans = tensor_lifetimes(g)
    group_of, rel, inplace_ops, links = _alias_groups(g, spans, options.inplace, overlap, options)
    groups: dict[int, list[int]] = {}
    for t, root in group_of.items():
        groups.setdefault(root, []).append(t)
    planner = make_planner(options.planner, options.alignment)
    bufs: list[PlannedBuffer] = []
    for root, ts in groups.items():
        first = min(spans[t][0] for t in ts)
        last = max(spans[t][1] for t in ts)
        size = max(rel[t] + g.tensors[t].nbytes for t in ts)
        planner.add_buffer(size, first, last, group_parts(g, ts, spans, rel, links, planner.align))
        bufs.append(PlannedBuffer("+".join(f"t{t}" for t in sorted(ts)), size, first, last, -1, sorted(ts)))
    scratch_max = 0
    for op in g.ops:
        n = kernel_scratch_bytes(op, g, options.kernels_for(op.index)) + inplace_ops.get(op.index, 0)
        if n:
            planner.add_buffer(n, op.index, op.index)
            bufs.append(PlannedBuffer(f"scratch op {op.index}", n, op.index, op.index, -1, scratch_of=op.index))
            scratch_max = max(scratch_max, n)
    offsets = planner.plan()
    planner.check()
    for b, off in zip(bufs, offsets):
        b.offset = off
    tensor_offsets = {t: b.offset + rel[t] for b in bufs for t in b.tensors}
    scratch_offsets = {b.scratch_of: b.offset for b in bufs if b.scratch_of is not None}
    io = sum(g.tensors[t].nbytes for t in (set(g.inputs) | set(g.outputs)) - set(g.external))
    return ArenaPlan(options, bufs, tensor_offsets, scratch_offsets, planner.arena_bytes, planner.lower_bound(),
                     scratch_max, io, inplace_ops, optimal=bool(getattr(planner, "optimal", False)))
