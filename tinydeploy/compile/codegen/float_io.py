"""The C of a model whose float edges stay outside the arena (Graph.external, passes/float_edges.py):

    <name>_invoke_f32(const float *input0, ..., float *output0, ...)   the caller's float buffers
    <name>_invoke_int(void)       integer edge tensors in the arena (<name>_input0_q(), ...): no QUANTIZE /
                                  DEQUANTIZE at the edges, for callers who quantize themselves
    <name>_invoke(void)           the default buffers outside the arena, which <name>_inputs[i].data points
                                  at (what the device protocol and the Arduino examples fill); dropped,
                                  with the buffers, when <NAME>_NO_IO_BUFFERS is defined

Integer model inputs kept outside the arena (PlanOptions.input_outside_arena) work the same way: the entry
point is then <name>_invoke_io(const int8_t *input0, ..., float *output0, ...) (each external tensor in its
own C type; _invoke_f32 when they are all float32). <name>_invoke_int() and <name>_input<i>_q() exist only
while every external input has its integer tensor in the arena (not when a patch stage quantizes the
caller's floats tile by tile, nor for an integer input, which has no integer copy).

Models without external tensors keep the plain <name>_invoke() and byte-identical C.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import CompiledModel


def _names(m: "CompiledModel") -> list[tuple[int, str, bool]]:
    """(tensor, parameter name, is input) for each external tensor, in model order."""
    g = m.graph
    ins = [(t, f"input{i}", True) for i, t in enumerate(g.inputs) if t in g.external]
    return ins + [(t, f"output{i}", False) for i, t in enumerate(g.outputs) if t in g.external]


def data_field(m: "CompiledModel", tensor: int) -> str:
    """The td_tensor_info .data initializer of a model input/output."""
    if tensor not in m.graph.external:
        return "0"
    return f"{m.prefix.upper()}_IO_BUF({m.prefix}_io_buffer{m.graph.external.index(tensor)})"


def _all_float(m: "CompiledModel") -> bool:
    return all(m.graph.tensors[t].dtype == "float32" for t in m.graph.external)


def entry_name(m: "CompiledModel") -> str:
    """The entry point on the caller's buffers: <name>_invoke_f32, or <name>_invoke_io with integer ones."""
    return f"{m.prefix}_invoke_{'f32' if _all_float(m) else 'io'}"


def _signature(m: "CompiledModel") -> str:
    g = m.graph
    args = [f"{'const ' if is_in else ''}{g.tensors[t].ctype} *{n}" for t, n, is_in in _names(m)]
    return f"int {entry_name(m)}({', '.join(args)})"


def _has_int_api(m: "CompiledModel") -> bool:
    """<name>_invoke_int exists: every external input has its integer edge tensor in the arena."""
    return all(_edge_int(m, t, True) is not None for t, _, is_in in _names(m) if is_in)


def header_lines(m: "CompiledModel") -> list[str]:
    """Declarations and accessors of the float-edge API (none for a model without float edges)."""
    if not m.graph.external:
        return ["/** Run the model on the inputs in the arena; returns 0. */", f"int {m.prefix}_invoke(void);"]
    p, P, g = m.prefix, m.prefix.upper(), m.graph
    what = "Float inputs/outputs" if _all_float(m) else "Inputs/outputs"
    lines = [
        f"/** {what} stay outside the arena: {m.io_buffer_bytes} bytes of default buffers (none with",
        f" * {P}_NO_IO_BUFFERS: pass your own to {entry_name(m)}). */",
        f"#define {P}_IO_BYTES {m.io_buffer_bytes}UL",
        ("/** Quantize the caller's float inputs into the arena, run, dequantize into its float outputs; 0. */"
         if _all_float(m) else "/** Run on the caller's buffers (floats (de)quantized at the edges); returns 0. */"),
        f"{_signature(m)};",
    ]
    if _has_int_api(m):
        run_int = f"/** Run on the integer edge tensors in the arena ({p}_input<i>_q(), {p}_output<i>_q()); returns 0. */"
        lines += [run_int, f"int {p}_invoke_int(void);"]
    lines += [
        f"#ifndef {P}_NO_IO_BUFFERS",
        f"/** {entry_name(m)} on the default buffers that {p}_inputs[i].data / {p}_outputs[i].data point at. */",
        f"int {p}_invoke(void);", "#endif",
    ]
    for t, name, is_in in _names(m):
        q = _edge_int(m, t, is_in)
        if q is None:  # no integer copy in the arena
            continue
        ct = g.tensors[q].ctype
        lines += [f"#define {P}_{name.upper()}_Q_OFFSET {m.tensor_offsets[q]}UL",
                  f"static inline {ct} *{p}_{name}_q(void) {{ return ({ct} *)({p}_arena + {P}_{name.upper()}_Q_OFFSET); }}"]
    return lines


