"""Evaluating a model on a board: eval (evaluation.py), input data (data.py, folder.py, npyio.py), the
live monitor, and the oracles: LiteRT BUILTIN_REF (reference.py) and TFLM's arena (tflm.py).
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
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
})
