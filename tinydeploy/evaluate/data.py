"""Data for eval/monitor: input arrays (quantized when given as float), labels, outputs by sample.

Paths: `X.npy` (one input), `X.npz` (input_0, input_1, … as `tinydeploy run`), or `X.npz:key` for one
array of an .npz (e.g. models/digits_test.npz:x_int8, models/digits_test.npz:y).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compile import DTYPES, Graph, input_arrays
from ..errors import TinyDeployError


def split_key(spec: str | Path) -> tuple[Path, str | None]:
    """'a.npz:key' -> (a.npz, 'key'); anything else -> (path, None)."""
    s = str(spec)
    head, sep, key = s.rpartition(":")
    if sep and head.endswith(".npz") and key:
        return Path(head), key
    return Path(s), None


def _load(path: Path):
    if not path.is_file():
        raise TinyDeployError(f"file not found: {path}")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise TinyDeployError(f"cannot read {path}: {exc}", "pass a .npy or .npz written by numpy") from None


def load_arrays(spec: str | Path, count: int) -> list[np.ndarray]:
    """The model's input arrays from a .npy, an .npz (input_i keys) or 'file.npz:key'."""
    from .npyio import load_inputs

    path, key = split_key(spec)
    if key is None:
        return load_inputs(path, count)
    data = _load(path)
    if key not in data.files:
        raise TinyDeployError(f"{path} has no array {key!r}", f"its arrays: {', '.join(data.files)}")
    if count != 1:
        raise TinyDeployError(f"the model has {count} inputs; {spec} names one array",
                              "pass an .npz with keys input_0, input_1, ...")
    return [data[key]]


def load_labels(spec: str | Path) -> np.ndarray:
    path, key = split_key(spec)
    data = _load(path)
    if not isinstance(data, np.ndarray):
        key = key or ("y" if "y" in data.files else "labels" if "labels" in data.files else None)
        if key is None or key not in data.files:
            raise TinyDeployError(f"which array of {path} holds the labels?", "write it as FILE.npz:KEY")
        data = data[key]
    y = np.asarray(data)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    if not np.issubdtype(y.dtype, np.integer):
        raise TinyDeployError(f"labels in {spec} must be integers (class indices), got {y.dtype}")
    return y.reshape(-1).astype(np.int64)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """float -> integer as TFLite's QUANTIZE: round half away from zero, add the zero point, clamp."""
    info = np.iinfo(dtype)
    q = np.sign(x) * np.floor(np.abs(x.astype(np.float64) / scale) + 0.5) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def prepare_inputs(g: Graph, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """[N, *shape] arrays of the model's input dtypes; float arrays for integer inputs are quantized."""
    out = []
    for t, want, x in input_arrays(g, arrays):
        if x.ndim == 0 or x.size % t.size:
            raise TinyDeployError(f"input {t.name!r}: {list(x.shape)} is not [N, {', '.join(map(str, t.shape))}]")
        x = x.reshape((x.size // t.size,) + tuple(t.shape))
        if x.dtype != want:
            if np.issubdtype(x.dtype, np.floating) and np.issubdtype(want, np.integer):
                if t.quant is None:
                    raise TinyDeployError(f"input {t.name!r} has no quantization to quantize floats with")
                x = quantize(x, t.scale, t.zero_point, want)
            elif np.issubdtype(x.dtype, np.integer) and np.issubdtype(want, np.integer) and \
                    x.min(initial=0) >= np.iinfo(want).min and x.max(initial=0) <= np.iinfo(want).max:
                x = x.astype(want)
            else:
                raise TinyDeployError(f"input {t.name!r} must be {want} (or float32 to quantize), got {x.dtype}")
        out.append(np.ascontiguousarray(x))
    if len({x.shape[0] for x in out}) != 1:
        raise TinyDeployError("every input needs the same number of samples")
    return out


def sample_bytes(inputs: list[np.ndarray], s: int) -> list[bytes]:
    return [np.ascontiguousarray(x[s]).tobytes() for x in inputs]


def output_arrays(g: Graph, rows: list[list[bytes]]) -> list[np.ndarray]:
    """Per-sample output bytes -> [N, *shape] arrays of the model's output dtypes."""
    result = []
    for k, tid in enumerate(g.outputs):
        t = g.tensors[tid]
        dt = np.dtype(DTYPES[t.dtype][0])
        result.append(np.stack([np.frombuffer(r[k], dt).reshape(t.shape) for r in rows]) if rows
                      else np.zeros((0,) + tuple(t.shape), dt))
    return result


def random_inputs(g: Graph, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Random samples for every graph input, full range of the input dtype."""
    out = []
    for tid in g.inputs:
        t = g.tensors[tid]
        shape = (n,) + tuple(t.shape)
        if t.dtype == "float32":
            out.append(rng.normal(0, 2, shape).astype(np.float32))
        else:
            info = np.iinfo(DTYPES[t.dtype][0])
            out.append(rng.integers(info.min, int(info.max) + 1, shape).astype(DTYPES[t.dtype][0]))
    return out
