"""Check many small models at once against the oracle: one host binary, one run per case."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler import compile_graph
from ..host import build_host
from ..ir import DTYPES, Graph
from ..reference import reference_outputs
from ..tflite.reader import parse_model


@dataclass
class Case:
    """One model (tflite bytes) and a description that names it in failure messages."""

    model: bytes
    label: str
    samples: int = 3


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


def check_cases(cases: list[Case], seed: int = 0, sanitize: bool = False) -> list[str]:
    """Compile all cases into one binary, run each on random inputs; return mismatch messages."""
    rng = np.random.default_rng(seed)
    models = []
    for i, c in enumerate(cases):
        g = parse_model(c.model, name=f"case{i}")
        models.append(compile_graph(g, prefix=f"case{i}"))
    exe = build_host(models, sanitize=sanitize)
    failures = []
    for i, (c, m) in enumerate(zip(cases, models)):
        xs = random_inputs(m.graph, c.samples, rng)
        ref = reference_outputs(c.model, xs)
        ours = exe.run(i, xs)
        for k, (a, b) in enumerate(zip(ours, ref)):
            a = a.reshape(b.shape)
            if not np.array_equal(a, b):
                idx = np.argwhere(a != b)[0]
                failures.append(f"{c.label}: output {k} differs at {tuple(idx)}: ours {a[tuple(idx)]} "
                                f"ref {b[tuple(idx)]} ({int((a != b).sum())} of {a.size} differ)")
    return failures
