"""Reject what we cannot compile, with one clear reason per problem."""
from __future__ import annotations

from ..errors import UnsupportedModelError
from .ir import DTYPES, Graph
from .ops import lowering_for

FLOAT_BOUNDARY_OPS = {"QUANTIZE", "DEQUANTIZE"}


def quantize_hint(g: Graph) -> str:
    """The command that quantizes the float model `g` was read from (tinydeploy quantize)."""
    src = g.path or "MODEL.tflite"
    out = src.removesuffix(".tflite") + "_int8.tflite"
    return (f"quantize it first: tinydeploy quantize {src} --calib SAMPLES.npy -o {out} (SAMPLES: a few "
            "hundred typical float inputs, .npy/.npz or a folder; the Keras/SavedModel original works too; "
            "needs pip install 'tinydeploy[quantize]')")


def problems(g: Graph) -> list[str]:
    """Every reason the graph cannot be compiled (empty list: it can)."""
    out: list[str] = []
    for op in g.ops:
        low = lowering_for(op.kind)
        if low is None:
            out.append(f"op {op.index}: {op.kind} is not supported")
            continue
        reason = low.check(op, g)
        if reason:
            out.append(f"op {op.index}: {op.kind}: {reason}")
    for t in g.tensors:
        if not t.is_const and t.dtype not in DTYPES:
            out.append(f"tensor {t.index} ({t.name}) has unsupported type {t.dtype}")
    return out


def computes_in_float(g: Graph) -> bool:
    """True when some op other than QUANTIZE/DEQUANTIZE reads or writes float32 activations."""
    for op in g.ops:
        if op.kind in FLOAT_BOUNDARY_OPS or (op.kind == "TD_CROP" and g.tensors[op.outputs[0]].dtype != "float32"):
            continue  # (a TD_CROP into an integer patch quantizes a tile of a float input: passes/patch.py)
        for t in op.inputs + op.outputs:
            if t >= 0 and g.tensors[t].dtype == "float32" and not g.tensors[t].is_const:
                return True
    return False


def float_model_error(g: Graph) -> UnsupportedModelError | None:
    """The error for a model that computes in float (it names the quantize command), else None."""
    if not computes_in_float(g):
        return None
    return UnsupportedModelError("the model computes in float32; tinydeploy compiles int8/int16 models",
                                 quantize_hint(g))


def verify(g: Graph) -> None:
    """Raise UnsupportedModelError naming the first problems, or return when all is compilable."""
    err = float_model_error(g)
    if err is not None:
        raise err
    found = problems(g)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise UnsupportedModelError("cannot compile: " + "; ".join(found[:3]) + more,
                                    "run `tinydeploy inspect MODEL` for the full list")
