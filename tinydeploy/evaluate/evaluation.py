"""On-device evaluation: stream every sample to the board, compare with the reference, measure, report.

    oracle = choose_reference("m.tflite", "auto")  # decided before building: LiteRT, else TFLM, else none
    with open_session("m.tflite", board="qemu-m4") as s:
        r = evaluate(s, inputs, labels, oracle)    # outputs, per-invoke counts, agreement, accuracy
    write_report(r, "report.json"); plot_report(r, "report.png")

A board lost mid-run (emulator killed, cable pulled) is brought back by link.Recovery: an emulator we
started is restarted with the same firmware, a --port board waited for (`reconnect_timeout`); the
sample in flight is sent again and every sample gets exactly one result. When it does not come back,
EvalIncomplete carries the result of the samples done (`"complete": false`, resume.py).
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..link import BoardLost, BoardSession, LinkDown, Recovery
from .data import output_arrays, sample_bytes
from .reference import Oracle, choose_reference, describe
from .resume import EvalIncomplete, Partial, digest, resume_section
from .timing import count_us, is_estimate


@dataclass
class EvalResult:
    model: str
    sha256: str
    board: str
    device_name: str
    unit: str
    clock_hz: int
    outputs: list[np.ndarray]
    counts: np.ndarray
    reference: list[np.ndarray] | None
    labels: np.ndarray | None
    arena_bytes: int
    stack_peak_bytes: int | None  # None: the board was lost before they could be read
    canary_ok: bool | None
    ram_bytes: int | None
    seconds: float
    retries: int = 0
    reconnects: int = 0
    extra: dict = field(default_factory=dict)
    oracle: dict = field(default_factory=describe)
    total: int | None = None  # samples asked for (n when complete)
    inputs_sha256: str | None = None
    labels_sha256: str | None = None
    events: list[dict] = field(default_factory=list)  # boards lost and brought back
    invokes: np.ndarray | None = None  # the device's invoke counter per sample measured in this run

    @property
    def complete(self) -> bool:
        return self.total is None or self.n == self.total

    @property
    def n(self) -> int:
        return int(self.counts.shape[0])

    @property
    def agree(self) -> np.ndarray:
        """Per sample: every output byte equals the reference's."""
        if self.reference is None:
            return np.zeros(self.n, bool)
        ok = np.ones(self.n, bool)
        for o, r in zip(self.outputs, self.reference):
            ok &= (o.reshape(self.n, -1).view(np.uint8) == r.reshape(self.n, -1).view(np.uint8)).all(axis=1) \
                if o.size else True
        return ok

    @property
    def predictions(self) -> np.ndarray:
        return top1(self.outputs[0])

    @property
    def reference_predictions(self) -> np.ndarray | None:
        return top1(self.reference[0]) if self.reference is not None else None


def top1(out: np.ndarray) -> np.ndarray:
    return out.reshape(out.shape[0], -1).argmax(axis=1)


def latency_stats(counts: np.ndarray, unit: str, clock_hz: int) -> dict:
    c = counts.astype(np.float64)
    st = {"unit": unit, "mean": float(c.mean()) if c.size else 0.0,
          "p50": float(np.percentile(c, 50)) if c.size else 0.0,
          "p99": float(np.percentile(c, 99)) if c.size else 0.0,
          "min": int(counts.min()) if c.size else 0, "max": int(counts.max()) if c.size else 0,
          "deterministic": bool(c.size and counts.min() == counts.max())}
    us = count_us(1.0, unit, clock_hz)
    if us is not None:
        st["mean_us"], st["p50_us"], st["p99_us"] = st["mean"] * us, st["p50"] * us, st["p99"] * us
        st["time_estimate"] = is_estimate(unit)  # instructions at the clock: 1 instruction per cycle assumed
    return st


