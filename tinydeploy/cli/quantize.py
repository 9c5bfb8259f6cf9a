"""`tinydeploy quantize MODEL --calib DATA -o OUT.tflite`: a float model to an integer .tflite, with the
per-layer quantization error and, with --eval, float vs quantized accuracy."""
from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from ..quantize import most_lost, quantize_model, worst, write_model
from . import app, console

LOW_SNR_DB = 20.0  # below this a layer's output is visibly coarse: printed in red


def _db(x: float) -> str:
    return "exact" if math.isinf(x) and x > 0 else f"{x:.1f}"


@app.command()
def quantize(model: Path = typer.Argument(..., help="A .keras/.h5 file, a SavedModel folder or a float .tflite."),
             calib: str = typer.Option(..., "--calib", help="Calibration samples: .npy, .npz (input_0, ...), "
                                       "FILE.npz:KEY, or a folder of images/WAVs/.npy as for `eval`."),
             output: Path = typer.Option(..., "--output", "-o", help="The .tflite to write."),
             scheme: str = typer.Option("int8", "--scheme", help="int8, or 16x8 (int16 activations, int8 "
                                        "weights)."),
             float_io: bool = typer.Option(False, "--float-io", help="Keep float32 inputs/outputs (QUANTIZE / "
                                           "DEQUANTIZE at the edges); default: integer I/O."),
             eval_data: str = typer.Option(None, "--eval", help="Labelled samples: a folder with one sub-folder "
                                           "per class, or an .npz with x (or FILE.npz:KEY) and y."),
             report_samples: int = typer.Option(64, "--report-samples", min=1,
                                                help="Calibration samples compared per layer."),
             json_out: Path = typer.Option(None, "--json", help="Also write the report (per-layer error, "
                                           "accuracy) as JSON.")) -> None:
    """Quantize a float model with calibration data; print the per-layer error (and accuracy with --eval)."""
    r = quantize_model(model, calib, scheme, float_io, eval_data, report_samples)
    table = Table(title=f"quantization error per layer (float vs {scheme}, "
                        f"{min(report_samples, r.calib_samples)} calibration samples)")
    for col in ("#", "op", "tensor", "SNR dB", "lost dB", "max err / range"):
        table.add_column(col, justify="left" if col in ("op", "tensor") else "right", overflow="fold",
                         no_wrap=col != "tensor")
    bad, lossy = worst(r.layers), most_lost(r.layers)
    for e in r.layers:
        style = "red" if e.snr_db < LOW_SNR_DB else ""
        name = e.tensor.split(";")[0]  # a fused op's tensor lists every name: the first says enough here
        table.add_row(str(e.op), e.kind, escape(name), _db(e.snr_db),
                      "-" if e.lost_db is None else f"{e.lost_db:.1f}", f"{e.max_abs:.3g} / {e.peak:.3g}",
                      style=style)
    console.print(table)
    if bad is not None:
        console.print(f"worst layer: op {bad.op} {bad.kind} ({escape(bad.tensor)}), SNR {_db(bad.snr_db)} dB",
                      highlight=False)
    if lossy is not None:
        console.print(f"most noise added: op {lossy.op} {lossy.kind} ({escape(lossy.tensor)}), "
                      f"{lossy.lost_db:.1f} dB below its input", highlight=False)
    if r.accuracy:
        f, q, n = r.accuracy
        console.print(f"accuracy on {n} labelled samples: float {100 * f:.2f}%, {scheme} {100 * q:.2f}% "
                      f"({100 * (q - f):+.2f} points)", highlight=False)
    for problem in r.not_compiled:
        console.print(f"[yellow]warning:[/] tinydeploy cannot compile {escape(problem)}", highlight=False)
    write_model(r.content, output)
    if json_out:
        write_model(json.dumps(r.as_dict(), indent=2).encode(), json_out)
    console.print(f"quantized {model.name} with {r.converter} ({scheme}, {'float' if float_io else 'integer'} "
                  f"I/O, {r.calib_samples} calibration samples) -> {output} ({len(r.content):,} B)", highlight=False)
