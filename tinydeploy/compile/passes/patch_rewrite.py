"""Patch-based inference, the rewrite (passes/patch.py has the overview): a copy of the graph whose stage
runs tile by tile on patch tensors, TD_CROP -> clones of the stage ops -> TD_PLACE, and the sharing of the
stage output T over the input rows S that no later tile reads."""
from __future__ import annotations

from dataclasses import replace

from ..ir import Graph, Op, Tensor
from ..ops.td_place import RegionOptions, is_contiguous_box, region_offset, region_span
from .patch_stage import Box, PatchInfo, Stage, _edge_quantize, _nhwc_box, _Tile, _tiles, model_macs, stage_of


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

