"""Float edges outside the arena: a float32 model input read only by a QUANTIZE (to int8/int16), and a
float32 model output written by a DEQUANTIZE, stay in the caller's buffers (Graph.external).

MCUNet-class models take float32 in and give float32 out; their float input, 4x the int8 one, would
otherwise sit in the arena next to the QUANTIZE output and set the peak. The generated C then offers
`<name>_invoke_f32(in..., out...)` (the caller's float buffers, quantized straight into the integer
input tensor, dequantized straight out of the integer output), `<name>_invoke_int()` (integer tensors
in the arena, for callers who quantize themselves) and `<name>_invoke()` on default buffers of its own
outside the arena (dropped with <NAME>_NO_IO_BUFFERS) that the model's td_tensor_info tables point at.

    g = float_edges_outside(g)      # g.external: the float input/output tensors, in model order
    g = inputs_outside(g)           # --input-outside-arena: the integer model inputs too
"""
from __future__ import annotations

from dataclasses import replace

from ..ir import Graph, Op

INT_EDGE = ("int8", "int16")


def edge_ops(g: Graph) -> set[int]:
    """Indices of the QUANTIZE / DEQUANTIZE ops that read / write an external tensor."""
    ext = set(g.external)
    return {op.index for op in g.ops if (op.kind == "QUANTIZE" and op.inputs[0] in ext)
            or (op.kind == "DEQUANTIZE" and op.outputs[0] in ext)}


def _readers(g: Graph, t: int) -> list[Op]:
    return [op for op in g.ops if t in op.inputs]


def float_edges_outside(g: Graph) -> Graph:
    """A copy of g whose float edges are external (g itself when it has none)."""
    ext: list[int] = []
    for t in g.inputs:
        readers = _readers(g, t)
        if g.tensors[t].dtype == "float32" and t not in g.outputs and len(readers) == 1:
            q = readers[0]
            if q.kind == "QUANTIZE" and q.inputs == [t] and g.tensors[q.outputs[0]].dtype in INT_EDGE:
                ext.append(t)
    producer = {o: op for op in g.ops for o in op.outputs}
    for t in g.outputs:
        d = producer.get(t)
        if g.tensors[t].dtype == "float32" and t not in g.inputs and d is not None and d.kind == "DEQUANTIZE" \
                and g.tensors[d.inputs[0]].dtype in INT_EDGE and g.outputs.count(t) == 1 and not _readers(g, t):
            ext.append(t)
    if not ext:
        return g
    g = replace(g, external=tuple(ext))
    # the edge QUANTIZEs first and the DEQUANTIZEs last: the integer edge tensors then live through the
    # whole schedule, so <name>_invoke_int() (edge ops skipped) finds and leaves them where they are
    edges = edge_ops(g)
    first = [op for op in g.ops if op.index in edges and op.kind == "QUANTIZE"]
    last = [op for op in g.ops if op.index in edges and op.kind == "DEQUANTIZE"]
    middle = [op for op in g.ops if op.index not in edges]
    return replace(g, ops=[replace(op, index=i) for i, op in enumerate(first + middle + last)])


def inputs_outside(g: Graph) -> Graph:
    """A copy of g whose int8/int16 model inputs are external too (PlanOptions.input_outside_arena): the
    ops read them from the caller's buffer, never write them (the planner puts nothing over them)."""
    ext = [t for t in g.inputs if t not in g.external and g.tensors[t].dtype in INT_EDGE and t not in g.outputs
           and not g.tensors[t].is_variable and g.inputs.count(t) == 1]
    if not ext:
        return g
    order = [t for t in g.inputs + g.outputs if t in g.external or t in ext]
    return replace(g, external=tuple(dict.fromkeys(order)))
