"""A host client for the MLPerf Tiny test-harness protocol ("th_" API), speaking it as the official runner
(mlcommons/tiny `benchmark/runner`) does.

What the runner does (read from its serial_device.py, device_under_test.py, device_manager.py, script.py):
- Commands are ASCII written in one go and ended by `%` (no newline). Replies are lines ended by `\\n`
  (`\\r` and NUL dropped); a reply is every line up to the first one that contains `m-ready`. With no
  line for 5 s the runner gives up ("No response to command").
- Discovery: boards are matched by USB VID:PID (devices.yaml); with `check_name` it first writes
  `name%` and looks for `m-name-dut-[...]`. Then `name`, `profile` (`m-profile-[...]`,
  `m-model-[kws01|vww01|ad01|ic01]`: the model string picks the test and the dataset folder).
- `load`: `db load N`, then `db <hex>` with two hex digits per byte, 31 bytes per command (26 when a
  power monitor is attached), each answered by `m-ready`.
- `infer N W` (performance 5 x `infer 20..1500 W`, accuracy `infer 1 0` per file): the first
  `m-lap-us-<us>` line is the start, the second the end (elapsed = end - start over N inferences);
  `m-results-[f1,f2,...]` holds the outputs as floats. Lines starting `e-` are errors.

    with MlperfClient("/dev/pts/3") as c:
        c.wait_ready(); c.identify()                  # Identity(name, profile, model)
        c.load(sample_bytes)
        r = c.infer(10, 1)                           # r.elapsed_us, r.results
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TinyDeployError

CHUNK = 31  # bytes per `db` command, as the runner without a power monitor
READY = "m-ready"
LAP_RE = re.compile(r"^m-lap-us-(\d+)$")
RESULTS_RE = re.compile(r"^m-results-\[([^]]*)\]$")
NAME_RE = re.compile(r"^m-name-dut-\[([^]]+)\]$")
PROFILE_RE = re.compile(r"^m-(profile|model)-\[([^]]+)\]$")
EXPECT_RE = re.compile(r"^m-\[Expecting (\d+) bytes\]$")


@dataclass
class Identity:
    name: str
    profile: str
    model: str


@dataclass
class InferResult:
    lines: list[str]
    start_us: int
    end_us: int
    results: list[float]
    warmup_done: bool = False

    @property
    def elapsed_us(self) -> int:
        return self.end_us - self.start_us


@dataclass
class MlperfClient:
    """One board on a serial port (a device path, a /dev/pts/N of an emulator, or a pyserial URL)."""

    url: str
    baud: int = 115200
    timeout: float = 5.0  # seconds without a line before giving up (the runner's default)
    chunk: int = CHUNK
    opener: Callable[[str, int], object] | None = None
    log: list[str] = field(default_factory=list)  # every line sent (">" ...) and received ("<" ...)

    def __post_init__(self) -> None:
        self.port = None
        self._buf = b""

    # -- the port ---------------------------------------------------------------------------
    def open(self) -> MlperfClient:
        from .client import open_serial

        self.port = (self.opener or (lambda u, b: open_serial(u, b)))(self.url, self.baud)
        self._buf = b""
        return self

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except Exception:  # noqa: BLE001, S110 - closing a dead port must not hide the real error
                pass
            self.port = None

    def __enter__(self) -> MlperfClient:
        return self.open() if self.port is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_line(self, seconds: float, what: str) -> str:
        deadline = time.monotonic() + seconds
        while b"\n" not in self._buf:
            if time.monotonic() > deadline:
                tail = " | ".join(self.log[-4:]) or "nothing"
                raise TinyDeployError(f"no reply to {what} from {self.url} within {seconds:g} s "
                                      f"(last lines: {tail})", "is the board flashed with `tinydeploy flash "
                                      "--protocol mlperf` and the port and baud rate right?")
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except Exception as exc:  # noqa: BLE001 - pyserial raises several types on a lost port
                raise TinyDeployError(f"lost the board on {self.url}: {exc}", "check the cable/port") from None
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        text = line.replace(b"\r", b"").replace(b"\0", b"").decode("ascii", "replace")
        self.log.append(f"< {text}")
        return text

    # -- commands ---------------------------------------------------------------------------
    def wait_ready(self, timeout: float = 10.0) -> list[str]:
        """The boot banner up to `m-ready` (`m-init-done`, `m-ready`). A board that booted before we
        opened the port printed it already: then `name%` brings an `m-ready`."""
        if self.port is None:
            self.open()
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                lines.append(self._read_line(min(1.0, timeout), "the boot banner"))
            except TinyDeployError:  # quiet: booted before we opened the port
                return lines + self.command("name", timeout=timeout, check=False)
            if READY in lines[-1]:
                return lines
        raise TinyDeployError(f"no m-ready from {self.url} within {timeout:g} s (got: {' | '.join(lines[-4:])})",
                              "is the board flashed with `tinydeploy flash --protocol mlperf` at this baud rate?")

    def command(self, cmd: str, timeout: float | None = None, check: bool = True) -> list[str]:
        """Write `cmd%`, return the reply lines up to and with the one containing `m-ready`; with
        `check`, an `e-` line raises TinyDeployError."""
        if self.port is None:
            self.open()
        self.log.append(f"> {cmd}%")
        try:
            self.port.write(f"{cmd}%".encode("ascii"))
        except Exception as exc:  # noqa: BLE001 - pyserial raises several types on a lost port
            raise TinyDeployError(f"lost the board on {self.url}: {exc}", "check the cable/port") from None
        lines = []
        while True:
            line = self._read_line(timeout or self.timeout, repr(f"{cmd}%"))
            if line:
                lines.append(line)
            if READY in line:
                break
        errors = [x for x in lines if x.startswith("e-")]
        if check and errors:
            raise TinyDeployError(f"the board refused {cmd.split(' ')[0]!r}: {errors[0]}",
                                  "its e-[...] says what it wants; `help%` lists the commands it knows")
        return lines

    def identify(self) -> Identity:
        """`name` and `profile`, as the runner identifies a board."""
        name = _match(NAME_RE, self.command("name"), "name")[0]
        found = dict(m.groups() for line in self.command("profile") if (m := PROFILE_RE.match(line)))
        if "model" not in found:
            raise TinyDeployError("the board's `profile` reply has no m-model-[...] line",
                                  "reflash it with --protocol mlperf --mlperf-model kws01|vww01|ad01|ic01")
        return Identity(name, found.get("profile", ""), found["model"])

    def timestamp(self) -> int:
        return int(_match(LAP_RE, self.command("timestamp"), "timestamp")[0])

    def load(self, data: bytes) -> None:
        """`db load N`, then the bytes as hex in `db` commands of `chunk` bytes each."""
        want = int(_match(EXPECT_RE, self.command(f"db load {len(data)}"), "db load")[0])
        if want != len(data):
            raise TinyDeployError(f"the board expects {want} bytes, not {len(data)}")
        for off in range(0, len(data), self.chunk):
            self.command("db " + data[off:off + self.chunk].hex())

    def infer(self, n: int = 1, warmups: int = 0, timeout: float | None = None) -> InferResult:
        """`infer N W`: the two m-lap-us timestamps around the N inferences and the results."""
        lines = self.command(f"infer {n} {warmups}", timeout=timeout)
        laps = [int(m[1]) for line in lines if (m := LAP_RE.match(line))]
        if len(laps) < 2:
            raise TinyDeployError(f"`infer {n} {warmups}` gave {len(laps)} m-lap-us timestamps, not 2",
                                  f"the board answered: {' | '.join(lines)}")
        res = [line for line in lines if RESULTS_RE.match(line)]
        return InferResult(lines, laps[0], laps[1], _floats(res[-1]) if res else [],
                           any(line == "m-warmup-done" for line in lines))

    def results(self) -> list[float]:
        lines = self.command("results")
        res = [line for line in lines if RESULTS_RE.match(line)]
        if not res:
            raise TinyDeployError("no m-results-[...] in the board's reply to `results`",
                                  f"it answered: {' | '.join(lines)}")
        return _floats(res[-1])


def _match(rx: re.Pattern, lines: list[str], cmd: str) -> tuple[str, ...]:
    for line in lines:
        if m := rx.match(line):
            return m.groups()
    raise TinyDeployError(f"unexpected reply to `{cmd}`: {' | '.join(lines) or 'empty'}",
                          "is this MLPerf Tiny firmware (tinydeploy flash --protocol mlperf)?")


def _floats(line: str) -> list[float]:
    body = RESULTS_RE.match(line)[1]  # type: ignore[index]
    try:
        return [float(x) for x in body.split(",") if x.strip()]
    except ValueError:
        raise TinyDeployError(f"cannot read the results {line!r}", "garbled serial line; check the baud rate") \
            from None
