"""The compiler: .tflite -> IR -> passes -> arena plan -> C, all on the host.

    tflite/     reader over the generated flatbuffer schema -> IR
    ir.py       tensors, ops, quantization (imports nothing of tinydeploy)
    verify.py   one reason per unsupported op
    ops/        one module per TFLite op (@register): checks, scratch/in-place needs, MACs, the C call
    passes/     operator reordering, patch-based inference
    plan/       lifetimes, sharing, planners (add_buffer(size, first, last) -> offsets)
    codegen/    C emitters (model.c / model.h)
    compiler.py the pipeline: compile_graph(graph, options) -> CompiledModel

Imports nothing of target/link/evaluate; a board's kernel variant reaches it as a plain option.
"""
from __future__ import annotations

import importlib
from typing import Any

# The package's public face: other packages import these names from here (loaded on first use,
# so importing the package costs nothing and layers never import each other in a cycle).
_EXPORTS = {
    "CompiledModel": ".model",
    "DTYPES": ".ir",
    "Graph": ".ir",
    "PLANNERS": ".plan",
    "PlanOptions": ".model",
    "compile_graph": ".compiler",
    "load_model": ".tflite.reader",
    "op_rows": ".summary",
    "parse_model": ".tflite.reader",
    "parse_patch": ".passes.patch",
    "plot_plan": ".plan.report",
    "schema": ".tflite",
    "step_rows": ".plan.report",
    "write_library": ".compiler",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
