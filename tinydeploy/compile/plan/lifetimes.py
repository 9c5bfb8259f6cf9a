"""Tensor live ranges from the op schedule."""
from __future__ import annotations

from ..ir import Graph


def tensor_lifetimes(g: Graph) -> dict[int, tuple[int, int]]:
    """Arena tensor -> (first op index that touches it, last op index), inclusive.

    Graph inputs are live from op 0, graph outputs and variable (state) tensors until the last op.
    """
    end = max(len(g.ops) - 1, 0)
    spans: dict[int, list[int]] = {}
    for t in g.activation_tensors():
        spans[t] = [end + 1, -1]
    for op in g.ops:
        for t in op.inputs + op.outputs + op.intermediates:
            if t in spans:
                spans[t][0] = min(spans[t][0], op.index)
                spans[t][1] = max(spans[t][1], op.index)
    for t in g.inputs:
        if t in spans:  # not an external float input
            spans[t][0] = 0
    for t in g.outputs:
        if t in spans:
            spans[t][1] = end
    for t, span in spans.items():
        if g.tensors[t].is_variable:
            span[0], span[1] = 0, end
        if span[1] < span[0]:  # never used: give it a one-op life so it still has storage
            span[1] = span[0] = min(span[0], end)
    return {t: (a, b) for t, (a, b) in spans.items()}
