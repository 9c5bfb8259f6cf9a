"""Evaluating a model on a board: eval (evaluation.py), input data (data.py, folder.py, npyio.py), the
live monitor, and the oracles: LiteRT BUILTIN_REF (reference.py) and TFLM's arena (tflm.py).
"""
from __future__ import annotations

import importlib
from typing import Any

# The package's public face: other packages import these names from here (loaded on first use,
# so importing the package costs nothing and layers never import each other in a cycle).
_EXPORTS = {
    "evaluate": ".evaluation",
    "load_arrays": ".data",
    "load_folder": ".folder",
    "load_hook": ".folder",
    "load_inputs": ".npyio",
    "load_labels": ".data",
    "output_arrays": ".data",
    "plot_report": ".evaluation",
    "prepare_inputs": ".data",
    "random_inputs": ".data",
    "reference_outputs": ".reference",
    "render": ".monitor",
    "report_dict": ".evaluation",
    "run_monitor": ".monitor",
    "sample_bytes": ".data",
    "save_outputs": ".npyio",
    "tflm_measure": ".tflm",
    "write_report": ".evaluation",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
