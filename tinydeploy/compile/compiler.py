"""The pipeline: IR -> verify -> plan -> emit C. Writing to disk is atomic (temp dir, rename)."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import TinyDeployError
from ..paths import RUNTIME_DIR, staged_folder
from .codegen.emitter import Emitter
from .codegen.model_c import header_text, source_text
from .ir import Graph
from .model import CompiledModel, PlanOptions
from .ops import emit_op
from .passes.fit_scratch import fit_scratch
from .passes.float_edges import edge_ops, float_edges_outside, inputs_outside
from .passes.fold_pad import fold_pads
from .passes.patch import patch_graph
from .passes.reorder import reorder
from .plan.arena import plan_arena
from .verify import verify

__all__ = ["CompiledModel", "PlanOptions", "compile_graph", "write_library"]


def compile_graph(g: Graph, prefix: str | None = None, options: PlanOptions | None = None,
                  source_name: str = "model.tflite") -> CompiledModel:
    """Verify, plan and generate C for a graph. Raises UnsupportedModelError when it cannot."""
    verify(g)
    options = options or PlanOptions()
    if options.fold_pad:
        g = fold_pads(g)
    if options.reorder:
        g = reorder(g)
    if options.float_io_outside:
        g = float_edges_outside(g)
    if options.input_outside_arena:
        g = inputs_outside(g)
    patch = None
    if options.patch != "off":  # after reordering: the tiles are independent branches
        g, patch = patch_graph(g, options)
        if patch.enabled:
            verify(g)
    m = CompiledModel(graph=g, prefix=prefix or g.name, options=options, source_name=source_name, patch=patch)
    m.plan = plan_arena(g, options)
    if options.arena_limit and m.plan.arena_bytes > options.arena_limit and options.kernels != "reference":
        m.options, m.kernel_fallbacks = fit_scratch(g, options)
        m.plan = plan_arena(g, m.options)
    if patch is not None and patch.enabled:
        patch.arena_bytes = m.plan.arena_bytes
    m.tensor_offsets, m.scratch_offsets = m.plan.tensor_offsets, m.plan.scratch_offsets
    m.arena_bytes, m.lower_bound_bytes = m.plan.arena_bytes, m.plan.lower_bound_bytes
    m.scratch_bytes = m.plan.scratch_bytes

    scratch_sizes = {b.scratch_of: b.size for b in m.plan.buffers if b.scratch_of is not None}
    e = Emitter(g, m.prefix, m.tensor_offsets, m.scratch_offsets, set(m.plan.inplace_ops), scratch_sizes,
                kernels=options.kernels)
    headers: list[str] = []
    edges = edge_ops(g)
    for op in g.ops:
        start = len(e.body)
        e.kernels = m.options.kernels_for(op.index)
        with e.op_scope(op):
            ins = ", ".join(_shape(g, t) for t in op.inputs if t >= 0 and not g.tensors[t].is_const)
            outs = ", ".join(_shape(g, t) for t in op.outputs)
            e.comment(f"op {op.index}: {op.kind} {ins} -> {outs}")
            header = emit_op(op, g, e)
        if op.index in edges:  # skipped by <name>_invoke_int()
            e.body[start:] = ["  if (edges) {", *("  " + line for line in e.body[start:]), "  }"]
        if header not in headers:
            headers.append(header)
    m.header = header_text(m)
    m.source = source_text(m, e.decls, e.body, headers)
    return m


def _shape(g: Graph, t: int) -> str:
    tensor = g.tensors[t]
    return f"{tensor.dtype}[{'x'.join(map(str, tensor.shape))}]"


def write_library(m: CompiledModel, out_dir: str | Path, with_runtime: bool = True) -> Path:
    """Write <prefix>.h/.c (and a copy of the runtime) into out_dir, all or nothing.

    Refuses a folder that holds anything but a previous output of the same model, so that a
    wrong -o can never replace a folder full of other files.
    """
    out = Path(out_dir).resolve()
    if out.exists():
        allowed = {f"{m.prefix}.h", f"{m.prefix}.c", "tinydeploy"}
        extra = [p.name for p in out.iterdir() if p.name not in allowed]
        if extra:
            raise TinyDeployError(f"output folder {out} holds other files ({', '.join(sorted(extra)[:3])})",
                                  "choose an empty or new folder")
    with staged_folder(out) as tmp:
        (tmp / f"{m.prefix}.h").write_text(m.header)
        (tmp / f"{m.prefix}.c").write_text(m.source)
        if with_runtime:
            shutil.copytree(RUNTIME_DIR, tmp / "tinydeploy")
    return out
