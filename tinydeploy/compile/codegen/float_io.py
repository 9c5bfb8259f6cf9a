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

Under the AVR kernels, patch tiles crop an integer input through a `TD_WEIGHTS_MEM` (`__memx`) pointer
(<name>_io_flash): when every reader of every external input does, <name>_invoke_io_flash(const
TD_WEIGHTS_MEM int8_t *input0, ...) takes an image held in flash (C only: the pointer is 3 bytes wide).

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


def _flash_inputs(m: "CompiledModel") -> dict[int, bool]:
    """External integer inputs that TD_CROPs read through <name>_io_flash (ops/td_place.reads_flash) -> True
    when every reader of the input does (then it may be in flash)."""
    from ..ops.td_place import reads_flash

    g, out = m.graph, {}
    for t, _, is_in in _names(m):
        if not is_in or g.tensors[t].dtype == "float32":
            continue
        readers = [op for op in g.ops if t in op.inputs]
        crops = [op for op in readers if op.kind == "TD_CROP" and reads_flash(m.options.kernels_for(op.index))]
        if crops:
            out[t] = len(crops) == len(readers)
    return out


def _has_flash_api(m: "CompiledModel") -> bool:
    """<name>_invoke_io_flash exists: every external input is read only through <name>_io_flash."""
    ins = [t for t, _, is_in in _names(m) if is_in]
    flash = _flash_inputs(m)
    return bool(ins) and all(flash.get(t) for t in ins)


def _flash_signature(m: "CompiledModel") -> str:
    g = m.graph
    args = [f"const TD_WEIGHTS_MEM {g.tensors[t].ctype} *{n}" if is_in else f"{g.tensors[t].ctype} *{n}"
            for t, n, is_in in _names(m)]
    return f"int {m.prefix}_invoke_io_flash({', '.join(args)})"


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
    if _has_flash_api(m):
        lines += ["#ifndef __cplusplus",
                  f"/** {entry_name(m)} on inputs that may sit in flash (TD_WEIGHTS_MEM: __memx on AVR, where a",
                  " * generic pointer converts to it too); C only: C++ has no __memx. Returns 0. */",
                  f"{_flash_signature(m)};", "#endif"]
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
            f"static void *{p}_io[{len(g.external)}] = {{{ptrs}}}; /* where the float edges are */",
            *([f"static const TD_WEIGHTS_MEM void *{p}_io_flash[{len(g.external)}]; /* inputs the tiles crop */"]
              if _flash_inputs(m) else []), ""]


def invoke_lines(m: "CompiledModel", body: list[str]) -> list[str]:
    """<name>_invoke() (and, with float edges, the _run / _invoke_f32 / _invoke_int entry points)."""
    p, P = m.prefix, m.prefix.upper()
    if not m.graph.external:
        return [f"int {p}_invoke(void) {{", f"  uint8_t *const arena = {p}_arena;", *body, "  (void)arena;",
                "  return 0;", "}", ""]
    names = _names(m)
    sets = [f"  {p}_io[{k}] = (void *){n};" for k, (_, n, _) in enumerate(names)]
    ext, flash = m.graph.external, _flash_inputs(m)
    flash_sets = [f"  {p}_io_flash[{ext.index(t)}] = {n};" for t, n, _ in names if t in flash]
    default_flash = [f"  {p}_io_flash[{ext.index(t)}] = {p}_io[{ext.index(t)}];" for t in flash]
    lines = [
        f"static int {p}_run(int edges) {{", f"  uint8_t *const arena = {p}_arena;", *body,
        "  (void)arena;", "  (void)edges;", "  return 0;", "}", "",
        f"{_signature(m)} {{",
        f"  void *saved[{len(names)}];", "  int rc;",
        f"  memcpy(saved, {p}_io, sizeof saved);", *sets, *flash_sets,
        f"  rc = {p}_run(1);", f"  memcpy({p}_io, saved, sizeof saved);", "  return rc;", "}", "",
    ]
    if _has_flash_api(m):  # the inputs only through <name>_io_flash; the outputs as above
        outs = [line for line, (_, _, is_in) in zip(sets, names) if not is_in]
        lines += ["#ifndef __cplusplus", f"{_flash_signature(m)} {{", f"  void *saved[{len(names)}];", "  int rc;",
                  f"  memcpy(saved, {p}_io, sizeof saved);", *outs, *flash_sets,
                  f"  rc = {p}_run(1);", f"  memcpy({p}_io, saved, sizeof saved);", "  return rc;", "}", "#endif", ""]
    return lines + [
        *([f"int {p}_invoke_int(void) {{ return {p}_run(0); }}", ""] if _has_int_api(m) else []),
        f"#ifndef {P}_NO_IO_BUFFERS",
        *([f"int {p}_invoke(void) {{", *default_flash, f"  return {p}_run(1);", "}"] if default_flash
          else [f"int {p}_invoke(void) {{ return {p}_run(1); }}"]),
        "#endif", "",
    ]
