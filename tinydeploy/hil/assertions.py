"""Assertion helpers for hardware-in-the-loop tests: readable failures, usable without pytest too.

    assert_bit_exact(d.run(x).outputs, reference)      # first differing sample/index/values, how many differ
    assert_latency(d, max_cycles=40_000_000)            # worst invoke so far (board's unit), or a result/counts
    assert_ram(d, max_bytes=64 * 1024)                  # arena + measured peak stack

Each raises AssertionError (pytest shows the message as the failure) and hides itself from tracebacks.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _as_list(x: Any) -> list[np.ndarray]:
    if isinstance(x, np.ndarray):
        return [x]
    if hasattr(x, "outputs") and not isinstance(x, (list, tuple)):
        return [np.asarray(a) for a in x.outputs]
    return [np.asarray(a) for a in x]


def _fmt_index(shape: tuple[int, ...], flat: int) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else "[]"


def bit_exact_report(outputs: Any, reference: Any, max_lines: int = 8) -> list[str]:
    """Empty when every byte agrees; otherwise lines that say where and how outputs differ."""
    got, want = _as_list(outputs), _as_list(reference)
    if len(got) != len(want):
        return [f"{len(got)} outputs, the reference has {len(want)}"]
    lines: list[str] = []
    for k, (a, b) in enumerate(zip(got, want)):
        if a.dtype != b.dtype:
            lines.append(f"output {k}: dtype {a.dtype}, the reference {b.dtype}")
            continue
        if a.shape != b.shape:
            lines.append(f"output {k}: shape {list(a.shape)}, the reference {list(b.shape)}")
            continue
        if a.tobytes() == b.tobytes():
            continue
        if a.ndim == 0:
            lines.append(f"output {k}: {a.item()} != reference {b.item()}")
            continue
        n = a.shape[0]
        av, bv = a.reshape(n, -1), b.reshape(n, -1)
        bad = av != bv
        samples = np.flatnonzero(bad.any(axis=1))
        total = int(bad.sum())
        s = int(samples[0])
        first = int(np.flatnonzero(bad[s])[0])
        diff = av[s].astype(np.int64) - bv[s].astype(np.int64)
        shown = ", ".join(map(str, samples[:10])) + (", …" if len(samples) > 10 else "")
        lines.append(f"output {k}: {total} of {a.size} values differ, in {len(samples)} of {n} samples ({shown})")
        lines.append(f"  first difference: sample {s}, index {_fmt_index(a.shape[1:], first)}: "
                     f"device {av[s, first]} != reference {bv[s, first]} (max |diff| in sample {s}: "
                     f"{int(np.abs(diff).max())})")
        lo = max(0, first - 3)
        hi = min(av.shape[1], lo + 8)
        where = f"  sample {s}, flat values {lo}..{hi - 1}:"
        lines.append(f"{where} device    {av[s, lo:hi].tolist()}")
        lines.append(f"{' ' * len(where)} reference {bv[s, lo:hi].tolist()}")
        if len(lines) >= max_lines:
            break
    return lines


def assert_bit_exact(outputs: Any, reference: Any, what: str = "") -> None:
    """Every output byte equals the reference (LiteRT BUILTIN_REF); the message shows the first difference.

    outputs/reference: one array [N, *shape], a list of them (one per model output), or an object with
    `.outputs` (a RunResult / EvalResult).
    """
    __tracebackhide__ = True
    lines = bit_exact_report(outputs, reference)
    if lines:
        head = f"not bit-exact with the reference{' (' + what + ')' if what else ''}:"
        raise AssertionError("\n".join([head] + lines))


def _counts_of(x: Any) -> tuple[np.ndarray, str]:
    if hasattr(x, "counts"):
        counts = np.asarray(x.counts)
        unit = getattr(x, "unit", "") or ""
        return counts, unit
    return np.atleast_1d(np.asarray(x)), ""


def assert_latency(measured: Any, max_cycles: float | None = None, *, max_us: float | None = None,
                   stat: str = "max", clock_hz: int | None = None) -> None:
    """The invoke latency stays under a limit.

    measured: a Deployment (every invoke it ran), a RunResult/EvalResult (`.counts`), or counts.
    max_cycles: limit in the board's counter unit (cycles, instructions or µs, as its HELLO says).
    max_us: limit in microseconds (cycles converted at the board's clock; needs a known clock).
    stat: "max" (worst invoke), "mean" or "p50"/"p99".
    """
    __tracebackhide__ = True
    counts, unit = _counts_of(measured)
    if counts.size == 0:
        raise AssertionError("no invokes measured yet: run the model first")
    value = {"max": counts.max(), "mean": counts.mean(), "p50": np.percentile(counts, 50),
             "p99": np.percentile(counts, 99)}[stat]
    unit = unit or "counts"
    if max_cycles is not None and value > max_cycles:
        raise AssertionError(f"latency {stat} {value:,.0f} {unit} > limit {max_cycles:,.0f} {unit} "
                             f"(+{(value / max_cycles - 1) * 100:.1f}%; {counts.size} invokes, "
                             f"min {counts.min():,}, max {counts.max():,})")
    if max_us is not None:
        clock = clock_hz if clock_hz is not None else getattr(measured, "clock_hz", 0)
        if unit == "µs":
            us = float(value)
        elif unit == "cycles" and clock:
            us = float(value) * 1e6 / clock
        else:
            raise AssertionError(f"cannot convert {unit} to µs (clock {clock or 'unknown'}): use max_cycles")
        if us > max_us:
            raise AssertionError(f"latency {stat} {us:,.1f} µs > limit {max_us:,.1f} µs "
                                 f"({value:,.0f} {unit}, {counts.size} invokes)")


def assert_ram(measured: Any, max_bytes: int | None = None, *, max_arena: int | None = None,
               max_stack: int | None = None) -> None:
    """RAM the model used on the board stays under a limit: arena + measured peak stack (stack painting).

    measured: a Deployment (asks the board for its stats), or anything with arena_bytes and
    stack_peak_bytes (Stats, EvalResult, a Measurement). Also fails when the arena canary was overwritten.
    """
    __tracebackhide__ = True
    st = measured.stats() if callable(getattr(measured, "stats", None)) else measured
    arena, stack = int(st.arena_bytes), int(st.stack_peak_bytes)
    canary = getattr(st, "canary_ok", True)
    if not canary:
        raise AssertionError(f"the arena canary was overwritten (arena {arena:,} B): the model wrote past its arena")
    problems = []
    if max_bytes is not None and arena + stack > max_bytes:
        problems.append(f"RAM {arena + stack:,} B (arena {arena:,} + stack peak {stack:,}) > limit {max_bytes:,} B "
                        f"(+{arena + stack - max_bytes:,} B)")
    if max_arena is not None and arena > max_arena:
        problems.append(f"arena {arena:,} B > limit {max_arena:,} B")
    if max_stack is not None and stack > max_stack:
        problems.append(f"stack peak {stack:,} B > limit {max_stack:,} B")
    if problems:
        raise AssertionError("; ".join(problems))
