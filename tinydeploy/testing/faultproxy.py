"""A TCP proxy that damages a serial link on purpose: injects noise, drops bytes, cuts the link.

Used by the fault tests between the pyserial client (socket://) and a device (host or QEMU).
Seeded, bounded, loopback only.
"""
from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass


@dataclass
class Faults:
    inject: float = 0.0  # per chunk: probability to insert 1-8 random bytes
    drop: float = 0.0  # per chunk: probability to drop one byte
    cut: float = 0.0  # per chunk: probability to cut the connection
    seed: int = 0


class FaultProxy:
    def __init__(self, upstream_port: int, faults: Faults) -> None:
        self.upstream_port, self.faults = upstream_port, faults
        self.rng = random.Random(faults.seed)
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.port = self.server.getsockname()[1]
        self.counts = {"injected": 0, "dropped": 0, "cut": 0, "chunks": 0}
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                down, _ = self.server.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                down.close()
                continue
            up.settimeout(None)
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b, down, up), daemon=True).start()

    def _damage(self, data: bytes) -> bytes | None:
        with self.lock:
            self.counts["chunks"] += 1
            r = self.rng.random()
            if r < self.faults.cut:
                self.counts["cut"] += 1
                return None
            data = bytearray(data)
            if self.rng.random() < self.faults.drop and data:
                del data[self.rng.randrange(len(data))]
                self.counts["dropped"] += 1
            if self.rng.random() < self.faults.inject:
                pos = self.rng.randrange(len(data) + 1)
                data[pos:pos] = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 8)))
                self.counts["injected"] += 1
            return bytes(data)

    def _pump(self, src: socket.socket, dst: socket.socket, *both: socket.socket) -> None:
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                out = self._damage(data)
                if out is None:
                    break
                dst.sendall(out)
        except OSError:
            pass
        for s in both:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
