"""A connection to a board running protocol firmware, however it is reached (used by eval and monitor).

    with open_session("m.tflite", board="qemu-m4") as s:    # builds/reuses firmware, starts QEMU, stops it
        res = s.client.run([x.tobytes()])
    open_session("m.tflite", board="host")                   # the host device (a local TCP port)
    open_session("m.tflite", port="socket://127.0.0.1:4444") # a board (or emulator) that already runs
    open_session(None, port="/dev/pts/3")                    # model found by the SHA-256 the board reports
    open_session("m.tflite", board="qemu-m4", graph=g)       # the caller's read model (g = load_model(...))
    open_session("m.tflite", port=url, compiled=m)           # the caller's compiled model (flash's)

Real boards are reached through --port or found by the USB VID:PID of their profile.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..compile import CompiledModel, Graph, PlanOptions, compile_graph
from ..errors import TinyDeployError
from ..target import BoardProfile, board_options, load_board
from .client import DeviceClient
from .protocol import Hello


@dataclass
class BoardSession:
    client: DeviceClient
    hello: Hello
    model: CompiledModel
    model_path: Path
    url: str
    board: BoardProfile | None = None
    started: object | None = None        # RunningEmulator / HostDevice we started (stopped on close)
    project: object | None = None        # DeviceProject when we built the firmware
    notes: list[str] = field(default_factory=list)
    restart: Callable[[], object] | None = None  # starts `started` again (same firmware), when we started it

    @property
    def unit(self) -> str:
        return self.hello.unit

    def close(self) -> None:
        self.client.close()
        if self.started is not None:
            self.started.stop()
            self.started = None

    def __enter__(self) -> "BoardSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def find_usb_port(b: BoardProfile) -> str:
    """The serial port of an attached board, by the USB VID:PID in its profile."""
    try:
        from serial.tools.list_ports import comports
    except ImportError:
        raise TinyDeployError("pyserial is not installed", "pip install pyserial==3.5") from None
    want = {i.upper() for i in b.usb_ids}
    for p in comports():
        if p.vid is not None and f"{p.vid:04X}:{p.pid:04X}" in want:
            return p.device
    ids = ", ".join(b.usb_ids) or "none in its profile"
    raise TinyDeployError(f"no {b.id} attached: no serial port with USB ID {ids}",
                          "plug the board in, or name its port with --port (e.g. /dev/ttyUSB0)")


def _model_from_manifests(sha256: str) -> Path | None:
    """A model flashed earlier (build/device/*/ manifests, or the current folder's) with this SHA-256."""
    from ..target import MANIFEST

    for p in [Path(MANIFEST), *sorted(Path("build/device").glob(f"*/{MANIFEST}"))]:
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if data.get("sha256") == sha256 and Path(data.get("model_path", "")).is_file():
            return Path(data["model_path"])
    return None


def open_session(model_path: str | Path | None, board: str | None = None, port: str | None = None,
                 options: PlanOptions | None = None, project_dir: str | Path | None = None,
                 timeout: float = 2.0, log: Callable[[str], None] = lambda s: None,
                 emulator_args: list[str] | None = None, compiled: CompiledModel | None = None,
                 emulator_log: Path | None = None, baud: int | None = None,
                 graph: Graph | None = None) -> BoardSession:
    """Connect to the board (starting the host device or the emulator when no --port is given).

    The model at model_path is read and compiled once, and that compiled model builds the firmware and
    serves the session. A caller that read it already passes `graph` (compiled here with `options`); one
    that compiled it (with `options`) passes `compiled`: neither is read or compiled again."""
    from ..compile import load_model
    from .emulators import serial_opener

    if board is None and port is None:
        raise TinyDeployError("say where the board is: --board B or --port P", "`tinydeploy boards` lists boards")
    b = load_board(board) if board else None
    started = project = restart = None
    m = None
    if model_path is not None:
        model_path = Path(model_path)
        if not model_path.is_file():
            raise TinyDeployError(f"model {model_path} not found", "give the path of a .tflite file")
        m = compiled or compile_graph(graph if graph is not None else load_model(model_path),
                                      options=options or board_options(b), source_name=model_path.name)
    url = port
    if url is None:
        if m is None:
            raise TinyDeployError("a model is needed to start a board", "give the .tflite (MODEL or --model)")
        if b.kind == "host":
            from ..target import HostDevice, build_host_device
            log("building the host device")
            exe = build_host_device(m)
            restart = lambda: HostDevice(exe).start()
            started = restart()
            url = started.url
        elif b.emulated:
            from ..target import ensure_firmware
            from .emulators import start_emulator
            project = ensure_firmware(model_path, b, project_dir, options=options, compiled=m)
            log(f"firmware {'reused' if project.reused else 'built'}: {project.elf}")
            elf = project.elf
            restart = lambda: start_emulator(b, elf, extra_args=emulator_args, log_path=emulator_log)
            started = restart()
            url = started.url
            log(f"{b.emulator.binary} runs the firmware; serial port {url}")
        else:
            url = find_usb_port(b)
    try:
        client = DeviceClient(url, [], baud=baud or (b.baud if b else 115200), timeout=timeout,
                              expect_sha256=m.graph.sha256 if m else None, opener=serial_opener)
        client.alive = process_alive(started)
        hello = client.connect(wait=15.0 if started is None else 10.0)
        if m is None:
            found = _model_from_manifests(hello.sha256)
            if found is None:
                raise TinyDeployError(f"the board on {url} runs model sha256 {hello.sha256[:12]}…, which no "
                                      "flashed project here knows", "name the model: --model M")
            model_path = found
            m = compile_graph(load_model(found), options=options or board_options(b), source_name=found.name)
        client.output_sizes = [m.graph.tensors[t].nbytes for t in m.graph.outputs]
        if b is not None and b.kind == "host" and hello.unit == "cycles" and not hello.clock_hz:
            hello.unit = "µs"  # host_device.c counts CLOCK_MONOTONIC µs but is built without its unit macro
        if b is None:  # the firmware's name starts with its board id
            try:
                b = load_board(hello.name.split()[0]) if hello.name.split() else None
            except TinyDeployError:
                b = None
    except BaseException:
        if started is not None:
            started.stop()
        raise
    return BoardSession(client, hello, m, Path(model_path), url, b, started, project, restart=restart)


def process_alive(started: object | None) -> Callable[[], bool] | None:
    """For the client: False once the emulator/host device process we started has ended."""
    if started is None:
        return None
    return lambda: getattr(started, "proc", None) is not None and started.proc.poll() is None
