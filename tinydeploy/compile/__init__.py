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
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "CompiledModel": ".model",
    "DTYPES": ".ir",
    "Graph": ".ir",
    "PLANNERS": ".plan",
    "PlanOptions": ".model",
    "VARIANT_CHAIN": ".ops",
    "out_size": ".ops.window",
    "compile_graph": ".compiler",
    "float_model_error": ".verify",
    "input_arrays": ".samples",
    "load_model": ".tflite.reader",
    "op_rows": ".summary",
    "parse_model": ".tflite.reader",
    "parse_patch": ".passes.patch",
    "plot_plan": ".plan.report",
    "schema": ".tflite",
    "step_rows": ".plan.report",
    "write_library": ".compiler",
})
