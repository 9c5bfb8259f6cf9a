"""PAD and PADV2: one pass over the output rows, last first (td_pad): move the input row in, fill the border.

PAD pads with the output zero point, PADV2 with its (constant) constant_values tensor; no
rescaling happens between input and output, as in LiteRT. Every element moves to a byte at or after
its own, so the kernel runs in place (inplace_temp_bytes 0): when the input dies at the PAD (PADs that
fold_pad cannot fold: before pools, ADD, with another value), the planner writes the padded output over it.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..ir import Graph, Op
from . import OpLowering, register
from ._common import tensors
from ._shape_ops import c_array, const_ints, same_dtype

MAX_DIMS = 6
FILL_TYPES = {"int8": 1, "uint8": 1, "bool": 1, "int16": 2, "int32": 4}


@register("PAD", "PADV2")
class Pad(OpLowering):
    header = "td_shape_ops.h"

    def _pads(self, op: Op, g: Graph):
        raw = const_ints(g, op.inputs[1])
        return None if raw is None else raw.reshape(-1, 2).tolist()

    def check(self, op: Op, g: Graph) -> str | None:
        ins, outs = tensors(g, op)
        if len(ins) < 2 or len(outs) != 1 or ins[0] is None or ins[1] is None:
            return f"{op.kind} needs an input, a paddings tensor and 1 output"
        inp, pads_t, out = ins[0], ins[1], outs[0]
        reason = same_dtype(inp, out)
        if reason:
            return reason
        if out.dtype not in FILL_TYPES:
            return f"type {out.dtype} is not supported"
        if not pads_t.is_const:
            return "the paddings tensor must be constant"
        pads = self._pads(op, g)
        if pads is None:
            return "paddings must be int32 or int64"
        rank = len(inp.shape)
        if len(pads) != rank or rank > MAX_DIMS:
            return f"paddings do not match the input rank {rank} (at most {MAX_DIMS} dims)"
        if any(a < 0 or b < 0 for a, b in pads):
            return "negative paddings are not supported"
        want = [d + a + b for d, (a, b) in zip(inp.shape, pads)]
        if list(out.shape) != want:
            return f"output shape {list(out.shape)} does not match the padded shape {want}"
        if len(ins) > 2 and ins[2] is not None:
            cv = ins[2]
            if not cv.is_const:
                return "the constant_values tensor must be constant"
            if cv.dtype != out.dtype or cv.size != 1:
                return "constant_values must be one value of the output type"
        return None

    def inplace_temp_bytes(self, op: Op, g: Graph) -> int | None:
        return 0  # td_pad writes each element at or after its source: no temp

    def emit(self, op: Op, g: Graph, e) -> None:
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        pads = self._pads(op, g)
        if out.size == 0:
            return
        value = out.zero_point
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            value = int(g.tensors[op.inputs[2]].data.reshape(-1)[0])
        dims, before, after = merge_pads(inp.shape, pads)
        p = e.params("td_pad_params", [
            ("rank", len(dims)), ("in_dims", c_array(dims)), ("before", c_array(before)), ("after", c_array(after)),
            ("elem_bytes", FILL_TYPES[out.dtype]), ("value", value)], "pad")
        e.call("td_pad", p, e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0]))


def merge_pads(shape: Sequence[int], pads: Sequence[Sequence[int]]) -> tuple[list[int], list[int], list[int]]:
    """(in_dims, before, after) with size-1 unpadded dims dropped and every unpadded dim merged into the one
    outside it (which then pads whole blocks of it): the fewest dims, the longest rows."""
    out: list[list[int]] = []
    for d, (a, b) in zip(shape, pads):
        d, a, b = int(d), int(a), int(b)
        if a == 0 and b == 0 and out:
            out[-1] = [out[-1][0] * d, out[-1][1] * d, out[-1][2] * d]
        elif not (a == 0 and b == 0 and d == 1):
            out.append([d, a, b])
    out = out or [[1, 0, 0]]
    return [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]