def _edge_int(m: "CompiledModel", t: int, is_in: bool) -> int | None:
    """The integer tensor the QUANTIZE of input t writes, or the DEQUANTIZE of output t reads (None: none
    in the arena, e.g. an integer input or a float input quantized tile by tile)."""
    for op in m.graph.ops:
        if is_in and op.kind == "QUANTIZE" and op.inputs[0] == t:
            return op.outputs[0]
        if not is_in and op.kind == "DEQUANTIZE" and op.outputs[0] == t:
            return op.inputs[0]
    return None


def buffer_lines(m: "CompiledModel") -> list[str]:
    """The default buffers and the <name>_io pointer table the schedule reads (before the info tables)."""
    g, p, P = m.graph, m.prefix, m.prefix.upper()
    if not g.external:
        return []
    bufs = [f"static {g.tensors[t].ctype} {p}_io_buffer{k}[{g.tensors[t].size}]"
            + ("" if g.tensors[t].dtype == "float32" else " TD_ALIGN(16)") + ";"  # integer: aligned as the arena
            for k, t in enumerate(g.external)]
    ptrs = ", ".join(f"{P}_IO_BUF({p}_io_buffer{k})" for k in range(len(g.external)))
    return [f"#ifndef {P}_NO_IO_BUFFERS", *bufs, f"#define {P}_IO_BUF(b) ((void *)(b))", "#else",
            f"#define {P}_IO_BUF(b) ((void *)0)", "#endif",
            f"static void *{p}_io[{len(g.external)}] = {{{ptrs}}}; /* where the float edges are */", ""]


def invoke_lines(m: "CompiledModel", body: list[str]) -> list[str]:
    """<name>_invoke() (and, with float edges, the _run / _invoke_f32 / _invoke_int entry points)."""
    p, P = m.prefix, m.prefix.upper()
    if not m.graph.external:
        return [f"int {p}_invoke(void) {{", f"  uint8_t *const arena = {p}_arena;", *body, "  (void)arena;",
                "  return 0;", "}", ""]
    names = _names(m)
    sets = [f"  {p}_io[{k}] = (void *){n};" for k, (_, n, _) in enumerate(names)]
    return [
        f"static int {p}_run(int edges) {{", f"  uint8_t *const arena = {p}_arena;", *body,
        "  (void)arena;", "  (void)edges;", "  return 0;", "}", "",
        f"{_signature(m)} {{",
        f"  void *saved[{len(names)}];", "  int rc;",
        f"  memcpy(saved, {p}_io, sizeof saved);", *sets,
        f"  rc = {p}_run(1);", f"  memcpy({p}_io, saved, sizeof saved);", "  return rc;", "}", "",
        *([f"int {p}_invoke_int(void) {{ return {p}_run(0); }}", ""] if _has_int_api(m) else []),
        f"#ifndef {P}_NO_IO_BUFFERS", f"int {p}_invoke(void) {{ return {p}_run(1); }}", "#endif", "",
    ]
