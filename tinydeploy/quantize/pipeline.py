"""quantize_model: a float model (.keras, .h5, SavedModel folder, float .tflite) and calibration data in, an
integer .tflite out, with what the quantization cost per layer and, given labelled data, in accuracy."""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile import Graph, op_rows, parse_model
from ..errors import TinyDeployError
from ..evaluate import load_arrays, load_folder, load_labels, prepare_inputs
from .report import BOUNDARY, LayerError, accuracy, layer_errors

SCHEMES = ("int8", "16x8")
KERAS_SUFFIXES = (".keras", ".h5")


@dataclass
class QuantizeResult:
    content: bytes                     # the quantized .tflite
    converter: str                     # which tool quantized it
    calib_samples: int
    layers: list[LayerError] = field(default_factory=list)
    accuracy: tuple[float, float, int] | None = None   # (float, quantized, samples)
    not_compiled: list[str] = field(default_factory=list)  # ops tinydeploy cannot compile (yet)

    def as_dict(self) -> dict:
        """The report as JSON-ready data (infinite SNR, an exact layer, as null)."""
        def num(x):
            return None if x is None or math.isinf(x) else round(float(x), 4)

        acc = None if self.accuracy is None else dict(zip(("float", "quantized", "samples"), self.accuracy))
        return {"converter": self.converter, "bytes": len(self.content), "calib_samples": self.calib_samples,
                "layers": [{"op": e.op, "kind": e.kind, "tensor": e.tensor, "snr_db": num(e.snr_db),
                            "lost_db": num(e.lost_db), "max_abs_error": e.max_abs, "max_abs_float": e.peak}
                           for e in self.layers],
                "accuracy": acc, "not_compiled": self.not_compiled}


def model_kind(path: Path) -> str:
    """'tflite', 'keras' or 'savedmodel'; TinyDeployError for anything else."""
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return "savedmodel"
        raise TinyDeployError(f"{path} is a folder without saved_model.pb",
                              "pass a SavedModel folder, a .keras/.h5 file or a float .tflite")
    if not path.is_file():
        raise TinyDeployError(f"model not found: {path}", "check the path")
    if path.suffix == ".tflite":
        return "tflite"
    if path.suffix in KERAS_SUFFIXES:
        return "keras"
    raise TinyDeployError(f"cannot quantize {path.name}: unknown model format {path.suffix or '(no suffix)'}",
                          "pass a .keras/.h5 file, a SavedModel folder or a float .tflite")


def _float_tflite(path: Path, kind: str):
    """(float .tflite bytes, quantize(samples, scheme, float_io) -> bytes, converter name)."""
    if kind == "tflite":
        content = path.read_bytes()
        g = parse_model(content)
        if not any(g.tensors[t].dtype == "float32" for t in g.inputs) or _integer_ops(g):
            raise TinyDeployError(f"{path.name} is already quantized (integer activations)",
                                  f"convert it directly: tinydeploy convert {path} -o OUT/")
        from .litequant import quantize_tflite

        return content, lambda s, scheme, fio: quantize_tflite(content, s, scheme, fio), "ai-edge-quantizer"
    from .tfconvert import float_tflite

    content, quantize = float_tflite(path)
    return content, quantize, "TensorFlow's converter"


def _integer_ops(g: Graph) -> bool:
    return any(op.kind not in BOUNDARY and any(t >= 0 and g.tensors[t].dtype in ("int8", "int16")
                                               for t in op.outputs) for op in g.ops)


def float_ops(g: Graph) -> list[str]:
    """Ops of a quantized graph that still compute in float32 (no integer kernel), named with their output."""
    bad = []
    for op in g.ops:
        if op.kind in BOUNDARY:
            continue
        if any(t >= 0 and g.tensors[t].dtype == "float32" and not g.tensors[t].is_const
               for t in op.inputs + op.outputs):
            out = g.tensors[op.outputs[0]].name if op.outputs else "?"
            bad.append(f"op {op.index} {op.kind} ({out})")
    return bad


def load_samples(spec: str, g: Graph) -> list[np.ndarray]:
    """Float32 [N, *shape] per input from .npy/.npz/'file.npz:key' or a folder like eval's."""
    path = Path(spec)
    arrays = load_folder(path, g)[0] if path.is_dir() else load_arrays(spec, len(g.inputs))
    arrays = [a.astype(np.float32) if np.issubdtype(a.dtype, np.number) else a for a in arrays]
    return prepare_inputs(g, arrays)


def load_labelled(spec: str, g: Graph) -> tuple[list[np.ndarray], np.ndarray]:
    """(inputs, labels) from a folder with class sub-folders, or an .npz ('file.npz:x' names the inputs; the
    labels are its 'y' or 'labels')."""
    path = Path(spec)
    if path.is_dir():
        arrays, labels, _ = load_folder(path, g)
        if labels is None:
            raise TinyDeployError(f"--eval {spec}: no labels", "put the files in one sub-folder per class")
        return prepare_inputs(g, arrays), labels
    file = Path(spec.rpartition(":")[0]) if ".npz:" in spec else path
    if ":" not in spec and file.suffix == ".npz" and file.is_file():
        files = np.load(file).files
        if "x" in files:
            spec = f"{spec}:x"
    inputs, labels = load_samples(spec, g), load_labels(file)
    if len(labels) != inputs[0].shape[0]:
        raise TinyDeployError(f"--eval {spec}: {inputs[0].shape[0]} samples but {len(labels)} labels")
    return inputs, labels


def quantize_model(model: Path, calib: str, scheme: str = "int8", float_io: bool = False,
                   eval_data: str | None = None, report_samples: int = 64) -> QuantizeResult:
    """Quantize `model` with the samples in `calib`; raises TinyDeployError naming what went wrong."""
    if scheme not in SCHEMES:
        raise TinyDeployError(f"unknown scheme {scheme!r}", f"choose one of: {', '.join(SCHEMES)}")
    kind = model_kind(model)
    float_content, quantize, converter = _float_tflite(model, kind)
    g_float = parse_model(float_content)
    samples = load_samples(calib, g_float)
    if samples[0].shape[0] == 0:
        raise TinyDeployError(f"--calib {calib} holds no samples")
    labelled = load_labelled(eval_data, g_float) if eval_data else None
    content = quantize(samples, scheme, float_io)
    g_quant = parse_model(content)
    still_float = float_ops(g_quant)
    if still_float:
        raise TinyDeployError(f"cannot quantize {', '.join(still_float[:3])}: "
                              f"{'it has' if len(still_float) == 1 else 'they have'} no integer kernel in TFLite, "
                              "so the op stays in float32", "replace it in the model with ops that quantize")
    result = QuantizeResult(content, converter, int(samples[0].shape[0]))
    result.not_compiled = [f"op {r.index} {r.kind}: {r.problem}" for r in op_rows(g_quant) if r.problem]
    result.layers = layer_errors(float_content, content, g_quant, samples, report_samples)
    if labelled is not None:
        inputs, labels = labelled
        result.accuracy = (accuracy(float_content, g_float, inputs, labels),
                           accuracy(content, g_quant, inputs, labels), len(labels))
    return result


def write_model(content: bytes, out: Path) -> None:
    """Write `out` atomically (a temp file beside it, then a rename)."""
    out = Path(out)
    if out.is_dir():
        raise TinyDeployError(f"{out} is a folder", "name the file to write")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".td-", suffix=out.suffix, dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
