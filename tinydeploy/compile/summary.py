"""Per-op facts for `tinydeploy inspect`: shapes, quantization, MACs, weight bytes, support."""
from __future__ import annotations

from dataclasses import dataclass

from .ir import Graph, Tensor
from .ops import lowering_for


@dataclass
class OpRow:
    index: int
    kind: str
    inputs: str
    outputs: str
    quant: str
    macs: int
    weight_bytes: int
    problem: str | None


def describe_tensor(t: Tensor) -> str:
    return f"{t.dtype}[{'x'.join(map(str, t.shape))}]"


def describe_quant(t: Tensor) -> str:
    if t.quant is None:
        return "-"
    if t.quant.per_channel:
        return f"per-ch[{t.quant.scale.size}]"
    return f"s={t.scale:.4g} zp={t.zero_point}"


def op_rows(g: Graph) -> list[OpRow]:
    rows = []
    for op in g.ops:
        low = lowering_for(op.kind)
        problem = "not supported" if low is None else low.check(op, g)
        acts = [g.tensors[t] for t in op.inputs if t >= 0 and not g.tensors[t].is_const]
        consts = [g.tensors[t] for t in op.inputs if t >= 0 and g.tensors[t].is_const]
        outs = [g.tensors[t] for t in op.outputs]
        weights = [describe_quant(t) for t in consts if t.quant and t.quant.per_channel][:1]
        quant = " ".join(weights + ([describe_quant(outs[0])] if outs else []))
        macs = 0
        if low is not None and problem is None:
            try:
                macs = low.macs(op, g)
            except Exception:  # MAC estimates are informative only
                macs = 0
        rows.append(OpRow(op.index, op.kind, ", ".join(describe_tensor(t) for t in acts),
                          ", ".join(describe_tensor(t) for t in outs), quant, macs,
                          sum(t.nbytes for t in consts), problem))
    return rows
