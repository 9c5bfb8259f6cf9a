"""Read model inputs from / write outputs to .npy and .npz files, and the batch shape rule between them:
when a model's batch dimension is 1 and the inputs come as [N, *input_shape[1:]], the outputs are written
as [N, *output_shape[1:]] (the batch axis is replaced, as Keras' predict does); inputs given as
[N, *input_shape] keep [N, *output_shape]."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..compile import Graph
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


def replaces_batch(g: Graph, arrays: list[np.ndarray]) -> bool:
    """Were the inputs given as [N, *input_shape[1:]] for a model whose inputs all have batch dimension 1?"""
    shapes = [tuple(g.tensors[t].shape) for t in g.inputs]
    return bool(shapes) and len(arrays) == len(shapes) and all(
        len(s) >= 1 and s[0] == 1 and np.ndim(x) == len(s) and tuple(np.shape(x)[1:]) == s[1:]
        for s, x in zip(shapes, arrays))


def batch_outputs(g: Graph, arrays: list[np.ndarray], outputs: list[np.ndarray]) -> list[np.ndarray]:
    """outputs ([N, *output_shape] each) shaped by the batch rule for the inputs as they were given (`arrays`):
    [N, *output_shape[1:]] for an output with batch dimension 1 when the inputs replaced the batch axis."""
    if not replaces_batch(g, arrays):
        return outputs
    shaped = []
    for o, tid in zip(outputs, g.outputs):
        s = tuple(g.tensors[tid].shape)
        shaped.append(o.reshape((o.shape[0],) + s[1:]) if len(s) >= 1 and s[0] == 1 else o)
    return shaped
