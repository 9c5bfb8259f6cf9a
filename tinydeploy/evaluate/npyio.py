"""Read model inputs from / write outputs to .npy and .npz files."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import TinyDeployError


def load_inputs(path: Path, count: int) -> list[np.ndarray]:
    if not path.is_file():
        raise TinyDeployError(f"input file not found: {path}")
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise TinyDeployError(f"cannot read {path}: {exc}", "pass a .npy or .npz written by numpy") from None
    if isinstance(data, np.ndarray):
        if count != 1:
            raise TinyDeployError(f"the model has {count} inputs; a .npy holds only one",
                                  "pass an .npz with keys input_0, input_1, ...")
        return [data]
    missing = [f"input_{i}" for i in range(count) if f"input_{i}" not in data.files]
    if missing:
        raise TinyDeployError(f"{path} lacks {', '.join(missing)}", "an .npz needs keys input_0, input_1, ...")
    return [data[f"input_{i}"] for i in range(count)]


def save_outputs(path: Path, outputs: list[np.ndarray]) -> None:
    """Write .npy (output 0 only) or .npz (output_0, ...) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".td-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if path.suffix == ".npz":
            np.savez(tmp, **{f"output_{i}": o for i, o in enumerate(outputs)})
        else:
            np.save(tmp, outputs[0])
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
