"""A device client over pyserial: retries, resynchronizes, reconnects, never duplicates a result."""
from __future__ import annotations

import random
import struct
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import TinyDeployError
from . import protocol as P


class SessionLost(Exception):
    """The device reset (or was replaced) since HELLO: its inputs are gone, redo the sample."""


class LinkLost(Exception):
    """The link broke, or no valid reply came back: reopen the port and resend the same request."""


class LinkDown(TinyDeployError):
    """The board is gone: the port does not reopen, or nothing answers (eval restarts or waits for it).
    `reason` says it in a few words."""

    def __init__(self, message: str, hint: str = "", reason: str = "") -> None:
        super().__init__(message, hint)
        self.reason = reason or message


@dataclass
class InvokeResult:
    outputs: list[bytes]
    count: int  # counter ticks of this invoke, in hello.unit
    invokes: int  # invokes since the device booted


@dataclass
class TrainStep:
    loss: float  # before the step
    top1: int  # the model's prediction in the step's forward
    count: int  # counter ticks of the step, in hello.unit
    steps: int  # steps since the device booted


@dataclass
class TrainInfo:
    n_params: int
    buffer_bytes: int  # the one training buffer (forward arena + gradients)
    state_bytes: int  # masters, momentum, RAM copies of the updated parameters
    build: int  # hash of model, update and momentum the firmware was built for
    steps: int


@dataclass
class Stats:
    stack_peak_bytes: int
    canary_ok: bool
    invokes: int
    arena_bytes: int


