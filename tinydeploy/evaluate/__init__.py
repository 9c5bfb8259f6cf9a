"""Evaluating a model on a board: eval (evaluation.py), input data (data.py, folder.py, npyio.py), the
live monitor, time beside counts (timing.py), and the oracles: LiteRT BUILTIN_REF (reference.py) and TFLM
(tflm.py).
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "BenchResult": ".bench",
    "CaseRun": ".baked",
    "bench_lines": ".bench_report",
    "batch_outputs": ".npyio",
    "choose_reference": ".reference",
    "count_us": ".timing",
    "evaluate": ".evaluation",
    "export_mlperf_data": ".mlperf_data",
    "EvalIncomplete": ".resume",
    "layer_table": ".bench_report",
    "load_arrays": ".data",
    "load_folder": ".folder",
    "load_hook": ".folder",
    "load_inputs": ".npyio",
    "load_labels": ".data",
    "load_resume": ".resume",
    "output_arrays": ".data",
    "plot_report": ".evaluation",
    "plot_layers": ".bench_report",
    "prepare_inputs": ".data",
    "random_inputs": ".data",
    "reference_outputs": ".reference",
    "REFERENCE_MODES": ".reference",
    "render": ".monitor",
    "report_dict": ".evaluation",
    "run_bench": ".bench",
    "run_on_board": ".baked",
    "run_monitor": ".monitor",
    "sample_bytes": ".data",
    "save_outputs": ".npyio",
    "tflm_measure": ".tflm",
    "time_text": ".timing",
    "write_report": ".evaluation",
})
