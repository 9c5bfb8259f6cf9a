"""When the board is lost mid-run: say what happened, and bring it back (used by eval).

    rec = Recovery(session, reconnect_timeout=30)  # at the start: remembers the port's USB VID:PID
    rec.recover(exc, done=212, total=360)        # restarts the emulator we started (same firmware), or
                                                 # waits for --port to come back; BoardLost when it cannot

An emulator (or host device) that the session started is started again from the same ELF; the new
process gets a new serial URL. A --port board is waited for up to `reconnect_timeout` seconds; a USB
board that comes back under another name (/dev/ttyACM0 -> /dev/ttyACM1) is found by its VID:PID (and
serial number, when it has one).
"""
from __future__ import annotations

import os
import re
import time
from typing import Callable

from ..errors import TinyDeployError
from .client import LinkDown
from .session import BoardSession, process_alive

MAX_LOSSES_PER_SAMPLE = 3  # a board lost this often on one sample may be crashing on it
SIGNAL_RE = re.compile(r"terminating on signal (\d+)")


class BoardLost(TinyDeployError):
    """The board did not come back; the message says what happened and after how many samples."""


def _usb_id(p) -> str | None:
    return f"{p.vid:04X}:{p.pid:04X}" if getattr(p, "vid", None) is not None else None


def port_identity(ports: list, device: str) -> tuple[str, str | None] | None:
    """(VID:PID, serial number) of the USB serial port `device` in pyserial's list_ports, if it is one."""
    for p in ports:
        if p.device == device and _usb_id(p):
            return _usb_id(p), p.serial_number
    return None


def find_port(ports: list, identity: tuple[str, str | None]) -> str | None:
    """The one port with this VID:PID (and serial number, if known); None when none or several match."""
    vid_pid, serial = identity
    hits = [p.device for p in ports if _usb_id(p) == vid_pid and (serial is None or p.serial_number == serial)]
    return hits[0] if len(hits) == 1 else None


def _comports() -> list:
    from serial.tools.list_ports import comports

    return list(comports())


def _is_device_path(url: str) -> bool:
    return "://" not in url and not url.startswith("/dev/pts/")


def exit_text(started: object) -> str:
    """How a process we started ended: 'exited with signal 15' / 'exited with status 1'."""
    proc = getattr(started, "proc", None)
    rc = proc.poll() if proc is not None else None
    log = started.log_tail(4000) if hasattr(started, "log_tail") else ""
    m = SIGNAL_RE.search(log)  # QEMU catches SIGTERM/SIGINT, says so and exits 0
    if m:
        return f"exited with signal {m[1]}"
    if rc is None:
        return "stopped answering"
    return f"exited with signal {-rc}" if rc < 0 else f"exited with status {rc}"


class Recovery:
    def __init__(self, s: BoardSession, reconnect_timeout: float = 30.0,
                 log: Callable[[str], None] | None = None,
                 list_ports: Callable[[], list] = _comports) -> None:
        self.s, self.timeout, self.log, self.list_ports = s, reconnect_timeout, log or (lambda m: None), list_ports
        self.identity = None
        if s.restart is None and _is_device_path(s.url):
            try:
                self.identity = port_identity(list_ports(), s.url)
            except (OSError, ImportError):  # no USB enumeration here: only the same name is waited for
                self.identity = None
        self.events: list[dict] = []
        self.losses: dict[int, int] = {}

    @property
    def restarts(self) -> int:
        return sum(1 for e in self.events if e.get("restarted"))

    def what(self, exc: TinyDeployError) -> str:
        """What happened to the link, in words."""
        st, b = self.s.started, self.s.board
        if st is not None:
            who = f"the emulator ({b.emulator.binary})" if b is not None and b.emulated and b.emulator \
                else "the host device"
            return f"{who} {exit_text(st)}"
        return f"the link to {self.s.url} broke ({getattr(exc, 'reason', exc.message)})"

    def recover(self, exc: TinyDeployError, done: int, total: int) -> None:
        """Bring the board back for sample `done` (0-based), or raise BoardLost naming what happened."""
        what = f"{self.what(exc)} after {done} of {total} samples"
        self.losses[done] = self.losses.get(done, 0) + 1
        if self.losses[done] > MAX_LOSSES_PER_SAMPLE:
            raise BoardLost(f"{what}; the board was lost {MAX_LOSSES_PER_SAMPLE + 1} times on sample {done + 1}",
                            "the firmware may crash on this sample: check it with `tinydeploy run` on the host")
        try:
            how = self._restart() if self.s.restart is not None else self._wait_for_port()
        except TinyDeployError as e:
            raise BoardLost(f"{what}; {e.message}", e.hint) from None
        self.events.append({"after": done, "what": what, "recovered": how, "restarted": self.s.restart is not None})
        self.log(f"{what}; {how}; sample {done + 1} is sent again")

    def lost_after_last(self, exc: TinyDeployError, n: int) -> None:
        """Lost once every sample was done: nothing to send again; noted, not recovered."""
        what = f"{self.what(exc)} after {n} of {n} samples"
        self.events.append({"after": n, "what": what, "recovered": "not needed (stack peak and canary unread)",
                            "restarted": False})
        self.log(f"{what}; every sample was done: its stack peak and arena canary stay unread")

    def _restart(self) -> str:
        s = self.s
        if s.started is not None:
            s.started.stop()
        s.started = s.restart()
        s.url = s.client.url = s.started.url
        s.client.alive = process_alive(s.started)
        s.client.connect(wait=15.0)
        return f"restarted it with the same firmware ({s.url})"

    def _wait_for_port(self) -> str:
        s, c = self.s, self.s.client
        deadline = time.monotonic() + self.timeout
        first = s.url
        while True:
            url = first
            if self.identity and not os.path.exists(first):
                url = find_port(self.list_ports(), self.identity) or first
            c.url = url
            try:
                c.connect(wait=min(2.0, max(0.1, deadline - time.monotonic())))
                s.url = url
                return f"{url} came back" if url == first else \
                    f"found the board again as {url} by its USB ID {self.identity[0]}"
            except LinkDown:
                if time.monotonic() >= deadline:
                    c.url = first
                    raise BoardLost(f"{first} did not come back within {self.timeout:g} s",
                                    "check the cable/port, or give it longer with --reconnect-timeout") from None
                time.sleep(0.5)
