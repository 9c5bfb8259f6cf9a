"""Frames of the tinydeploy device protocol v2 (see lib/tinydeploy/td_device.h; v2 adds the training requests
of lib/tinydeploy/td_train_device.h)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\xa5\x5a"
VERSION = 2
MAX_REQUEST = 56
MAX_REPLY = 120
HELLO, SET_INPUT, INVOKE, GET_OUTPUT, STATS = 0x01, 0x02, 0x03, 0x04, 0x05
TRAIN_INFO, TRAIN, GET_PARAM = 0x10, 0x11, 0x12  # td_train_device.h
REPLY, NAK = 0x80, 0x7F
ERRORS = {1: "bad checksum", 2: "bad length", 3: "unknown request", 4: "index or range out of bounds"}
UNITS = {0: "cycles", 1: "instructions", 2: "µs", 3: "timer ticks"}


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as the device computes it."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode(msg_type: int, seq: int, payload: bytes = b"") -> bytes:
    body = struct.pack("<BBH", msg_type, seq & 0xFF, len(payload)) + payload
    return MAGIC + body + struct.pack("<H", crc16(body))


@dataclass
class Frame:
    type: int
    seq: int
    payload: bytes


class FrameReader:
    """Accumulates received bytes and yields valid frames, skipping text and garbage."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.skipped = 0  # bytes thrown away while resynchronizing (banner text, noise)

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        frames = []
        while True:
            start = self.buf.find(MAGIC)
            if start < 0:
                keep = 1 if self.buf[-1:] == MAGIC[:1] else 0
                self.skipped += len(self.buf) - keep
                del self.buf[: len(self.buf) - keep]
                return frames
            if start:
                self.skipped += start
                del self.buf[:start]
            if len(self.buf) < 6:
                return frames
            msg_type, seq, length = struct.unpack_from("<BBH", self.buf, 2)
            if length > MAX_REPLY:
                del self.buf[:1]
                self.skipped += 1
                continue
            end = 6 + length + 2
            if len(self.buf) < end:
                return frames
            body = bytes(self.buf[2:6 + length])
            (crc,) = struct.unpack_from("<H", self.buf, 6 + length)
            if crc != crc16(body):
                del self.buf[:1]
                self.skipped += 1
                continue
            frames.append(Frame(msg_type, seq, body[4:]))
            del self.buf[:end]


@dataclass
class Hello:
    session: int
    version: int
    arena_bytes: int
    n_inputs: int
    n_outputs: int
    unit: str
    clock_hz: int
    sha256: str
    name: str

    @classmethod
    def parse(cls, p: bytes) -> "Hello":
        session, version, arena, n_in, n_out, unit, clock = struct.unpack_from("<IBIBBBI", p)
        return cls(session, version, arena, n_in, n_out, UNITS.get(unit, "?"), clock, p[16:48].hex(),
                   p[48:].decode(errors="replace"))
