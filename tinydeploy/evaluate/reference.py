"""The oracles a board's outputs are checked against, chosen before anything is built:

    oracle = choose_reference("m.tflite", "auto")   # LiteRT BUILTIN_REF; TFLM when LiteRT refuses the model
    oracle.outputs(inputs)                           # [N, *out_shape] per output (None for "none")

`litert` is LiteRT with the reference op resolver (bit-exact with TFLM's reference kernels); `tflm` is TFLite
Micro's Python interpreter (the `tflite-micro` package, run in a subprocess: tflm.py); `none` checks nothing
(the report says exactness is unchecked). `auto` takes the first that loads the model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import TinyDeployError

REFERENCE_MODES = ("auto", "litert", "tflm", "none")
LABELS = {"litert": "LiteRT BUILTIN_REF", "tflm": "TFLM's interpreter (tflite-micro)", "none": "none"}
SHORT = {"litert": "LiteRT", "tflm": "TFLM", "none": "no reference"}


def _litert(model: str | Path | bytes):
    """LiteRT's interpreter on the model, tensors allocated; TinyDeployError when it refuses the model."""
    from ai_edge_litert import interpreter as lit

    kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else \
        {"model_path": str(model)}
    try:
        it = lit.Interpreter(experimental_op_resolver_type=lit.OpResolverType.BUILTIN_REF, **kwargs)
        it.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise TinyDeployError(f"LiteRT refused the model: {_first_sentence(str(exc))}",
                              "--reference tflm checks against TFLite Micro instead") from None
    return it


def _first_sentence(text: str) -> str:
    """LiteRT repeats its complaint once per tensor, without spaces: keep the first sentence."""
    line = (text.strip().splitlines() or ["?"])[0]
    return re.split(r"\.(?=\s*[A-Z])", line)[0]


def reference_outputs(model: str | Path | bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run LiteRT BUILTIN_REF on a batch: inputs[i] is [N, *shape_i]; returns [N, *out_shape] arrays."""
    it = _litert(model)
    ins, outs = it.get_input_details(), it.get_output_details()
    n = int(inputs[0].shape[0]) if inputs else 1
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for s in range(n):
        it.reset_all_variables()
        for d, x in zip(ins, inputs):
            it.set_tensor(d["index"], np.ascontiguousarray(x[s]).reshape(d["shape"]).astype(d["dtype"]))
        it.invoke()
        for k, d in enumerate(outs):
            results[k].append(it.get_tensor(d["index"]).copy())
    return [np.stack(r) for r in results]


def describe(kind: str = "litert", note: str = "") -> dict:
    """A reference for JSON reports: {"name", "label", "short", "checked", "note"}."""
    return {"name": kind, "label": LABELS[kind], "short": SHORT[kind], "checked": kind != "none", "note": note}


@dataclass
class Oracle:
    """The reference a run is checked against: kind is litert, tflm or none; note says why when it is not
    what was asked for (auto's fallback) or when nothing is checked."""
    kind: str
    model: str | Path | bytes
    note: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def checked(self) -> bool:
        return self.kind != "none"

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def short(self) -> str:
        return SHORT[self.kind]

    def describe(self) -> dict:
        return describe(self.kind, self.note)

    def outputs(self, inputs: list[np.ndarray]) -> list[np.ndarray] | None:
        """The reference's outputs for a batch ([N, *shape] per input), None when nothing is checked."""
        if self.kind == "litert":
            return reference_outputs(self.model, inputs)
        if self.kind == "tflm":
            from .tflm import tflm_outputs

            return tflm_outputs(self.model, inputs)
        return None

    def sampler(self, inputs: list[np.ndarray], chunk: int = 256) -> Callable[[int], list[bytes]] | None:
        """sample k of `inputs` -> the reference's output bytes (the monitor checks each result as it comes):
        LiteRT runs one sample at a time, TFLM (a subprocess) `chunk` samples at a time, each computed once."""
        if not self.checked:
            return None
        if self.kind == "litert":
            ref = _Single(_litert(self.model))
            return lambda k: ref.run([x[k] for x in inputs])
        cache: dict[int, list[bytes]] = {}

        def get(k: int) -> list[bytes]:
            if k not in cache:
                hi = min(k + chunk, inputs[0].shape[0])
                outs = self.outputs([x[k:hi] for x in inputs])
                for j in range(hi - k):
                    cache[k + j] = [o[j].tobytes() for o in outs]
            return cache[k]

        return get


class _Single:
    """LiteRT, one sample at a time."""

    def __init__(self, it) -> None:
        self.it = it
        self.ins, self.outs = it.get_input_details(), it.get_output_details()

    def run(self, sample: list[np.ndarray]) -> list[bytes]:
        self.it.reset_all_variables()
        for d, x in zip(self.ins, sample):
            self.it.set_tensor(d["index"], np.ascontiguousarray(x).reshape(d["shape"]).astype(d["dtype"]))
        self.it.invoke()
        return [self.it.get_tensor(d["index"]).tobytes() for d in self.outs]


def choose_reference(model: str | Path | bytes, mode: str = "auto") -> Oracle:
    """The oracle for `model`, decided by loading it (before anything is built). `litert`/`tflm` raise
    TinyDeployError when that one refuses the model; `auto` falls back to TFLM, then to none (with a note)."""
    from .tflm import tflm_check

    mode = (mode or "auto").strip().lower()
    if mode not in REFERENCE_MODES:
        raise TinyDeployError(f"unknown reference {mode!r}", f"choose one of: {', '.join(REFERENCE_MODES)}")
    if mode == "none":
        return Oracle("none", model, "--reference none: exactness is unchecked")
    if mode == "tflm":
        tflm_check(model)
        return Oracle("tflm", model)
    try:
        _litert(model)
        return Oracle("litert", model)
    except TinyDeployError as exc:
        if mode == "litert":
            raise
        refused = exc.message
    try:
        tflm_check(model)
    except TinyDeployError as exc:
        return Oracle("none", model, f"{refused}; {exc.message}: exactness is unchecked")
    return Oracle("tflm", model, f"{refused}; checked against TFLM's interpreter instead")
