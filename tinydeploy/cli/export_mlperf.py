"""`tinydeploy export-mlperf-data DATA -o datasets/`: samples in the MLPerf Tiny runner's dataset layout."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console


@app.command("export-mlperf-data")
def export_mlperf_data_cmd(
        data: str = typer.Argument(..., help=".npy [N, *shape], .npz (input_0), FILE.npz:KEY, or a folder of "
                                   "images/WAVs/.npy as eval takes (class sub-folders give the labels)."),
        out: Path = typer.Option(..., "-o", "--out", help="The runner's --dataset_path; the samples go to "
                                 "OUT/<mlperf-model>/."),
        mlperf_model: str = typer.Option(None, "--mlperf-model", help="kws01, vww01, ad01 or ic01: the folder "
                                         "name (default: guessed from the input size)."),
        model: Path = typer.Option(None, "--model", "-m", help="The .tflite model: float data is quantized to "
                                   "its input type, sizes are checked (needed for a folder)."),
        labels: str = typer.Option(None, "--labels", "-l", help="Class labels [N] (.npy or FILE.npz:KEY); "
                                   "default: the folder's class sub-folders, or y/labels in the same .npz."),
        preprocess: str = typer.Option(None, "--preprocess", help="For a folder: module:function or "
                                       "file.py:function mapping (path, array) to a sample."),
        limit: int = typer.Option(0, "--limit", "-n", help="Only the first N samples (0 = all)."),
        force: bool = typer.Option(False, "--force", help="Replace an existing OUT/<mlperf-model>/.")) -> None:
    """Write one .bin of raw input bytes per sample and y_labels.csv, as mlcommons/tiny's runner reads them."""
    from ..evaluate import export_mlperf_data

    r = export_mlperf_data(data, out, mlperf_model, model, labels, preprocess, limit, force)
    how = " (quantized from float with the model's input scale)" if r.quantized else ""
    lab = f"labels, {r.classes} classes" if r.labelled else "no labels (class -1: performance mode only)"
    console.print(f"wrote {r.folder}/: {r.samples} samples of {r.sample_bytes:,} bytes {r.dtype}{how}, "
                  f"y_labels.csv ({lab})", highlight=False, soft_wrap=True)
