"""Datasets in the layout of the MLPerf Tiny runner (mlcommons/tiny `benchmark/runner`).

What the runner does with a dataset (read from its datasets.py, script.py and main.py):
- `--dataset_path DIR` holds one folder per benchmark, named by the model string the board answers to
  `profile` (`m-model-[kws01]`): kws01, vww01, ad01, ic01.
- In that folder, `y_labels.csv` is read by csv.DictReader with the fixed field names
  file, classes, class, bytes_to_send, stride, so the file has NO header row: every line is a sample.
  `file` is a path relative to the folder, `class` the true class index (accuracy mode compares it with
  the argmax of the board's `m-results-[...]`), `classes` the number of classes.
- Each sample file is read whole and sent as raw bytes (`db load N`, then `db <hex>` chunks). Only ad01
  splits a file: windows of `bytes_to_send` bytes every `stride` bytes, each sent and inferred alone.
- Accuracy mode walks every line in order; performance mode uses the first file only.

Here each sample is one `.bin` of the model input's raw bytes (what tinydeploy's MLPerf firmware reads
into the input tensor), so bytes_to_send = stride = the sample's size. Float data is quantized to the
model's input type when the model is given (as `eval` does). Unlabelled samples get class -1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compile import Graph
from ..errors import TinyDeployError

MLPERF_MODELS = ("kws01", "vww01", "ad01", "ic01")
# Input elements of the reference models: kws01 49x10x1 MFCCs, vww01 96x96x3, ic01 32x32x3, ad01 640.
_ELEMENTS = {490: "kws01", 27648: "vww01", 3072: "ic01", 640: "ad01"}
LABELS_FILE = "y_labels.csv"


@dataclass
class MlperfExport:
    folder: Path
    mlperf_model: str
    samples: int
    sample_bytes: int
    dtype: str
    classes: int
    labelled: bool
    quantized: bool  # float data quantized with the model's input scale


def _npz_keys(path: Path) -> list[str]:
    import zipfile

    try:
        z = np.load(path, allow_pickle=False)
        files = list(getattr(z, "files", []))
        getattr(z, "close", lambda: None)()
        return files
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise TinyDeployError(f"cannot read {path}: {exc}", "pass a .npy or .npz written by numpy") from None


def _samples(data: str | Path, g: Graph | None, preprocess: str | None
             ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """([N, ...] samples, labels from the folder names or None, class names) from an array file or folder."""
    from .data import load_arrays, split_key
    from .folder import load_folder, load_hook

    path, key = split_key(data)
    if path.is_dir():
        if g is None:
            raise TinyDeployError(f"{path} is a folder: its files are sized and quantized for a model",
                                  "pass --model MODEL.tflite")
        arrays, labels, classes = load_folder(path, g, load_hook(preprocess))
        return arrays[0], labels, classes
    if g is not None and len(g.inputs) != 1:
        raise TinyDeployError(f"the model has {len(g.inputs)} inputs; MLPerf Tiny sends one input per sample")
    if path.suffix == ".npz" and key is None and path.is_file():
        files = _npz_keys(path)
        if "input_0" not in files:
            raise TinyDeployError(f"which array of {path} holds the samples?",
                                  f"write it as {path}:KEY (its arrays: {', '.join(files)})")
    return load_arrays(data, 1)[0], None, []


def _auto_labels(data: str | Path) -> np.ndarray | None:
    """Labels stored beside the inputs in the same .npz (key y or labels), as models/digits_test.npz has."""
    from .data import load_labels, split_key

    path, key = split_key(data)
    if path.suffix != ".npz" or not path.is_file():
        return None
    names = [k for k in ("y", "labels") if k in _npz_keys(path) and k != key]
    return load_labels(f"{path}:{names[0]}") if names else None


def guess_mlperf_model(elements: int) -> str:
    """kws01/vww01/ic01/ad01 from the number of input elements of the reference models."""
    if elements in _ELEMENTS:
        return _ELEMENTS[elements]
    raise TinyDeployError(f"which MLPerf Tiny benchmark is a {elements}-element input?",
                          "pass --mlperf-model kws01|vww01|ad01|ic01 (the model string the firmware answers "
                          "to `profile`; the runner picks the dataset folder by it)")


def _file_name(i: int, label: int | None, classes: list[str]) -> str:
    if label is None or label < 0:
        return f"tst_{i:06d}.bin"
    name = classes[label] if label < len(classes) else str(label)
    return f"tst_{i:06d}_{re.sub(r'[^A-Za-z0-9-]+', '-', name)}.bin"


def _target(out: Path, mlperf_model: str, force: bool) -> Path:
    folder = out if out.name == mlperf_model else out / mlperf_model
    if folder.exists() and not folder.is_dir():
        raise TinyDeployError(f"{folder} exists and is not a folder", "choose another -o")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise TinyDeployError(f"{folder} already exists", "remove it, choose another -o, or pass --force "
                              "to replace it")
    return folder


def export_mlperf_data(data: str | Path, out: str | Path, mlperf_model: str | None = None,
                       model: str | Path | None = None, labels: str | Path | None = None,
                       preprocess: str | None = None, limit: int = 0, force: bool = False) -> MlperfExport:
    """Write OUT/<mlperf_model>/ (one .bin per sample + y_labels.csv) from .npy/.npz/FILE.npz:KEY or a
    folder that `eval` takes. All or nothing: the folder appears only when complete."""
    from ..compile import load_model
    from ..paths import staged_folder
    from .data import load_labels, prepare_inputs

    if mlperf_model is not None and mlperf_model not in MLPERF_MODELS:
        raise TinyDeployError(f"unknown MLPerf Tiny model {mlperf_model!r}", f"one of: {', '.join(MLPERF_MODELS)}")
    g = load_model(Path(model)) if model is not None else None
    x, y, class_names = _samples(data, g, preprocess)
    if labels is not None:
        y = load_labels(labels)
    elif y is None:
        y = _auto_labels(data)
    raw_dtype = x.dtype
    if g is not None:
        x = prepare_inputs(g, [x])[0]
    elif not np.issubdtype(x.dtype, np.integer):
        raise TinyDeployError(f"the samples in {data} are {x.dtype}: the board reads the model input's bytes",
                              "pass --model MODEL.tflite to quantize them with its input scale")
    elif x.ndim < 2:
        raise TinyDeployError(f"{data} holds one array of shape {list(x.shape)}, not [N, *sample_shape]")
    outputs = g.tensors[g.outputs[0]].size if g is not None and g.outputs else 0
    n_classes = len(class_names) or outputs or (int(y.max(initial=0)) + 1 if y is not None else 1)
    if limit > 0:
        x, y = x[:limit], (y[:limit] if y is not None else None)
    n = len(x)
    if n == 0:
        raise TinyDeployError(f"no samples in {data}")
    if y is not None and len(y) != n:
        raise TinyDeployError(f"{n} samples but {len(y)} labels", "pass labels for exactly these samples")
    sample_bytes = x[0].nbytes
    mlperf_model = mlperf_model or guess_mlperf_model(x[0].size)
    n_classes = 2 if mlperf_model == "ad01" else n_classes  # normal / anomalous
    folder = _target(Path(out), mlperf_model, force)
    rows = []
    with staged_folder(folder) as tmp:
        for i in range(n):
            label = int(y[i]) if y is not None else None
            name = _file_name(i, label, class_names)
            (tmp / name).write_bytes(np.ascontiguousarray(x[i]).tobytes())
            rows.append(f"{name},{n_classes},{-1 if label is None else label},{sample_bytes},{sample_bytes}\n")
        (tmp / LABELS_FILE).write_text("".join(rows))
    return MlperfExport(folder, mlperf_model, n, sample_bytes, str(x.dtype), n_classes, y is not None,
                        bool(np.issubdtype(raw_dtype, np.floating) and np.issubdtype(x.dtype, np.integer)))
