"""Time beside a per-invoke count: the board profile's clock turns cycles (exact) or instructions
(an estimate: one instruction per cycle) into microseconds. Shared by eval, monitor, test and bench.

    time_text(570_000, board)           # '22.8 ms at 25 MHz (estimate: 1 instruction per cycle)'
    count_us(570_000, "instructions", 25_000_000)   # 22800.0
"""
from __future__ import annotations

from typing import Any

ESTIMATE = "estimate: 1 instruction per cycle"


def count_us(count: float, unit: str, clock_hz: int) -> float | None:
    """A count in microseconds: µs as is, cycles or instructions at clock_hz; None when it has no time
    (timer ticks, an unknown clock)."""
    if unit == "µs":
        return float(count)
    if unit in ("cycles", "instructions") and clock_hz:
        return count * 1e6 / clock_hz
    return None


def is_estimate(unit: str) -> bool:
    """Instructions become time only by assuming one instruction per cycle."""
    return unit == "instructions"


def duration_text(us: float) -> str:
    """'845 µs', '22.8 ms', '1.25 s' (three significant digits)."""
    for scale, name in ((1e6, "s"), (1e3, "ms"), (1.0, "µs")):
        if abs(us) >= scale * 0.9995 or name == "µs":
            v = us / scale
            digits = 2 if abs(v) < 9.995 else 1 if abs(v) < 99.95 else 0
            return f"{v:,.{digits}f} {name}"
    raise AssertionError("unreachable")


def clock_text(hz: int) -> str:
    """'25 MHz', '1 GHz', '32.768 kHz'."""
    for scale, name in ((1e9, "GHz"), (1e6, "MHz"), (1e3, "kHz")):
        if hz >= scale:
            return f"{hz / scale:g} {name}"
    return f"{hz} Hz"


def time_text(count: float, board: Any, unit: str = "instructions") -> str:
    """`count` (per invoke, in `unit`) as time at the board's clock: '22.8 ms at 25 MHz (estimate: 1
    instruction per cycle)' for instructions, '3.10 ms at 16 MHz' for cycles, '410 µs' for µs; '' when the
    count has no time. `board` is a board profile (its clock_hz) or a clock in Hz."""
    hz = int(board if isinstance(board, (int, float)) else getattr(board, "clock_hz", 0) or 0)
    us = count_us(count, unit, hz)
    if us is None:
        return ""
    if unit == "µs":
        return duration_text(us)
    return f"{duration_text(us)} at {clock_text(hz)}" + (f" ({ESTIMATE})" if is_estimate(unit) else "")
