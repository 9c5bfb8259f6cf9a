"""Stored latency/RAM baselines: a PR that makes a model slower or bigger on a board fails with a diff.

baselines.json (committed next to the tests; `pytest --update-baseline` rewrites the entries it measures):

    {"qemu-m4": {"kws_ref_model": {"unit": "instructions", "latency": 34677960, "latency_max": 34677960,
                                   "arena_bytes": 8336, "stack_peak_bytes": 396, "ram_bytes": 8732,
                                   "samples": 4, "sha256": "…"}}}

Latency is the mean count per invoke over fixed seeded inputs, in the board's unit (instructions on
QEMU, cycles on AVR/real boards with a cycle counter, µs where only a µs timer exists). A run fails
when latency > baseline × (1 + tolerance) or RAM (arena + measured peak stack) > baseline + tolerance
bytes; the latency tolerance is 0 for instruction counts, which are deterministic. Getting faster or
smaller passes and is reported, so the baseline can be tightened.
Updates are safe from parallel workers (a lock file, read-modify-write, atomic replace).
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .deployment import Measurement

# Default latency tolerance by counter unit: instruction counts (QEMU -icount, RISC-V instret) are
# deterministic, so exact; cycle counters see interrupts (AVR Timer1 overflows), timers the wall clock.
DEFAULT_LATENCY_TOLERANCE = {"instructions": 0.0, "cycles": 0.02, "µs": 0.25, "timer ticks": 0.05}
FIELDS = ("unit", "latency", "latency_max", "arena_bytes", "stack_peak_bytes", "ram_bytes", "samples", "sha256")


def entry_of(m: Measurement) -> dict:
    d = asdict(m)
    d.pop("canary_ok", None)
    d["ram_bytes"] = m.ram_bytes
    return {k: d[k] for k in FIELDS}


class BaselineStore:
    """One baselines.json file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(f"{self.path} is not valid JSON: {exc}") from None

    def get(self, board: str, key: str) -> dict | None:
        return self.load().get(board, {}).get(key)

    def put(self, board: str, key: str, entry: dict) -> dict | None:
        """Write one entry (under a lock: several xdist workers may update at once); returns the old one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import hashlib
        import tempfile

        lock_id = hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()[:16]
        with open(Path(tempfile.gettempdir()) / f"tinydeploy-baseline-{lock_id}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self.load()
            old = data.get(board, {}).get(key)
            data.setdefault(board, {})[key] = entry
            data = {b: dict(sorted(v.items())) for b, v in sorted(data.items())}
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            os.replace(tmp, self.path)
        return old


@dataclass
class Comparison:
    board: str
    key: str
    new: dict
    old: dict | None
    latency_tolerance: float
    ram_tolerance: int
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"          # ok | improved | regressed | missing | updated | stale

    def table(self) -> list[str]:
        """old -> new for every number (the diff a failing PR shows)."""
        rows = []
        o = self.old or {}
        unit = self.new["unit"]
        for k, label in (("latency", f"latency mean ({unit})"), ("latency_max", f"latency max ({unit})"),
                         ("arena_bytes", "arena bytes"), ("stack_peak_bytes", "stack peak bytes"),
                         ("ram_bytes", "RAM bytes (arena+stack)")):
            new = self.new[k]
            if k in o:
                d = new - o[k]
                pct = f" ({d / o[k] * 100:+.2f}%)" if o[k] else ""
                rows.append(f"  {label:<28} {o[k]:>14,} -> {new:>14,}  {d:+,}{pct if d else ''}")
            else:
                rows.append(f"  {label:<28} {'(none)':>14} -> {new:>14,}")
        return rows

    def message(self, path: Path, board_arg: str) -> str:
        head = f"{self.key} on {self.board}: " + "; ".join(self.failures)
        do = "Record one" if self.status == "missing" else "If this change is intended, refresh it"
        hint = f"{do}: pytest --board {board_arg} --update-baseline (rewrites the measured entries of {path.name})"
        return "\n".join([head, f"baseline {path} (old -> new):", *self.table(), hint])


def compare(board: str, key: str, m: Measurement, old: dict | None, latency_tolerance: float | None = None,
            ram_tolerance: int = 0) -> Comparison:
    tol = DEFAULT_LATENCY_TOLERANCE.get(m.unit, 0.05) if latency_tolerance is None else latency_tolerance
    c = Comparison(board, key, entry_of(m), old, tol, ram_tolerance)
    if not m.canary_ok:
        c.failures.append("the arena canary was overwritten")
    if old is None:
        c.status = "missing"
        c.failures.append("no baseline recorded")
        return c
    if old.get("unit") != m.unit:
        c.status = "stale"
        c.failures.append(f"the baseline counts {old.get('unit')}, the board reports {m.unit}")
        return c
    if old.get("sha256") and old["sha256"] != m.sha256:
        c.status = "stale"
        c.failures.append("the model file changed since the baseline was recorded")
        return c
    limit = old["latency"] * (1 + tol)
    if m.latency > limit:
        c.failures.append(f"slower: latency {m.latency:,} {m.unit} > baseline {old['latency']:,}"
                          + (f" +{tol:.0%}" if tol else "") + f" ({m.latency / old['latency'] - 1:+.2%})")
    if m.ram_bytes > old["ram_bytes"] + ram_tolerance:
        c.failures.append(f"bigger: RAM {m.ram_bytes:,} B > baseline {old['ram_bytes']:,} B"
                          + (f" + {ram_tolerance:,} B tolerance" if ram_tolerance else "")
                          + f" (arena {old['arena_bytes']:,} -> {m.arena_bytes:,}, stack "
                          f"{old['stack_peak_bytes']:,} -> {m.stack_peak_bytes:,})")
    if c.failures:
        c.status = "regressed"
        return c
    if m.latency < old["latency"] * (1 - tol) or m.ram_bytes < old["ram_bytes"]:
        c.status = "improved"
        c.notes.append(f"better than the baseline (latency {old['latency']:,} -> {m.latency:,} {m.unit}, RAM "
                       f"{old['ram_bytes']:,} -> {m.ram_bytes:,} B): --update-baseline locks it in")
    return c
