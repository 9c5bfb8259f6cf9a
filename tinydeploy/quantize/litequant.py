"""A float .tflite through Google's ai-edge-quantizer: static int8 (or int16 activations, int8 weights)
with min/max calibration over all samples. It runs offline: the recipes ship in the package, the float
model is calibrated with LiteRT on this machine."""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import TinyDeployError
from .edges import add_float_edges, ensure_signature
from .tfconvert import INSTALL_HINT, quiet


def _signature(content: bytes) -> tuple[str, list[str]]:
    """(signature key, its input names in the order of the model's inputs)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=content)
    sigs = it.get_signature_list()
    key = next(iter(sigs))
    runner = it.get_signature_runner(key)
    by_index = {d["index"]: name for name, d in runner.get_input_details().items()}
    names = [by_index[d["index"]] for d in it.get_input_details() if d["index"] in by_index]
    if len(names) != len(it.get_input_details()):
        raise TinyDeployError(f"the signature {key!r} does not cover every input of the model")
    return key, names


def quantize_tflite(content: bytes, samples: list[np.ndarray], scheme: str, float_io: bool) -> bytes:
    """The float model quantized by ai-edge-quantizer; samples: one [N, *input_shape] float array per input (batch 1 kept)."""
    try:
        with quiet():
            from ai_edge_quantizer import calibrator, quantizer, recipe, recipe_manager
            from ai_edge_quantizer.utils import qsv_utils
    except ImportError:
        raise TinyDeployError("quantizing a float .tflite needs ai-edge-quantizer, which is not installed",
                              INSTALL_HINT) from None
    content = ensure_signature(content)
    key, names = _signature(content)
    data = {key: [{n: x[s] for n, x in zip(names, samples)} for s in range(samples[0].shape[0])]}
    rec = recipe.static_wi8_ai16() if scheme == "16x8" else recipe.static_wi8_ai8()
    try:
        with quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # LiteRT: preserving all tensors is for debugging (it is, here)
            # ranges over all samples (min/max), as TensorFlow's converter takes them; the quantizer's
            # default, a moving average of per-sample ranges, clips the extremes
            manager = recipe_manager.RecipeManager()
            manager.load_quantization_recipe(rec)
            cal = calibrator.Calibrator(content, num_threads=1, qsv_update_func=qsv_utils.min_max_update)
            cal.calibrate(data, manager)
            q = quantizer.Quantizer(bytearray(content), rec)
            result = q.quantize(cal.get_model_qsvs(), enable_progress_report=False)
    except Exception as exc:  # noqa: BLE001 - the quantizer raises ValueError/RuntimeError/KeyError ...
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise TinyDeployError(f"ai-edge-quantizer failed: {text}",
                              "an op it cannot quantize is the usual cause; `tinydeploy inspect` the float model") \
            from None
    out = bytes(result.quantized_model)
    return add_float_edges(out) if float_io else out
