"""`tinydeploy monitor`: inference on the board, live (like `pio device monitor`, but for a model).

Streams samples to the board and shows invokes/s, latency (last/mean/p50/p99, and as time at the board's
clock), RAM (arena + measured stack vs the board's SRAM), running accuracy, bit-exact agreement with the
reference (LiteRT, or TFLM when LiteRT refuses the model; see reference.py) and a latency sparkline.
Three outputs: a rich Live view (`live`), one text line per sample (`plain`), JSON lines (`json`).
"""
from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..link import BoardSession
from .data import sample_bytes
from .evaluation import top1
from .reference import Oracle, choose_reference, describe
from .timing import count_us, is_estimate, time_text

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int], width: int = 48) -> str:
    v = np.asarray(values[-width:], dtype=np.float64)
    if not v.size:
        return ""
    lo, hi = v.min(), v.max()
    if hi == lo:
        return SPARK[3] * v.size
    return "".join(SPARK[int((x - lo) / (hi - lo) * (len(SPARK) - 1))] for x in v)


@dataclass
class MonitorStats:
    unit: str
    clock_hz: int
    arena_bytes: int
    ram_bytes: int | None
    counts: list[int] = field(default_factory=list)
    correct: int = 0
    host_correct: int = 0
    labelled: int = 0
    agree: int = 0
    checked: int = 0
    stack_peak: int = 0
    canary_ok: bool = True
    started: float = field(default_factory=time.monotonic)
    recent: deque = field(default_factory=lambda: deque(maxlen=64))  # (time, samples) for invokes/s
    reference: dict = field(default_factory=describe)

    @property
    def n(self) -> int:
        return len(self.counts)

    def rate(self) -> float:
        if len(self.recent) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.recent[0], self.recent[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def latency(self) -> dict:
        c = np.asarray(self.counts, dtype=np.float64)
        d = {"last": int(c[-1]), "mean": float(c.mean()), "p50": float(np.percentile(c, 50)),
             "p99": float(np.percentile(c, 99))} if c.size else {}
        us = count_us(1.0, self.unit, self.clock_hz)
        if us is not None and d:
            d.update({f"{k}_us": v * us for k, v in list(d.items())})
            d["time_estimate"] = is_estimate(self.unit)
        return d

    def summary(self) -> dict:
        s = {"samples": self.n, "unit": self.unit, "invokes_per_s": round(self.n / max(time.monotonic() - self.started,
                                                                                        1e-9), 2),
             "latency": self.latency(), "arena_bytes": self.arena_bytes, "stack_peak_bytes": self.stack_peak,
             "canary_ok": self.canary_ok, "board_ram_bytes": self.ram_bytes,
             "reference": self.reference, "clock_hz": self.clock_hz,
             "bit_exact": {"agree": self.agree, "checked": self.checked, "reference": self.reference["name"]}}
        if self.labelled:
            s["accuracy"] = {"device": self.correct / self.labelled, "host": self.host_correct / self.labelled,
                             "labelled": self.labelled}
        return s


def _fmt(v: float, unit: str) -> str:
    return f"{v:,.0f} {unit}"


def render(st: MonitorStats, title: str):
    """The Live view: one panel."""
    from rich.panel import Panel
    from rich.table import Table

    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold cyan", justify="right")
    t.add_column()
    lat = st.latency()
    t.add_row("samples", f"{st.n}   [bold]{st.rate():.1f}[/] invokes/s")
    if lat:
        t.add_row("latency", f"last {_fmt(lat['last'], st.unit)}  mean {lat['mean']:,.0f}  p50 {lat['p50']:,.0f}  "
                             f"p99 {lat['p99']:,.0f}")
        when = time_text(lat["mean"], st.clock_hz, st.unit)
        if when and st.unit != "µs":
            t.add_row("time", f"mean {when}")
        t.add_row("", f"[green]{sparkline(st.counts)}[/]")
    used = st.arena_bytes + st.stack_peak
    ram = f" of {st.ram_bytes:,} B SRAM ({used / st.ram_bytes:.1%})" if st.ram_bytes else ""
    canary = "[green]intact[/]" if st.canary_ok else "[bold red]OVERWRITTEN[/]"
    t.add_row("RAM", f"arena {st.arena_bytes:,} B + stack {st.stack_peak:,} B = {used:,} B{ram}; canary {canary}")
    if st.labelled:
        t.add_row("accuracy", f"device [bold]{st.correct / st.labelled:.2%}[/] ({st.correct}/{st.labelled})   "
                              f"host {st.host_correct / st.labelled:.2%}")
    ref = st.reference
    t.add_row("reference", ref["label"] + (f" [dim]— {ref['note']}[/]" if ref["note"] else ""))
    if st.checked:
        ok = st.agree == st.checked
        t.add_row("bit-exact", f"[{'green' if ok else 'red'}]{st.agree}/{st.checked}[/] identical to {ref['short']}")
    elif not ref["checked"]:
        t.add_row("bit-exact", "[yellow]unchecked[/]")
    return Panel(t, title=title, border_style="blue")


def plain_line(i: int, count: int, unit: str, pred: int, label: int | None, same: bool | None,
               reference: str = "LiteRT") -> str:
    parts = [f"sample {i}: {count:,} {unit}", f"top-1 {pred}"]
    if label is not None:
        parts.append(f"label {label} {'ok' if pred == label else 'WRONG'}")
    if same is not None:
        parts.append("bit-exact" if same else f"DIFFERS from {reference}")
    return ", ".join(parts)


def run_monitor(s: BoardSession, inputs: list[np.ndarray], labels: np.ndarray | None = None,
                count: int | None = None, mode: str = "live", reference: bool | str | Oracle = True,
                emit: Callable[[str], None] = print, console=None, stats_every: float = 0.5,
                plain_every: int = 1) -> MonitorStats:
    """Stream samples (cycling through `inputs`) until `count` samples or Ctrl-C; returns the totals.
    reference: an Oracle (choose_reference), a mode (auto|litert|tflm|none), True (auto) or False (none)."""
    b = s.board
    ram = (b.ram_budget or sum(r.size for r in b.regions("ram")[:1])) if b is not None and b.kind != "host" else None
    oracle = reference if isinstance(reference, Oracle) else \
        choose_reference(s.model_path, "auto" if reference is True else "none" if reference is False else reference)
    st = MonitorStats(s.hello.unit, s.hello.clock_hz or (b.clock_hz if b is not None else 0), s.hello.arena_bytes,
                      ram, reference=oracle.describe())
    ref = oracle.sampler(inputs)
    n_in = inputs[0].shape[0]
    title = f"tinydeploy monitor: {s.model_path.name} on {s.hello.name} ({s.url})"
    live = None
    if mode == "live":
        from rich.live import Live
        live = Live(render(st, title), console=console, refresh_per_second=8, transient=False)
        live.start()
    last_stats = 0.0
    try:
        i = 0
        while count is None or i < count:
            k = i % n_in
            res = s.client.run(sample_bytes(inputs, k))
            st.counts.append(res.count)
            st.recent.append((time.monotonic(), st.n))
            pred = int(top1(np.frombuffer(res.outputs[0], _dtype(s, 0))[None])[0])
            same, host_pred = None, pred
            if ref is not None:
                want = ref(k)
                same = want == res.outputs
                st.checked += 1
                st.agree += same
                host_pred = int(top1(np.frombuffer(want[0], _dtype(s, 0))[None])[0])
            label = int(labels[k]) if labels is not None else None
            if label is not None:
                st.labelled += 1
                st.correct += pred == label
                st.host_correct += host_pred == label
            now = time.monotonic()
            if now - last_stats > stats_every or (count is not None and i == count - 1):
                sts = s.client.stats()
                st.stack_peak, st.canary_ok, last_stats = sts.stack_peak_bytes, sts.canary_ok, now
            if mode == "plain" and (i % plain_every == 0 or i + 1 == count):
                emit(plain_line(i, res.count, st.unit, pred, label, same, oracle.short))
            elif mode == "json":
                emit(json.dumps({"sample": i, "input": k, "count": res.count, "unit": st.unit, "top1": pred,
                                 "label": label, "bit_exact": same, "invokes": res.invokes}))
            elif live is not None:
                live.update(render(st, title))
            i += 1
    except KeyboardInterrupt:
        pass
    finally:
        if live is not None:
            live.update(render(st, title))
            live.stop()
    return st


def _dtype(s: BoardSession, k: int) -> np.dtype:
    from ..compile import DTYPES
    g = s.model.graph
    return np.dtype(DTYPES[g.tensors[g.outputs[k]].dtype][0])
