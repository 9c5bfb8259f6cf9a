"""`tinydeploy doctor`: check the machine's set-up by doing the real thing, quickly.

    report = run_doctor(["qemu-m4"])       # or None: what the emulated boards and the test suite need
    report.ok                              # False when a part a requested board needs is missing
    for c in report.checks: c.part, c.status, c.detail, c.fix

Each toolchain family links a small C and C++ program with the boards' flags, each emulator boots one
for a moment, PlatformIO builds a tiny firmware offline with the emulated platform, arduino-builder
compiles a sketch. Independent checks run in threads; the whole run stays well under a minute.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ..target import BoardProfile, list_boards, load_board
from .base import Check, apt_fix
from .system import (
    PIO_VERSION,
    arduino_check,
    libsimavr_check,
    network_check,
    pio_checks,
    python_check,
    serial_checks,
    tools_check,
)
from .toolchains import FAMILIES, family_checks, family_of

__all__ = ["Check", "Report", "plan", "run_doctor"]

ARDUINO_BOARDS = ("uno", "mega2560")          # the boards arduino_build.py has a recipe for
TEST_TOOLS = {t: t for t in ("make", "git", "rsync", "unzip", "socat", "tmux", "ser2net")}  # tool = package
BOARD_PYTHON = ("platformio", "scons", "pyserial")
TEST_PYTHON = ("pytest", "pytest-xdist", "labgrid", "tflite-micro")
Task = tuple[str, Callable[[Path], list[Check]]]


@dataclass
class Report:
    boards: list[str]             # the board ids checked
    checks: list[Check]
    seconds: float
    default: bool = False         # no --board: what the emulated boards and the test suite need

    @property
    def ok(self) -> bool:
        """True when every required part works (warnings and information rows never fail)."""
        return all(c.ok for c in self.checks if c.level == "required")

    def fixes(self) -> list[str]:
        """One command per tool that ends all required failures: a merged apt line, the pip line, others."""
        apt: list[str] = []
        other: list[str] = []
        for c in self.checks:
            if c.ok or c.level != "required" or not c.fix:
                continue
            if c.fix.startswith("sudo apt-get install -y "):
                apt += c.fix.split()[4:]
            elif c.fix not in other:
                other.append(c.fix)
        return ([apt_fix(*apt)] if apt else []) + other

    def to_dict(self) -> dict:
        return {"ok": self.ok, "boards": self.boards, "default": self.default, "seconds": round(self.seconds, 1),
                "checks": [c.to_dict() for c in self.checks], "fixes": self.fixes()}


def _default_boards() -> list[BoardProfile]:
    """What the emulated boards and the test suite need: every board (the suite builds the emulated ones,
    cross-compiles the real ones with their flags and builds the Arduino sketches for uno and mega2560)."""
    return list_boards()


def plan(board_ids: list[str] | None = None, budget: float = 55) -> tuple[list[BoardProfile], list[Task]]:
    """The boards to check and the independent tasks (name, fn(tmp) -> rows) that check them."""
    default = not board_ids
    boards = _default_boards() if default else list({b.id: b for b in map(load_board, board_ids)}.values())
    tasks: list[Task] = []

    # PlatformIO and arduino-builder first: they take the longest
    emulated = [b for b in boards if b.emulated]
    per_arch: dict[str, BoardProfile] = {}
    for b in emulated:
        per_arch.setdefault(family_of(b), b)
    if per_arch:
        pio_boards = list(per_arch.values())
        deadline = time.monotonic() + budget - 5
        tasks.append(("platformio", lambda tmp: pio_checks(pio_boards, tmp, deadline)))
    for b in boards:
        if b.id in ARDUINO_BOARDS:
            tasks.append((f"arduino-{b.id}", lambda tmp, b=b: [arduino_check(b, tmp)]))

    families: dict[str, list[BoardProfile]] = {}
    for b in sorted(boards, key=lambda b: not b.emulated):   # emulated first: their program boots
        families.setdefault(family_of(b), []).append(b)
    for name in FAMILIES:
        if name in families:
            tasks.append((name, lambda tmp, name=name: family_checks(name, families[name], tmp)))
    if default or any(b.emulator and b.emulator.kind == "simavr" for b in boards) or \
            any(b.id in ARDUINO_BOARDS for b in boards):
        tasks.append(("libsimavr", lambda tmp: [libsimavr_check(tmp)]))

    def python_rows(tmp: Path) -> list[Check]:
        rows = []
        if any(b.kind != "host" for b in boards):
            rows.append(python_check(BOARD_PYTHON, "Python: PlatformIO, SCons, pyserial",
                                     {"platformio": PIO_VERSION}))
        if default:
            rows.append(python_check(TEST_PYTHON, "Python: test suite packages"))
            rows.append(tools_check(TEST_TOOLS))
        return rows

    tasks.append(("python", python_rows))
    if default or any(b.kind == "real" for b in boards):
        real = [b for b in boards if b.kind == "real"]
        tasks.append(("serial", lambda tmp: serial_checks() + [network_check(real)]))
    return boards, tasks


def run_doctor(board_ids: list[str] | None = None, budget: float = 55, workers: int = 4) -> Report:
    """Run the checks for these boards (None: the default set) in threads, within `budget` seconds."""
    t0 = time.monotonic()
    boards, tasks = plan(board_ids, budget)
    rows: dict[str, list[Check]] = {}
    with tempfile.TemporaryDirectory(prefix="td-doctor-", ignore_cleanup_errors=True) as tmp:
        pool = ThreadPoolExecutor(max_workers=workers)
        futures = {}
        for name, fn in tasks:
            (Path(tmp) / name).mkdir()
            futures[pool.submit(fn, Path(tmp) / name)] = name
        done, _ = wait(futures, timeout=budget, return_when=ALL_COMPLETED)
        for fut, name in futures.items():
            if fut in done and fut.exception() is None:
                rows[name] = fut.result()
            elif fut in done:   # a bug in a check: show it as a failed row, not a traceback
                exc = fut.exception()
                rows[name] = [Check(name, False, f"the check itself failed: {type(exc).__name__}: {exc}",
                                    "report this tinydeploy bug")]
            else:
                rows[name] = [Check(name, False, f"did not finish within {budget:g} s")]
        pool.shutdown(wait=False, cancel_futures=True)   # a straggler ends at its own subprocess timeout
    checks = [c for name, _ in tasks for c in rows[name]]
    return Report([b.id for b in boards], checks, time.monotonic() - t0, default=not board_ids)
