"""RESIZE_NEAREST_NEIGHBOR (NHWC): row and column maps computed here with TFLite's float32
arithmetic (align_corners, half_pixel_centers); the kernel only copies pixels."""
from __future__ import annotations

import math

import numpy as np

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import nhwc, tensors
from ._shape_ops import const_ints, same_dtype


def nearest_map(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> list[int]:
    """Source index of every output index (TFLite GetNearestNeighbor, float32 throughout)."""
    f32 = np.float32
    if align_corners and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    else:
        scale = f32(in_size) / f32(out_size)
    offset = f32(0.5) if half_pixel else f32(0.0)
    out = []
    for i in range(out_size):
        v = f32(f32(f32(i) + offset) * scale)
        if align_corners:
            fv = float(v)
            idx = int(math.floor(fv + 0.5)) if fv >= 0 else -int(math.floor(-fv + 0.5))
        else:
            idx = int(math.floor(float(v)))
        idx = min(idx, in_size - 1)
        if half_pixel:
            idx = max(0, idx)
        out.append(idx)
    return out


@register("RESIZE_NEAREST_NEIGHBOR")
class ResizeNearest(OpLowering):
    header = "td_shape_ops.h"

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or any(t is None for t in ins):
            return "RESIZE_NEAREST_NEIGHBOR needs an input, a size tensor and 1 output"
        inp, size_t, out = ins[0], ins[1], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if len(inp.shape) != 4:
            return "the input must be 4-D (NHWC)"
        if not size_t.is_const:
            return "the size tensor must be constant"
        size = const_ints(g, op.inputs[1])
        if size is None or size.size != 2 or size.min() <= 0:
            return "size must hold two positive int32 values"
        want = [inp.shape[0], int(size[0]), int(size[1]), inp.shape[3]]
        if list(out.shape) != want:
            return f"output shape {list(out.shape)} does not match {want}"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        o = op.options
        align, half = bool(getattr(o, "alignCorners", False)), bool(getattr(o, "halfPixelCenters", False))
        h, w, oh, ow = inp.shape[1], inp.shape[2], out.shape[1], out.shape[2]
        if out.size == 0:
            return
        p = e.params("td_resize_nearest_params", [
            ("input", nhwc(inp.shape)), ("output", nhwc(out.shape)), ("elem_bytes", inp.itemsize),
            ("y_map", e.const_array(nearest_map(h, oh, align, half), "int32_t", "ymap")),
            ("x_map", e.const_array(nearest_map(w, ow, align, half), "int32_t", "xmap")),
        ])
        e.call("td_resize_nearest", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
