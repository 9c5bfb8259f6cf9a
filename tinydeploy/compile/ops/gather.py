"""GATHER along one axis with batch_dims; int32 or int64 indices, constant or computed at run time.

An index out of range makes the model's invoke return -1 (LiteRT returns an error then).
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import movable, norm_axis


def _prod(xs) -> int:
    return int(np.prod(xs, dtype=np.int64)) if len(xs) else 1


@register("GATHER")
class Gather(OpLowering):
    header = "td_shape_ops.h"

    def _dims(self, op: Op, g: Graph):
        params, idx = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
        o = op.options
        axis = norm_axis(int(getattr(o, "axis", 0) or 0), len(params.shape))
        bd = int(getattr(o, "batchDims", 0) or 0)
        if bd < 0:
            bd += len(idx.shape)
        return axis, bd

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or any(t is None for t in ins):
            return "GATHER needs params, indices and 1 output"
        params, idx, out = ins[0], ins[1], outs[0]
        reason = movable(params, out)
        if reason:
            return reason
        if params.dtype != out.dtype:
            return f"params type {params.dtype} differs from output type {out.dtype}"
        if idx.dtype not in ("int32", "int64"):
            return f"indices must be int32 or int64 (not {idx.dtype})"
        axis, bd = self._dims(op, g)
        if axis is None:
            return "axis out of range"
        if bd < 0 or bd > axis or bd > len(idx.shape):
            return f"batch_dims {bd} is not supported with axis {axis}"
        if list(params.shape[:bd]) != list(idx.shape[:bd]):
            return "the batch dimensions of params and indices differ"
        want = list(params.shape[:axis]) + list(idx.shape[bd:]) + list(params.shape[axis + 1:])
        if list(out.shape) != want:
            return f"output shape {list(out.shape)} does not match {want}"
        if idx.is_const:
            v = np.asarray(idx.data).reshape(-1)
            if v.size and (v.min() < 0 or v.max() >= params.shape[axis]):
                return "constant indices out of range"
        return None

    def emit(self, op: Op, g: Graph, e) -> None:
        params, idx, out = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
        axis, bd = self._dims(op, g)
        if out.size == 0:
            return
        p = e.params("td_gather_params", [
            ("batches", _prod(params.shape[:bd])), ("outer", _prod(params.shape[bd:axis])),
            ("axis_size", params.shape[axis]), ("inner", _prod(params.shape[axis + 1:])),
            ("num_indices", _prod(idx.shape[bd:])), ("index_bytes", idx.itemsize),
            ("elem_bytes", params.itemsize),
        ])
        call = (f"td_gather({p}, {e.ptr(op.inputs[0], const=True)}, {e.ptr(op.inputs[1], const=True)}, "
                f"{e.ptr(op.outputs[0])})")
        e.line(f"if ({call} != 0) return -1;")
