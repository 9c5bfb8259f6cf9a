"""A partial eval report (`"complete": false`) and `eval --resume REPORT.json` continuing it.

    try:
        r = evaluate(s, xs, ys, oracle)
    except EvalIncomplete as exc:           # the board did not come back: exc.result holds the samples done
        write_report(exc.result, "r.json")  # with "complete": false and a "resume" section (outputs so far)
    done = load_resume("r.json", g, xs, ys) # refuses another model (SHA-256), other inputs or labels
    r = evaluate(s, xs, ys, oracle, resume=done)

The resume section carries each output tensor's bytes of the samples done (base64), so the finished
report, its bit-exactness and accuracy cover every sample; counts, seconds, retries and events add up.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile import Graph
from ..errors import TinyDeployError


class EvalIncomplete(TinyDeployError):
    """The board was lost for good; `result` is the EvalResult of the samples done (complete=False)."""

    def __init__(self, message: str, hint: str, result) -> None:
        super().__init__(message, hint)
        self.result = result


@dataclass
class Partial:
    """What a partial report says was done: one row of output bytes per sample done, and its counts."""
    rows: list[list[bytes]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    seconds: float = 0.0
    retries: int = 0
    reconnects: int = 0
    events: list[dict] = field(default_factory=list)
    board: str | None = None


def digest(arrays: list[np.ndarray] | np.ndarray | None) -> str | None:
    """SHA-256 over dtype, shape and bytes of each array (the prepared inputs, or the labels)."""
    if arrays is None:
        return None
    h = hashlib.sha256()
    for a in arrays if isinstance(arrays, list) else [arrays]:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{list(a.shape)}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def resume_section(outputs: list[np.ndarray]) -> dict:
    """The outputs of the samples done, for the report of an incomplete run."""
    return {"outputs_b64": [base64.b64encode(np.ascontiguousarray(o).tobytes()).decode() for o in outputs]}


def _rows(g: Graph, blobs: list[bytes], n: int) -> list[list[bytes]]:
    sizes = [g.tensors[t].nbytes for t in g.outputs]
    if len(blobs) != len(sizes) or any(len(b) != n * z for b, z in zip(blobs, sizes)):
        raise ValueError("outputs do not match the model")
    return [[b[i * z:(i + 1) * z] for b, z in zip(blobs, sizes)] for i in range(n)]


def load_resume(path: str | Path, g: Graph, inputs: list[np.ndarray], labels: np.ndarray | None) -> Partial:
    """The partial report at `path`, checked against this model, these inputs and labels."""
    path = Path(path)
    try:
        rep = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TinyDeployError(f"cannot read the report {path}: {exc}",
                              "give the JSON report an interrupted eval wrote (--json)") from None
    if not isinstance(rep, dict) or "complete" not in rep:
        raise TinyDeployError(f"{path} is not an eval report", "give the JSON report an interrupted eval wrote")
    n = inputs[0].shape[0]
    if rep["complete"]:
        raise TinyDeployError(f"{path} is complete ({rep.get('samples')} samples): nothing to resume",
                              "run eval without --resume to measure again")
    if rep.get("sha256") != g.sha256:
        raise TinyDeployError(f"{path} is a report of another model (sha256 {str(rep.get('sha256'))[:12]}…, this "
                              f"model {g.sha256[:12]}…)", "resume with the model that report was made with")
    if rep.get("inputs_sha256") != digest(inputs) or rep.get("samples_total") != n:
        raise TinyDeployError(f"the inputs differ from those of {path} (SHA-256 of the prepared inputs, "
                              f"{rep.get('samples_total')} samples there, {n} here)",
                              "resume with the same --inputs (and --limit) as the interrupted run")
    if rep.get("labels_sha256") != digest(labels):
        raise TinyDeployError(f"the labels differ from those of {path}",
                              "resume with the same --labels as the interrupted run (or none if it had none)")
    done = int(rep.get("samples", 0))
    try:
        rows = _rows(g, [base64.b64decode(b) for b in rep["resume"]["outputs_b64"]], done)
        counts = [int(c) for c in rep["counts"]]
        assert len(counts) == done <= n
    except (KeyError, TypeError, ValueError, AssertionError):
        raise TinyDeployError(f"{path} has no usable resume section (outputs of the samples done)",
                              "run eval again without --resume") from None
    link = rep.get("link", {})
    events = list(link.get("events", []))
    if isinstance(rep.get("lost"), dict):  # how the interrupted run ended, kept in the finished report
        events.append({**rep["lost"], "recovered": f"resumed from {path.name}", "restarted": False})
    return Partial(rows, counts, float(link.get("seconds", 0.0)), int(link.get("retries", 0)),
                   int(link.get("reconnects", 0)), events, rep.get("board"))