def open_serial(url: str, baud: int = 115200, timeout: float = 0.05):
    """Open a pyserial port: a device path, or a URL such as socket://127.0.0.1:4444."""
    import serial

    try:
        return serial.serial_for_url(url, baudrate=baud, timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise TinyDeployError(f"cannot open serial port {url}: {exc}",
                              "check the port (tinydeploy boards lists USB IDs) or that the emulator runs") from None


class DeviceClient:
    """Talks to one board. `run()` returns each sample's outputs exactly once, or raises."""

    def __init__(self, url: str, output_sizes: list[int], baud: int = 115200, timeout: float = 2.0,
                 retries: int = 6, reconnects: int = 5, expect_sha256: str | None = None,
                 opener: Callable[[str, int], object] | None = None) -> None:
        self.output_sizes = list(output_sizes)
        self.url, self.baud, self.timeout, self.retries, self.reconnects = url, baud, timeout, retries, reconnects
        self.expect_sha256 = expect_sha256
        self._open = opener or (lambda u, b: open_serial(u, b))
        self.port = None
        self.reader = P.FrameReader()
        self.seq = random.randrange(256)
        self.session = 0
        self.hello: P.Hello | None = None
        self.stats_retries = 0  # requests that needed a resend
        self.stats_reconnects = 0  # port reopened during run(): link cut, or device reset
        self.stats_redone = 0  # samples started again because the device reset (lost its inputs)
        self.alive: Callable[[], bool] | None = None  # False once the device process we started has ended
        self.reopen_wait = 10.0  # seconds _reopen() waits for the port to open again

    # -- connection -------------------------------------------------------------------------
    def connect(self, wait: float = 10.0) -> P.Hello:
        deadline = time.monotonic() + wait
        while True:
            try:
                self.close()
                self.port = self._open(self.url, self.baud)
                self.reader = P.FrameReader()
                self.session = random.randrange(1, 2**32)
                self.hello = P.Hello.parse(self._request(P.HELLO, struct.pack("<I", self.session),
                                                         check_session=False, reopen=False))
                break
            except (TinyDeployError, OSError, SessionLost, LinkLost):
                if time.monotonic() > deadline or not self._is_alive():
                    raise LinkDown(f"no tinydeploy firmware answers on {self.url}",
                                          "is the board flashed with `tinydeploy flash` and the port right?",
                                          "no tinydeploy firmware answers") from None
                time.sleep(0.2)
        if self.hello.session != self.session:
            raise TinyDeployError("the device did not take the session number", "reflash the firmware")
        if self.hello.version != P.VERSION:
            raise TinyDeployError(f"firmware speaks protocol v{self.hello.version}, this host v{P.VERSION}",
                                  "reflash with this tinydeploy version")
        if self.expect_sha256 and self.hello.sha256 != self.expect_sha256:
            raise TinyDeployError(f"the board runs another model (sha256 {self.hello.sha256[:12]}…)",
                                  "reflash it: tinydeploy flash MODEL --board B")
        return self.hello

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # closing a dead link must not hide the real error
                pass
            self.port = None

    # -- requests ---------------------------------------------------------------------------
    def _request(self, msg_type: int, payload: bytes = b"", check_session: bool = True,
                 reopen: bool = True) -> bytes:
        """Send one request, return its reply payload. Every resend carries the same seq, also after the
        link was cut and reopened: a device that already handled the request answers from its reply
        cache (an INVOKE never runs twice); a device that was reset answers with session 0 (SessionLost).
        Without `reopen` (HELLO from connect(), which reopens by itself) LinkLost is raised."""
        self.seq = (self.seq + 1) & 0xFF
        frame = P.encode(msg_type, self.seq, payload)
        for reopened in range(self.reconnects + 1):
            try:
                reply = self._send(frame, msg_type)
            except LinkLost as exc:
                if not reopen:
                    raise
                if reopened == self.reconnects:
                    raise LinkDown(f"lost the board on {self.url}: {exc}, {self.reconnects} reconnects "
                                          "did not bring it back", "check the cable/port; the board may be "
                                          "resetting", f"no answer after {self.reconnects} reconnects") from None
                self._reopen()
                continue
            if check_session and struct.unpack_from("<I", reply)[0] != self.session:
                raise SessionLost("device session changed (reset)")
            return reply
        raise AssertionError("unreachable")

    def _send(self, frame: bytes, msg_type: int) -> bytes:
        """Write `frame` until a valid reply to it arrives (up to `retries` times)."""
        for attempt in range(self.retries):
            if attempt:
                self.stats_retries += 1
            try:
                self.port.reset_input_buffer()
                self.port.write(frame)  # no flush(): on a pty it waits ~40 ms for the drain
            except Exception as exc:
                raise LinkLost(f"write failed: {exc}") from None
            reply = self._wait_reply(msg_type, time.monotonic() + self.timeout)
            if reply is None:
                if not self._is_alive():
                    raise LinkLost("the device process ended")
                continue
            if reply.type == P.NAK:
                code = reply.payload[0] if reply.payload else 0
                if code in (1, 2):  # damaged in transit: send again
                    continue
                raise TinyDeployError(f"device refused request {msg_type}: {P.ERRORS.get(code, code)}")
            return reply.payload
        raise LinkLost(f"no valid reply after {self.retries} tries")

    def _is_alive(self) -> bool:
        return self.alive is None or self.alive()

    def _reopen(self) -> None:
        """Reopen the port after a cut, keeping the session and the pending request's seq."""
        self.stats_reconnects += 1
        deadline = time.monotonic() + self.reopen_wait
        while True:
            self.close()
            if not self._is_alive():
                raise LinkDown(f"lost the board on {self.url}: its process ended", reason="its process ended")
            try:
                self.port = self._open(self.url, self.baud)
                self.reader = P.FrameReader()
                return
            except (TinyDeployError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise LinkDown(f"lost the board on {self.url}: cannot reopen it ({getattr(exc, 'message', exc)})",
                                          "check the cable/port, or that the emulator still runs",
                                          "the port does not reopen") from None
                time.sleep(0.2)

    def _wait_reply(self, msg_type: int, deadline: float) -> P.Frame | None:
        while time.monotonic() < deadline:
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except Exception as exc:
                raise LinkLost(f"read failed: {exc}") from None
            for f in self.reader.feed(data) if data else []:
                if f.seq == self.seq and f.type in (msg_type | P.REPLY, P.NAK):
                    return f
        return None

    # -- operations -------------------------------------------------------------------------
    def run(self, inputs: list[bytes]) -> InvokeResult:
        """Send every input, invoke once, read every output. A cut link is reopened and the pending
        request resent (same session, same seq); only a device reset (session changed) redoes the sample."""
        if self.hello is None:
            self.connect()
        for attempt in range(self.reconnects + 1):
            try:
                return self._run_once(inputs)
            except SessionLost:
                if attempt == self.reconnects:
                    raise LinkDown(f"lost the board on {self.url} {self.reconnects} times in one sample",
                                          "check the cable/port; the board may be resetting",
                                          f"it reset {self.reconnects} times in one sample") from None
                self.stats_reconnects += 1
                self.stats_redone += 1
                self.connect()
        raise AssertionError("unreachable")

    def _run_once(self, inputs: list[bytes]) -> InvokeResult:
        assert self.hello is not None
        if len(inputs) != self.hello.n_inputs:
            raise TinyDeployError(f"the firmware's model has {self.hello.n_inputs} inputs, got {len(inputs)}")
        chunk = P.MAX_REQUEST - 5
        for index, data in enumerate(inputs):
            for off in range(0, len(data), chunk):
                self._request(P.SET_INPUT, struct.pack("<BI", index, off) + data[off:off + chunk])
        reply = self._request(P.INVOKE)
        status, count, invokes = struct.unpack_from("<BII", reply, 4)
        if status != 0:
            raise TinyDeployError("the device reports a failed invoke or an overwritten arena canary")
        return InvokeResult(self._outputs(), count, invokes)

    def _outputs(self) -> list[bytes]:
        outs = []
        for index, size in enumerate(self.output_sizes):
            data = bytearray()
            while len(data) < size:
                n = min(P.MAX_REPLY - 4, size - len(data))
                data += self._request(P.GET_OUTPUT, struct.pack("<BIB", index, len(data), n))[4:4 + n]
            outs.append(bytes(data))
        return outs

    # -- training (td_train_device.h) --------------------------------------------------------
    def train_info(self) -> TrainInfo:
        """What the training firmware runs; TinyDeployError when the firmware has no training step."""
        try:
            p = self._request(P.TRAIN_INFO)
        except TinyDeployError as exc:
            if "unknown request" not in exc.message:
                raise
            raise TinyDeployError(f"the board on {self.url} runs inference-only firmware",
                                  "let `tinydeploy train` build and start the training firmware") from None
        return TrainInfo(*struct.unpack_from("<BIIII", p, 4))

    def train_step(self, data: bytes, label: int, lr: float) -> TrainStep:
        """One training step on one int8 sample. A device reset raises SessionLost: its training is gone."""
        chunk = P.MAX_REQUEST - 5
        for off in range(0, len(data), chunk):
            self._request(P.SET_INPUT, struct.pack("<BI", 0, off) + data[off:off + chunk])
        reply = self._request(P.TRAIN, struct.pack("<Hf", label, lr))
        status, loss, top, count, steps = struct.unpack_from("<BfHII", reply, 4)
        if status != 0:
            raise TinyDeployError("the device reports an overwritten canary after the training step (the training "
                                  "buffer overflowed)", "report this model and update spec")
        return TrainStep(loss, top, count, steps)

    def read_param(self, index: int, what: int, nbytes: int) -> bytes:
        """Bytes of updated parameter `index`: what 0 its quantized values, 1 its float32 masters, 2 momentum."""
        data = bytearray()
        while len(data) < nbytes:
            n = min(P.MAX_REPLY - 4, nbytes - len(data))
            data += self._request(P.GET_PARAM, struct.pack("<BBIB", index, what, len(data), n))[4:4 + n]
        return bytes(data)

    def stats(self) -> Stats:
        p = self._request(P.STATS)
        peak, canary, invokes, arena = struct.unpack_from("<IBII", p, 4)
        return Stats(peak, bool(canary), invokes, arena)
