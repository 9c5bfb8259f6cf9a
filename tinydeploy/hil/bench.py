"""The emulator bench: one emulated board behind a serial port that stays put, and a control port that
"flashes" it (restarts the emulator with another firmware). The pty plays the part of a real board's
USB-serial adapter: an exporter's ser2net export of it stays valid across reflashes. This is what an
emulated labgrid place is (see tinydeploy.hil.labgrid_driver); it needs no labgrid itself.

    python -m tinydeploy.hil.bench --board qemu-m4 [--listen 0.0.0.0] [--control-port N]
        prints one JSON line {"pty": "/dev/pts/N", "control_port": N, "board": "qemu-m4"} when ready

Control protocol, one request per connection: `FLASH <len>\\n<ELF bytes>` -> `OK <board> <elf name>`
(or `ERR …`); bench_request() is the client side.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..errors import TinyDeployError


def bench_request(host: str, port: int, cmd: str, data: bytes = b"", timeout: float = 60.0) -> str:
    """One request to a bench's control port: `CMD <len>\\n<data>` -> `OK …` (or raises)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"{cmd} {len(data)}\n".encode() + data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    text = reply.decode(errors="replace").strip()
    if not text.startswith("OK"):
        raise TinyDeployError(f"emulator bench {host}:{port} refused {cmd}: {text or 'no reply'}")
    return text


class Bench:
    """An emulated board with a stable serial port: a pty whose other end follows the current emulator."""

    def __init__(self, board: str, listen: str = "127.0.0.1", control_port: int = 0) -> None:
        import tty

        from ..target import load_board

        self.board = load_board(board)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.pty = os.ttyname(self.slave)
        self.workdir = Path(tempfile.mkdtemp(prefix="td-bench-"))
        self.emu = None
        self.link: socket.socket | _FdSock | None = None
        self.lock = threading.Lock()
        self.elf: Path | None = None
        self.server = socket.create_server((listen, control_port))
        self.control_port = self.server.getsockname()[1]
        self.stopping = False

    # the emulator side
    def flash(self, elf_bytes: bytes) -> str:
        elf = self.workdir / f"firmware-{int(time.time() * 1000)}.elf"
        elf.write_bytes(elf_bytes)
        return self._start(elf)

    def _start(self, elf: Path) -> str:
        from ..link import start_emulator

        with self.lock:
            self._stop_emulator()
            old = self.elf
            self.elf = elf
            self.emu = start_emulator(self.board, elf, transport="tcp", log_path=self.workdir / "emulator.log")
            url = self.emu.url
            if url.startswith("socket://"):
                host, port = url[len("socket://"):].rsplit(":", 1)
                self.link = socket.create_connection((host, int(port)), timeout=5)
                self.link.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.link.setblocking(False)
            else:  # a pty (simavr): open it raw
                import tty
                fd = os.open(url, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                tty.setraw(fd)
                self.link = _FdSock(fd)
            if old is not None and old != elf:
                old.unlink(missing_ok=True)
        return f"OK {self.board.id} {elf.name}"

    def _stop_emulator(self) -> None:
        if self.link is not None:
            try:
                self.link.close()
            except OSError:
                pass
            self.link = None
        if self.emu is not None:
            self.emu.stop()
            self.emu = None

    # the UART bridge: pty master <-> emulator serial
    def bridge(self) -> None:
        while not self.stopping:
            link = self.link
            fds = [self.master] + ([link.fileno()] if link is not None else [])
            try:
                ready, _, _ = select.select(fds, [], [], 0.2)
            except (OSError, ValueError):
                continue
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data and link is not None:
                    try:
                        link.sendall(data)
                    except OSError:
                        pass
            if link is not None and link.fileno() in ready:
                try:
                    data = link.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    _write_all(self.master, data)
                else:  # the emulator went away (reflash in progress, or it died)
                    with self.lock:
                        if self.link is link:
                            self.link = None
                    time.sleep(0.05)

    # the control port
    def serve(self) -> None:
        threading.Thread(target=self.bridge, daemon=True).start()
        print(json.dumps({"pty": self.pty, "control_port": self.control_port, "board": self.board.id}), flush=True)
        while not self.stopping:
            try:
                conn, _ = self.server.accept()
            except OSError:
                break
            with conn:
                conn.settimeout(60)
                try:
                    reply = self._handle(conn)
                except Exception as exc:  # one bad request must not end the bench
                    reply = f"ERR {type(exc).__name__}: {exc}"
                try:
                    conn.sendall(reply.encode() + b"\n")
                except OSError:
                    pass

    def _handle(self, conn: socket.socket) -> str:
        buf = b""
        while b"\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                return "ERR empty request"
            buf += chunk
        head, _, data = buf.partition(b"\n")
        cmd, _, n = head.decode().partition(" ")
        n = int(n or 0)
        while len(data) < n:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if cmd == "FLASH":
            return self.flash(data[:n])
        return f"ERR unknown command {cmd!r}"

    def close(self) -> None:
        self.stopping = True
        try:
            self.server.close()
        except OSError:
            pass
        self._stop_emulator()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)


class _FdSock:
    """A raw fd with the socket methods the bridge uses."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def sendall(self, data: bytes) -> None:
        _write_all(self.fd, data)

    def recv(self, n: int) -> bytes:
        try:
            return os.read(self.fd, n)
        except BlockingIOError:
            raise
        except OSError:
            return b""

    def close(self) -> None:
        os.close(self.fd)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            n = os.write(fd, data)
        except BlockingIOError:
            select.select([], [fd], [], 0.5)
            continue
        except OSError:
            return
        data = data[n:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tinydeploy.hil.bench",
                                 description="run one emulated board behind a stable pty + a flash control port")
    ap.add_argument("--board", required=True)
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--control-port", type=int, default=0)
    args = ap.parse_args(argv)
    bench = Bench(args.board, args.listen, args.control_port)

    def stop(*_):
        bench.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        bench.serve()
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
