"""Keras (.keras, .h5) and SavedModel folders through TensorFlow's converter: the float .tflite (for the
calibration data's shapes and the per-layer comparison) and the quantized one (a representative dataset,
full-integer int8 ops or the 16x8 scheme, as models/tflite_int8.py does for the shipped models).

Keras models are exported as a SavedModel first; the serving signature is traced with batch size 1, so Flatten stays one RESHAPE (a dynamic batch adds SHAPE,
STRIDED_SLICE, PACK).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import TinyDeployError

INSTALL_HINT = "pip install 'tinydeploy[quantize]' (TensorFlow, Keras, tf_keras, ai-edge-quantizer)"


@contextlib.contextmanager
def quiet() -> Iterator[list[str]]:
    """Send what TensorFlow prints (C++ logs, 'Saved artifact at ...') to a temp file; its text lands in the
    yielded list, for error messages."""
    out: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as log:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        try:
            for fd in (1, 2):
                os.dup2(log.fileno(), fd)
            yield out
        finally:
            sys.stdout.flush()  # what Python buffered meanwhile belongs to the log
            sys.stderr.flush()
            for fd, keep in zip((1, 2), saved):
                os.dup2(keep, fd)
                os.close(keep)
            log.seek(0)
            out.append(log.read().decode(errors="replace"))


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with quiet():
            import tensorflow as tf
    except ImportError:
        raise TinyDeployError("quantizing a Keras or SavedModel model needs TensorFlow, which is not installed",
                              INSTALL_HINT) from None
    return tf


def _keras_model(path: Path):
    """Load .keras (Keras 3) or .h5 (tf_keras, Keras 2's format) without compiling it."""
    _tf()
    try:
        with quiet():
            if path.suffix == ".h5":
                import tf_keras as keras
            else:
                import keras
            return keras.models.load_model(str(path), compile=False)
    except ImportError as exc:
        raise TinyDeployError(f"cannot load {path.name}: {exc}", INSTALL_HINT) from None
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, OSError, zipfile errors ... on bad files
        raise TinyDeployError(f"cannot load the Keras model {path.name}: {_short(exc)}",
                              "save it with model.save('m.keras') (or tf_keras for .h5)") from None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _spec(tf, shape, dtype, name: str):
    dims = list(shape)[1:]
    if any(d is None for d in dims):
        raise TinyDeployError(f"input {name!r} has an unknown dimension {list(shape)}",
                              "give the model a fixed input shape (e.g. keras.Input(shape=(96, 96, 1)))")
    return tf.TensorSpec([1, *dims], dtype, name=name)


def _export(model_path: Path, folder: Path) -> None:
    """A Keras model written as a SavedModel (Keras 3: model.export; tf_keras: tf.saved_model.save)."""
    tf = _tf()
    model = _keras_model(model_path)
    try:
        with quiet():
            if model_path.suffix == ".h5":
                tf.saved_model.save(model, str(folder))
            else:
                model.export(str(folder), format="tf_saved_model")
    except Exception as exc:  # noqa: BLE001 - tracing user code raises anything
        raise TinyDeployError(f"cannot trace the Keras model {model_path.name}: {_short(exc)}",
                              "a model whose layers all run in TensorFlow traces; custom Python code may not") \
            from None


def concrete_function(model_path: Path):
    """(tf, the SavedModel's serving signature traced with batch 1, the object that keeps its variables)."""
    tf = _tf()
    try:
        with quiet():
            loaded = tf.saved_model.load(str(model_path))
    except Exception as exc:  # noqa: BLE001 - TensorFlow raises many types on a bad folder
        raise TinyDeployError(f"cannot load the SavedModel {model_path}: {_short(exc)}",
                              "pass a folder written by tf.saved_model.save or model.export") from None
    sig = loaded.signatures.get("serving_default")
    if sig is None:
        raise TinyDeployError(f"the SavedModel {model_path} has no 'serving_default' signature",
                              "export it with model.export(folder)")
    specs = sig.structured_input_signature[1]
    names = sorted(specs)

    def call(*xs):
        out = sig(**dict(zip(names, xs)))
        return [out[k] for k in sorted(out)] if isinstance(out, dict) else out

    sig_specs = [_spec(tf, specs[n].shape, specs[n].dtype, n) for n in names]
    return tf, tf.function(call).get_concrete_function(*sig_specs), loaded


def _convert(tf, fn, keep, setup: Callable | None) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn], keep)
    if setup is not None:
        setup(conv)
    try:
        with quiet() as log:
            return conv.convert()
    except Exception as exc:  # noqa: BLE001 - ConverterError, RuntimeError from calibration, ...
        raise TinyDeployError(*_converter_failure(str(exc) + "\n" + "".join(log))) from None


def _converter_failure(text: str) -> tuple[str, str]:
    """The converter's complaint, naming the op when it names one."""
    op = re.search(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)
    if op:
        return (f"TensorFlow's op {op.group(1)} has no TensorFlow Lite builtin, so it cannot be quantized",
                f"replace {op.group(1)} in the model with ops TFLite has int8 kernels for")
    first = next((ln for ln in text.splitlines() if "error:" in ln), text.strip().splitlines()[0] if text.strip()
                 else "unknown error")
    return f"TensorFlow's converter failed: {first.split('error:', 1)[-1].strip()[:300]}", \
        "see the message above; an op TFLite cannot quantize is the usual cause"


def float_tflite(model_path: Path) -> tuple[bytes, Callable[[list[np.ndarray], str, bool], bytes]]:
    """The float .tflite of a Keras/SavedModel model, and quantize(samples, scheme, float_io) -> int8 .tflite
    (samples: one [N, *input_shape] float array per input (batch 1 kept))."""
    if model_path.is_dir():
        tf, fn, keep = concrete_function(model_path)
    else:
        with tempfile.TemporaryDirectory(prefix="td-keras-") as folder:
            _export(model_path, Path(folder))
            tf, fn, keep = concrete_function(Path(folder))  # variables are loaded: the folder may go
    float_bytes = _convert(tf, fn, keep, None)

    def quantize(samples: list[np.ndarray], scheme: str, float_io: bool) -> bytes:
        def representative():
            for s in range(samples[0].shape[0]):
                yield [x[s] for x in samples]

        def setup(conv):
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = representative
            io = tf.int16 if scheme == "16x8" else tf.int8
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 if scheme == "16x8"
                else tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if not float_io:
                conv.inference_input_type = io
                conv.inference_output_type = io

        return _convert(tf, fn, keep, setup)

    return float_bytes, quantize
