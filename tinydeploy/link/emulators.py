"""The emulators (QEMU, simavr): run a firmware to its end, or serve it as a serial device.

    text = run_in_emulator("qemu-m4", elf, timeout=60)    # console text; error on timeout/exit status

Emulated boards as serial devices: QEMU (or simavr) running protocol firmware, reachable from pyserial.

    with start_emulator("qemu-m4", elf) as emu:      # QEMU UART0 on a TCP port (socket://127.0.0.1:N)
        client = DeviceClient(emu.url, ...)
    emu = start_emulator("qemu-m4", elf, transport="pty")   # /dev/pts/N, like a USB serial port
    emu = start_pio_upload(project_dir, "qemu-m4", log)     # `pio run -t upload` (QEMU with -serial pty)

QEMU's TCP chardev gets `nodelay=on`: without it Nagle's algorithm meets the host's delayed ACK and
every request waits ~40 ms. Each emulator runs in its own session (process group) and `stop()`
ends exactly that group.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinyDeployError
from ..target import BoardProfile, free_port, load_board

PTY_RE = re.compile(r"(/dev/pts/\d+)")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def emulator_command(board: str | BoardProfile, elf: str | Path, extra: list[str] | None = None) -> list[str]:
    """Command line that runs `elf` on the board's emulator (QEMU or simavr)."""
    b = load_board(board)
    e = b.emulator
    if not b.emulated or e is None:
        raise TinyDeployError(f"board {b.id} has no emulator", "use one of the qemu-* or simavr-* boards")
    if not shutil.which(e.binary):
        raise TinyDeployError(f"{e.binary} not found (needed to run {b.id})", f"apt-get install {e.apt}")
    if e.kind == "qemu":
        return [e.binary, "-M", e.machine] + (["-cpu", e.cpu] if e.cpu else []) + \
            ["-nographic", "-monitor", "none"] + list(e.args) + (extra or []) + ["-kernel", str(elf)]
    return [e.binary, "-m", e.machine, "-f", str(b.clock_hz)] + (extra or []) + [str(elf)]


def run_in_emulator(board: str | BoardProfile, elf: str | Path, timeout: float = 60,
                    check: bool = True, extra: list[str] | None = None) -> str:
    """Run a firmware ELF to its end; return its console text (simavr's coloured stderr log cleaned up).

    Raises TinyDeployError on a timeout or (check=True) a non-zero exit status (the firmware's fault
    handler exits 255, a failed self-check 1).
    """
    b = load_board(board)
    cmd = emulator_command(b, elf, extra)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           text=True, errors="replace")
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise TinyDeployError(f"{b.id}: the firmware did not finish within {timeout:g} s",
                              f"last output: {out[-500:]!r}") from None
    text = r.stdout if b.emulator.kind == "qemu" else _clean_simavr(r.stderr)
    if check and r.returncode != 0:
        raise TinyDeployError(f"{b.id}: {cmd[0]} exited with status {r.returncode}",
                              f"output: {(text or r.stderr)[-800:]!r}")
    return text


def _clean_simavr(log: str) -> str:
    """simavr prints UART lines on stderr in colour, non-printable bytes (the line end) as '.'; a long line
    comes in pieces without the dot, joined here."""
    lines, piece = [], ""
    for raw in log.splitlines():
        line = ANSI_RE.sub("", raw)
        if line.startswith(("Loaded ", "SIMAVR", "simavr", "avr_", "Starting ")):
            continue
        if not line.endswith("."):
            piece += line
            continue
        # the line feed itself shows as one '.', CR LF as two
        lines.append(piece + (line[:-2] if line.endswith("..") else line[:-1]))
        piece = ""
    lines += [piece] if piece else []
    return "\n".join(lines) + ("\n" if lines else "")