def evaluate(s: BoardSession, inputs: list[np.ndarray], labels: np.ndarray | None = None,
             reference: bool | str | Oracle = True,
             progress: Callable[[int, int], None] | None = None, *, resume: Partial | None = None,
             reconnect_timeout: float = 30.0, log: Callable[[str], None] | None = None) -> EvalResult:
    """Run every sample on the board; each gets exactly one result (the client retries/reconnects; a lost
    board is restarted or waited for, see the module doc). reference: an Oracle (choose_reference,
    decided before building), a mode (auto|litert|tflm|none), True (auto) or False (none).
    resume: the samples a partial report holds (load_resume); only the rest is run."""
    oracle = reference if isinstance(reference, Oracle) else \
        choose_reference(s.model_path, "auto" if reference is True else "none" if reference is False else reference)
    n = inputs[0].shape[0]
    if labels is not None and labels.shape[0] != n:
        from ..errors import TinyDeployError
        raise TinyDeployError(f"{labels.shape[0]} labels for {n} samples", "give one label per sample")
    done = resume or Partial()
    if done.board not in (None, "?") and s.board is not None and s.board.id != done.board:
        from ..errors import TinyDeployError
        raise TinyDeployError(f"the report to resume was measured on {done.board}, this run is on {s.board.id}",
                              f"resume on {done.board}: both parts' counts go into one report")
    rows, counts, invokes = list(done.rows), list(done.counts), []
    rec = Recovery(s, reconnect_timeout, log)
    s.client.reopen_wait = min(s.client.reopen_wait, 1.0)  # Recovery does the longer waiting
    if s.restart is not None:  # a hung process we started: restart it after one reconnect, not five
        s.client.reconnects = min(s.client.reconnects, 1)
    t0 = time.monotonic()
    while len(rows) < n:
        i = len(rows)
        try:
            res = s.client.run(sample_bytes(inputs, i))
        except LinkDown as exc:
            try:
                rec.recover(exc, i, n)
            except BoardLost as lost:
                r = _result(s, inputs, labels, oracle, rows, counts, done, rec, time.monotonic() - t0, None)
                r.extra["lost"] = {"after": i, "what": lost.message}
                raise EvalIncomplete(lost.message, lost.hint, r) from None
            continue
        rows.append(res.outputs)
        counts.append(res.count)
        invokes.append(res.invokes)
        if progress:
            progress(i + 1, n)
    r = _result(s, inputs, labels, oracle, rows, counts, done, rec, time.monotonic() - t0, _stats(s, rec, n))
    r.invokes = np.array(invokes, np.int64)
    return r


def _stats(s: BoardSession, rec: Recovery, n: int):
    """Stack peak and canary after the last sample; None when the board is lost by then (every sample has
    its result, and a restarted board would not know them)."""
    try:
        return s.client.stats()
    except LinkDown as exc:
        rec.lost_after_last(exc, n)
        return None


def _result(s: BoardSession, inputs: list[np.ndarray], labels: np.ndarray | None, oracle: Oracle,
            rows: list, counts: list[int], done: Partial, rec: Recovery, seconds: float, st) -> EvalResult:
    """The result of the samples in `rows` (all of them, or those done when the board was lost)."""
    n, k = inputs[0].shape[0], len(rows)
    g, b = s.model.graph, s.board
    ref = oracle.outputs([x[:k] for x in inputs]) if k else None
    ram = sum(r.size for r in b.regions("ram")[:1]) if b is not None and b.regions("ram") else None
    clock = s.hello.clock_hz or (b.clock_hz if b is not None else 0)
    return EvalResult(s.model_path.name, g.sha256, b.id if b else "?", s.hello.name, s.hello.unit,
                      clock, output_arrays(g, rows), np.array(counts, np.int64), ref,
                      labels[:k] if labels is not None else None, s.hello.arena_bytes,
                      st.stack_peak_bytes if st else None, st.canary_ok if st else None, ram,
                      done.seconds + seconds, done.retries + s.client.stats_retries,
                      done.reconnects + s.client.stats_reconnects, oracle=oracle.describe(), total=n,
                      inputs_sha256=digest(inputs), labels_sha256=digest(labels), events=done.events + rec.events)


