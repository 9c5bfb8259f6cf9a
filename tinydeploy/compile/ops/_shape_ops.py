"""Helpers shared by the data-movement lowerings (PAD, SLICE, TRANSPOSE, CONCATENATION, ...).

Most of them reduce to one strided N-D copy (td_copy_nd in td_shape_ops.h): dims, source and
destination strides and offsets are computed here at conversion time, size-1 dimensions are
dropped and neighbouring dimensions that are contiguous on both sides are merged, so that the
kernel sees as few dimensions as possible (at most TD_COPY_MAX_DIMS = 6).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..codegen.emitter import c_literal
from ..ir import Graph, Tensor

COPY_MAX_DIMS = 6
#: element types the data-movement kernels can move (they never look at the values)
MOVABLE = ("int8", "int16", "int32", "int64", "uint8", "bool")


def const_ints(g: Graph, tid: int) -> np.ndarray | None:
    """Contents of a constant int32/int64 tensor as int64 (flattened), or None when not constant."""
    t = g.tensor(tid)
    if t is None or not t.is_const or t.dtype not in ("int32", "int64"):
        return None
    return np.asarray(t.data, dtype=np.int64).reshape(-1)


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    """Row-major strides in elements."""
    strides, s = [], 1
    for d in reversed([int(x) for x in shape]):
        strides.append(s)
        s *= d
    return strides[::-1]


def merge_copy(dims: Sequence[int], src_strides: Sequence[int],
               dst_strides: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """Drop size-1 dimensions and merge neighbours that are contiguous on both sides."""
    keep = [(int(d), int(s), int(t)) for d, s, t in zip(dims, src_strides, dst_strides) if int(d) != 1]
    out: list[tuple[int, int, int]] = []
    for d, s, t in keep:
        if out:
            pd, ps, pt = out[-1]
            if ps == s * d and pt == t * d:  # the outer dim steps exactly over the inner one
                out[-1] = (pd * d, s, t)
                continue
        out.append((d, s, t))
    if not out:
        out = [(1, 1, 1)]
    return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]


def copy_rank(dims: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int]) -> int:
    return len(merge_copy(dims, src_strides, dst_strides)[0])


def too_many_dims(dims: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int]) -> str | None:
    n = copy_rank(dims, src_strides, dst_strides)
    if n > COPY_MAX_DIMS:
        return f"the copy needs {n} dimensions after merging (at most {COPY_MAX_DIMS} are supported)"
    return None


def c_array(values: Sequence[int]) -> str:
    vals = [c_literal(v, "int32_t") for v in values] + ["0"] * (COPY_MAX_DIMS - len(values))
    return "{" + ", ".join(vals) + "}"


def emit_copy_nd(e, dims: Sequence[int], src_strides: Sequence[int], dst_strides: Sequence[int],
                 src_offset: int, dst_offset: int, elem_bytes: int, src: str, dst: str,
                 hint: str = "copy", fn: str = "td_copy_nd") -> None:
    """Emit one td_copy_nd call (nothing when the copy is empty); fn: td_copy_nd_memx for a flash source."""
    if any(int(d) <= 0 for d in dims):
        return
    d, s, t = merge_copy(dims, src_strides, dst_strides)
    assert len(d) <= COPY_MAX_DIMS, "check() should have rejected this copy"
    p = e.params("td_copy_nd_params", [
        ("rank", len(d)), ("dims", c_array(d)), ("src_strides", c_array(s)), ("dst_strides", c_array(t)),
        ("src_offset", int(src_offset)), ("dst_offset", int(dst_offset)), ("elem_bytes", int(elem_bytes)),
    ], hint)
    e.call(fn, p, src, dst)


def movable(*ts: Tensor | None) -> str | None:
    """Reason when a tensor's type cannot be moved by the copy kernels."""
    for t in ts:
        if t is not None and t.dtype not in MOVABLE:
            return f"type {t.dtype} is not supported"
    return None


def same_dtype(inp: Tensor, out: Tensor) -> str | None:
    if inp.dtype != out.dtype:
        return f"input type {inp.dtype} differs from output type {out.dtype}"
    return movable(inp)


def norm_axis(axis: int, rank: int) -> int | None:
    """Axis made non-negative, or None when out of range."""
    a = axis + rank if axis < 0 else axis
    return a if 0 <= a < rank else None