@dataclass
class RunningEmulator:
    board: BoardProfile
    proc: subprocess.Popen
    url: str
    log_path: Path | None = None
    command: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """End the emulator's process group (the emulator and, via pio, its parents)."""
        if self.proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def log_tail(self, n: int = 600) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def __enter__(self) -> "RunningEmulator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_port(port: int, emu: RunningEmulator, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not emu.alive():
            raise TinyDeployError(f"{emu.board.id}: the emulator exited with status {emu.proc.returncode}",
                                  f"its output: {emu.log_tail()!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()  # QEMU takes the next client
            return
        except OSError:
            time.sleep(0.05)
    emu.stop()
    raise TinyDeployError(f"{emu.board.id}: the emulator's serial port {port} did not open in {timeout:g} s",
                          f"its output: {emu.log_tail()!r}")


def _wait_pty(emu: RunningEmulator, timeout: float) -> str:
    """The /dev/pts/N the emulator prints (QEMU: 'char device redirected to /dev/pts/N')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = PTY_RE.search(emu.log_tail(100000))
        if m:
            return m[1]
        if not emu.alive():
            raise TinyDeployError(f"{emu.board.id}: the emulator exited with status {emu.proc.returncode}",
                                  f"its output: {emu.log_tail()!r}")
        time.sleep(0.05)
    emu.stop()
    raise TinyDeployError(f"{emu.board.id}: no serial port (pty) from the emulator within {timeout:g} s",
                          f"its output: {emu.log_tail()!r}")


def _die_with_parent() -> None:
    """In the child: SIGTERM when the process that started it dies (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _spawn(b: BoardProfile, cmd: list[str], log_path: Path, cwd: Path | None = None,
           env: dict | None = None, detach: bool = False) -> RunningEmulator:
    """Start the emulator in its own process group; unless `detach`, it ends when we do (even killed).
    PR_SET_PDEATHSIG follows the thread that forks, so the safety net is only set from the main thread."""
    import threading

    die = not detach and threading.current_thread() is threading.main_thread()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, env=env, start_new_session=True,
                                preexec_fn=_die_with_parent if die else None)
    return RunningEmulator(b, proc, "", log_path, cmd)


def start_emulator(board: str | BoardProfile, elf: str | Path, transport: str = "tcp", port: int | None = None,
                   log_path: Path | None = None, timeout: float = 15.0,
                   extra_args: list[str] | None = None, detach: bool = False) -> RunningEmulator:
    """Run protocol firmware on the board's emulator; `url` is what pyserial opens. Unless `detach`, the
    emulator ends with this process."""

    b = load_board(board)
    log_path = log_path or Path(elf).with_name("emulator.log")
    if b.emulator is None or b.emulator.kind not in ("qemu", "simavr"):
        raise TinyDeployError(f"{b.id} is not an emulated board", "use a qemu-* or simavr-* board")
    if b.emulator.kind == "simavr":  # libsimavr with USART0 on a pty (the boards' harness)
        from ..target import pty_harness
        emu = _spawn(b, [str(pty_harness()), str(elf), b.emulator.machine, str(b.clock_hz)], log_path,
                     detach=detach)
        emu.url = _wait_pty(emu, timeout)
        return emu
    if transport == "tcp":
        port = port or free_port()
        serial_arg = f"tcp:127.0.0.1:{port},server=on,wait=off,nodelay=on"
    elif transport == "pty":
        serial_arg = "pty"
    else:
        raise TinyDeployError(f"unknown transport {transport!r}", "use tcp or pty")
    emu = _spawn(b, emulator_command(b, elf, ["-serial", serial_arg] + list(extra_args or [])), log_path,
                 detach=detach)
    if transport == "tcp":
        emu.url = f"socket://127.0.0.1:{port}"
        _wait_port(port, emu, timeout)
    else:
        emu.url = _wait_pty(emu, timeout)
    return emu


def start_pio_upload(project_dir: Path, board: str | BoardProfile, timeout: float = 120.0) -> RunningEmulator:
    """`pio run -e B -t upload` in the background: the emulated board's upload runs the firmware in the
    emulator with `-serial pty` (upload_flags in platformio.ini); returns once the pty is known."""
    from ..target import pio_env, pio_executable

    b = load_board(board)
    cmd = pio_executable() + ["run", "-e", b.id, "-t", "upload"]
    emu = _spawn(b, cmd, project_dir / ".pio" / "upload.log", cwd=project_dir, env=pio_env(), detach=True)
    emu.url = _wait_pty(emu, timeout)
    return emu


class _NoDrain:
    """A pyserial port whose flush() does not wait: tcdrain() on a pty costs ~40 ms per request."""

    def __init__(self, port) -> None:
        self._port = port

    def flush(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self._port, name)


def serial_opener(url: str, baud: int):
    """Opener for DeviceClient: pyserial, without the slow drain on pseudo-terminals."""
    from .client import open_serial

    port = open_serial(url, baud)
    return _NoDrain(port) if url.startswith("/dev/pts/") else port
