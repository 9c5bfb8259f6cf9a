"""Check many small models at once against the oracle: one host binary, one run per case."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compile import PlanOptions, compile_graph, parse_model
from ..evaluate import (
    random_inputs,  # noqa: F401  (re-exported for the op tests)
    reference_outputs,
)
from ..target import build_host


@dataclass
class Case:
    """One model (tflite bytes) and a description that names it in failure messages; a model of
    several independent ops also names each output (output_labels)."""

    model: bytes
    label: str
    samples: int = 3
    output_labels: list[str] | None = None


def check_groups(groups: dict[str, list[tuple[Case, list[np.ndarray] | None]]], seed: int = 0,
                 sanitize: bool = False, options: PlanOptions | None = None) -> dict[str, list[str]]:
    """Compile every case of every group into ONE host binary (the runtime is compiled once), run
    each on its given input batches (None: seeded random ones) and compare with LiteRT; floats bit
    for bit. Returns the mismatch messages per group. options: how every case is compiled (default
    PlanOptions())."""
    flat = [(name, c, xs) for name, items in groups.items() for c, xs in items]
    models = [compile_graph(parse_model(c.model, name=f"case{i}"), prefix=f"case{i}", options=options)
              for i, (_, c, _) in enumerate(flat)]
    exe = build_host(models, sanitize=sanitize)
    rng = np.random.default_rng(seed)
    failures: dict[str, list[str]] = {name: [] for name in groups}
    for i, ((name, c, xs), m) in enumerate(zip(flat, models)):
        xs = random_inputs(m.graph, c.samples, rng) if xs is None else xs
        ours, ref = exe.run(i, xs), reference_outputs(c.model, xs)
        if len(ours) != len(ref):
            failures[name].append(f"{c.label}: {len(ours)} outputs, LiteRT has {len(ref)}")
            continue
        for k, (a, b) in enumerate(zip(ours, ref)):
            a = a.reshape(b.shape)
            bad = a.view(np.uint32) != b.view(np.uint32) if a.dtype == np.float32 else a != b
            if bad.any():
                idx = tuple(np.argwhere(bad)[0])
                what = f"{c.label}: {c.output_labels[k]}" if c.output_labels else c.label
                failures[name].append(f"{what}: output {k} differs at {idx}: ours {a[idx]!r} ref {b[idx]!r} "
                                      f"({int(bad.sum())} of {a.size} differ)")
    return failures


def check_cases(cases: list[Case], seed: int = 0, sanitize: bool = False,
                options: PlanOptions | None = None) -> list[str]:
    """Compile all cases into one binary, run each on random inputs; return mismatch messages."""
    return check_groups({"": [(c, None) for c in cases]}, seed=seed, sanitize=sanitize, options=options)[""]
