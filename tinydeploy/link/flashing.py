"""`tinydeploy flash`: build (or reuse) the protocol firmware project and upload it.

Emulated boards: "upload" is `pio run -t upload`, which starts QEMU with UART0 on a pty (/dev/pts/N,
the board's serial port); the emulator keeps running in the background until `flash --stop` (or the
next flash of the same project). With --port socket://127.0.0.1:N (or N) QEMU listens on that TCP
port instead. Real boards need their PlatformIO platform and an attached board: without them, flash
fails at once and says what is missing and the exact commands to run once online.

    res = flash("m.tflite", "qemu-m4")            # -> FlashResult(url="/dev/pts/3", pid=…, steps=[…], model=…)
    open_session("m.tflite", port=res.url, compiled=res.model)   # talk to it without compiling again
    plan = flash("m.tflite", "esp32", dry_run=True)  # every step, nothing run
    flash("kws.tflite", "qemu-m4", protocol="mlperf", mlperf_model="kws01")   # MLPerf Tiny's th_ protocol
"""
from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..compile import CompiledModel, PlanOptions
from ..errors import TinyDeployError
from ..target import (
    MANIFEST,
    BoardProfile,
    default_project_dir,
    device_project,
    firmware_up_to_date,
    load_board,
    write_json_atomic,
)

STATE = ".tinydeploy-emulator.json"


@dataclass
class FlashResult:
    board: BoardProfile
    project_dir: Path
    steps: list[str] = field(default_factory=list)
    url: str = ""
    pid: int | None = None
    dry_run: bool = False
    model: CompiledModel | None = None  # what the firmware runs (compiled once; a session can take it on)
    protocol: str = "device"  # or "mlperf" (MLPerf Tiny's th_ protocol, mlperf_model in its profile)
    mlperf_model: str | None = None


def resolve_model(model: str | Path | None, project_dir: Path | None) -> tuple[Path, Path | None, str | None]:
    """MODEL, or inside a protocol firmware project: the model (and board) of its manifest."""
    if model is not None:
        return Path(model), project_dir, None
    here = (project_dir or Path(".")).resolve()
    try:
        data = json.loads((here / MANIFEST).read_text())
        return Path(data["model_path"]), here, data["key"]["board"]
    except (OSError, ValueError, KeyError):
        raise TinyDeployError("no MODEL given and this folder is not a flashed project",
                              "tinydeploy flash MODEL.tflite --board B") from None


def installed_platform(name: str) -> bool:
    from ..target import default_core_dir

    d = default_core_dir() / "platforms"
    return d.is_dir() and any(p.name.split("@")[0].removesuffix(".pio-link") == name for p in d.iterdir())


def _real_board_problems(b: BoardProfile, port: str | None) -> tuple[list[str], str | None]:
    """What keeps us from flashing a real board (platform missing, no board attached), and its port."""
    from .session import find_usb_port

    problems = []
    plat = b.platformio.get("platform", "")
    if not installed_platform(plat):
        problems.append(f"PlatformIO platform `{plat}` is not installed (offline it cannot be)")
    if port is None:
        try:
            port = find_usb_port(b)
        except TinyDeployError:
            ids = ", ".join(b.usb_ids) or "see its profile"
            problems.append(f"no {b.id} is attached (no serial port with USB ID {ids})")
    elif not port.startswith(("socket://", "rfc2217://")) and not os.path.exists(port):
        problems.append(f"serial port {port} does not exist")
    return problems, port


def _online_commands(b: BoardProfile, model: Path, port: str | None) -> str:
    from ..target import default_core_dir

    plat = b.platformio.get("platform", "")
    return (f"when online, once: PLATFORMIO_CORE_DIR={default_core_dir()} pio pkg install -g -p platformio/{plat} "
            f"(the first build also downloads its toolchain and framework); then plug the board in and run: "
            f"tinydeploy flash {model} --board {b.id} --port {port or '/dev/ttyUSB0'}")


def stop_emulator(project_dir: Path) -> int | None:
    """Stop the emulator a previous flash left running for this project; returns its pid."""
    state = project_dir / STATE
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return None
    pid = int(data.get("pid", 0))
    state.unlink(missing_ok=True)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    where = str(project_dir.resolve())
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        cwd = ""
    if where not in cmdline and cwd != where:  # the pid now belongs to something else: leave it
        return None
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return None
    return pid


def _flash_real(res: FlashResult, model_path: Path, port: str, options: PlanOptions | None,
                compiled: CompiledModel | None = None) -> FlashResult:
    """A real board with its platform installed and attached: pio run, then pio run -t upload."""
    from ..target import elf_sha256, run_pio

    b = res.board
    proj = device_project(model_path, b, res.project_dir, options=options, compiled=compiled,
                          protocol=res.protocol, mlperf_model=res.mlperf_model)
    if not firmware_up_to_date(proj):
        run_pio(["run", "-e", b.id], proj.path, timeout=900)
        proj.manifest["elf_sha256"] = elf_sha256(proj.elf)
        write_json_atomic(proj.manifest_path, proj.manifest)
    run_pio(["run", "-e", b.id, "-t", "upload", "--upload-port", port], proj.path, timeout=300)
    res.url, res.model = port, proj.model
    return res