def report_dict(r: EvalResult) -> dict:
    agree = r.agree
    rep = {"model": r.model, "sha256": r.sha256, "board": r.board, "device": r.device_name, "samples": r.n,
           "complete": r.complete, "samples_total": r.total if r.total is not None else r.n,
           "inputs_sha256": r.inputs_sha256, "labels_sha256": r.labels_sha256,
           "reference": r.oracle,
           "bit_exact": {"checked": r.reference is not None, "reference": r.oracle["name"],
                         "agree": int(agree.sum()),
                         "all": bool(r.reference is not None and agree.all()),
                         "mismatched_samples": [int(i) for i in np.flatnonzero(~agree)[:20]]
                         if r.reference is not None else []},
           "latency": latency_stats(r.counts, r.unit, r.clock_hz),
           "memory": {"arena_bytes": r.arena_bytes, "stack_peak_bytes": r.stack_peak_bytes,
                      "canary_ok": r.canary_ok, "board_ram_bytes": r.ram_bytes},
           "link": {"seconds": round(r.seconds, 3), "invokes_per_s": round(r.n / r.seconds, 2) if r.seconds else None,
                    "retries": r.retries, "reconnects": r.reconnects,
                    "restarts": sum(1 for e in r.events if e.get("restarted")), "events": r.events},
           "counts": [int(c) for c in r.counts], "clock_hz": r.clock_hz}
    if r.labels is not None and r.n:
        pred = r.predictions
        rep["accuracy"] = {"device": float((pred == r.labels).mean()), "correct": int((pred == r.labels).sum())}
        if r.reference is not None:
            rp = r.reference_predictions
            rep["accuracy"]["host"] = float((rp == r.labels).mean())
            rep["accuracy"]["host_correct"] = int((rp == r.labels).sum())
        rep["confusion"] = confusion(r.labels, pred).tolist()
    if not r.complete:
        rep["resume"] = resume_section(r.outputs)
    rep.update(r.extra)
    return rep


def confusion(labels: np.ndarray, pred: np.ndarray) -> np.ndarray:
    k = int(max(labels.max(initial=0), pred.max(initial=0))) + 1
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (labels, pred), 1)
    return m


def _atomic(path: Path, write: Callable[[str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_report(r: EvalResult | dict, path: str | Path) -> None:
    rep = r if isinstance(r, dict) else report_dict(r)
    _atomic(Path(path), lambda t: Path(t).write_text(json.dumps(rep, indent=2) + "\n"))


def save_outputs(r: EvalResult, path: str | Path) -> None:
    from .npyio import save_outputs as save
    save(Path(path), r.outputs)


def plot_report(r: EvalResult, path: str | Path) -> None:
    """PNG: latency histogram (+ confusion matrix when labelled)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rep = report_dict(r)
    cols = 2 if r.labels is not None else 1
    fig, axes = plt.subplots(1, cols, figsize=(6 * cols, 4.5), squeeze=False)
    ax = axes[0][0]
    ax.hist(r.counts, bins=min(50, max(5, len(set(r.counts.tolist())))), color="#3b7dd8")
    lat = rep["latency"]
    ax.set_title(f"{r.model} on {r.board}: latency per invoke")
    ax.set_xlabel(r.unit)
    ax.set_ylabel("samples")
    ax.axvline(lat["p50"], color="k", ls="--", lw=1, label=f"p50 {lat['p50']:,.0f}")
    ax.axvline(lat["p99"], color="r", ls=":", lw=1, label=f"p99 {lat['p99']:,.0f}")
    ax.legend()
    if r.labels is not None:
        cm = np.array(rep["confusion"])
        ax = axes[0][1]
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                        color="white" if v > cm.max() / 2 else "black")
        acc = rep["accuracy"]
        ax.set_title(f"confusion: device {acc['device']:.2%}" +
                     (f", host {acc['host']:.2%}" if "host" in acc else ""))
        ax.set_xlabel("predicted")
        ax.set_ylabel("label")
    fig.tight_layout()
    _atomic(Path(path), lambda t: fig.savefig(t, format="png", dpi=100))
    plt.close(fig)
