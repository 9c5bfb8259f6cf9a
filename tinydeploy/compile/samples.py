"""How arrays of samples line up with a graph's inputs (shared by eval, the firmware samples and the
host runner, which differ only in what they accept as a dtype)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import TinyDeployError
from .ir import DTYPES, Graph, Tensor


def input_arrays(g: Graph, arrays: Sequence[np.ndarray]) -> list[tuple[Tensor, np.dtype, np.ndarray]]:
    """(input tensor, its numpy dtype, the array) per graph input; one sample given without the batch
    axis ([*shape]) gets one. Raises when the number of arrays is not the number of inputs."""
    if len(arrays) != len(g.inputs):
        raise TinyDeployError(f"the model has {len(g.inputs)} inputs, got {len(arrays)} arrays")
    out = []
    for x, tid in zip(arrays, g.inputs):
        t = g.tensors[tid]
        x = np.asarray(x)
        if x.size == t.size:
            x = x.reshape((1,) + tuple(t.shape))
        out.append((t, np.dtype(DTYPES[t.dtype][0]), x))
    return out