def _tcp_port(port: str) -> int | None:
    p = port.removeprefix("socket://127.0.0.1:").removeprefix("socket://localhost:")
    return int(p) if p.isdigit() else None


def flash(model: str | Path | None, board: str | None, port: str | None = None, dry_run: bool = False,
          project_dir: str | Path | None = None, options: PlanOptions | None = None,
          log: Callable[[str], None] = lambda s: None, compiled: CompiledModel | None = None,
          protocol: str = "device", mlperf_model: str | None = None) -> FlashResult:
    """`compiled`: the model already compiled (with `options`), so it is not compiled again.
    protocol "mlperf": the MLPerf Tiny firmware, mlperf_model one of kws01, vww01, ad01, ic01."""
    from ..target import check_protocol, pio_executable

    model_path, pdir, manifest_board = resolve_model(model, Path(project_dir) if project_dir else None)
    if model is None and protocol == "device" and not mlperf_model:  # inside a flashed MLPerf project: its protocol
        kept = json.loads((pdir / MANIFEST).read_text())["key"].get("protocol", "").split()
        protocol, mlperf_model = (kept[0], kept[1]) if len(kept) == 2 else (protocol, mlperf_model)
    mlperf_model = check_protocol(protocol, mlperf_model)
    if board is None and manifest_board is None:
        raise TinyDeployError("which board? --board B", "`tinydeploy boards` lists them")
    b = load_board(board or manifest_board)
    if b.kind == "host":
        raise TinyDeployError("the host board needs no flashing", "use eval/monitor --board host directly")
    pdir = pdir or default_project_dir(model_path, b, protocol)
    res = FlashResult(b, pdir, dry_run=dry_run, protocol=protocol, mlperf_model=mlperf_model)
    step = res.steps.append
    what = f"MLPerf Tiny ({mlperf_model}) firmware project" if mlperf_model else "protocol firmware project"
    pio = " ".join(pio_executable() if not dry_run else ["pio"])
    if not b.emulated:
        problems, port = _real_board_problems(b, port)
        step(f"generate the {what} in {pdir} (src/: td_glue.c + arduino_device.cpp)")
        step(f"cd {pdir} && {pio} run -e {b.id}")
        step(f"cd {pdir} && {pio} run -e {b.id} -t upload --upload-port {port or '<auto: USB ' + ','.join(b.usb_ids) + '>'}")
        step(f"connect at {b.baud} baud on {port or 'the board port'} and check the model's SHA-256 (HELLO)"
             if protocol == "device" else f"the MLPerf Tiny runner talks to it at {b.baud} baud on "
             f"{port or 'the board port'}")
        if problems and not dry_run:
            raise TinyDeployError(f"cannot flash {b.id} here: " + "; ".join(problems),
                                  _online_commands(b, model_path, port))
        if dry_run:
            for p in problems:
                step(f"missing: {p}")
            return res
        return _flash_real(res, model_path, port, options, compiled)
    proj = device_project(model_path, b, pdir, options=options, dry_run=dry_run, compiled=compiled,
                          protocol=protocol, mlperf_model=mlperf_model)
    res.model = proj.model
    reuse_fw = proj.reused and firmware_up_to_date(proj)
    step(f"{'reuse' if proj.reused else 'generate'} the {what} {pdir} "
         f"({'model, tool version and plan options match its manifest' if proj.reused else 'src/: td_glue.c + board main'})")
    step(f"{'skip' if reuse_fw else 'run'}: cd {pdir} && {pio} run -e {b.id}" +
         (" (firmware up to date)" if reuse_fw else ""))
    tcp = _tcp_port(port) if port else None
    if port and tcp is None:
        raise TinyDeployError(f"--port for {b.id} is a local TCP port (4444 or socket://127.0.0.1:4444), got {port}")
    qemu_pio = b.emulator.kind == "qemu" and tcp is None
    if qemu_pio:
        step(f"upload: cd {pdir} && {pio} run -e {b.id} -t upload  ({b.emulator.binary} with -serial pty, "
             "in the background; its /dev/pts/N is the serial port)")
    else:
        step(f"upload: start {b.emulator.binary} on {proj.elf} in the background, serial port " +
             (f"socket://127.0.0.1:{tcp}" if tcp else "a pty (/dev/pts/N)"))
    if dry_run:
        return res
    from ..target import ensure_firmware
    from .emulators import start_emulator, start_pio_upload

    old = stop_emulator(pdir)
    if old:
        log(f"stopped the emulator flashed before (pid {old})")
    proj = ensure_firmware(model_path, b, pdir, options=options, compiled=proj.model, protocol=protocol,
                           mlperf_model=mlperf_model)
    if qemu_pio:
        emu = start_pio_upload(pdir, b)
    else:
        emu = start_emulator(b, proj.elf.resolve(), transport="tcp" if tcp else "pty", port=tcp,
                             log_path=pdir / ".pio" / "emulator.log", detach=True)
    # it keeps running after we return (its own session); `flash --stop` or the next flash ends it
    res.url, res.pid = emu.url, emu.pid
    write_json_atomic(pdir / STATE, {"pid": emu.pid, "url": emu.url, "board": b.id, "elf": str(proj.elf)})
    return res
