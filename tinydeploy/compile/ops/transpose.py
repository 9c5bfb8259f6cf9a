"""TRANSPOSE (up to 6-D): one strided copy reading the input with permuted strides."""
from __future__ import annotations

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import const_ints, contiguous_strides, emit_copy_nd, same_dtype, too_many_dims

MAX_DIMS = 6


@register("TRANSPOSE")
class Transpose(OpLowering):
    header = "td_shape_ops.h"

    def _copy(self, op: Op, g: Graph):
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        perm = [int(p) + len(inp.shape) if p < 0 else int(p) for p in const_ints(g, op.inputs[1]).tolist()]
        in_strides = contiguous_strides(inp.shape)
        return perm, [inp.shape[p] for p in perm], [in_strides[p] for p in perm], contiguous_strides(out.shape)

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) != 2 or len(outs) != 1 or any(t is None for t in ins):
            return "TRANSPOSE needs an input, a permutation and 1 output"
        inp, out = ins[0], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if not ins[1].is_const:
            return "the permutation tensor must be constant"
        if ins[1].dtype != "int32":
            return "the permutation must be int32 (LiteRT misreads int64 permutations)"
        raw = const_ints(g, op.inputs[1])
        rank = len(inp.shape)
        if rank > MAX_DIMS:
            return f"input rank {rank} is not supported (at most {MAX_DIMS})"
        perm = sorted(int(p) + rank if p < 0 else int(p) for p in raw.tolist())
        if perm != list(range(rank)):
            return "invalid permutation"
        _, dims, ss, ds = self._copy(op, g)
        if list(out.shape) != dims:
            return f"output shape {list(out.shape)} does not match the permuted shape {dims}"
        return too_many_dims(dims, ss, ds)

    def emit(self, op: Op, g: Graph, e) -> None:
        inp = g.tensors[op.inputs[0]]
        _, dims, ss, ds = self._copy(op, g)
        emit_copy_nd(e, dims, ss, ds, 0, 0, inp.itemsize, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))
