"""The tinydeploy-emu PlatformIO dev-platform (platform/tinydeploy-emu) and running its firmware.

The board JSON files of the platform are generated from board_profiles/*.toml (`sync_platform_boards`,
checked by a test), so the emulated boards' memory sizes have one source of truth.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from ..boards import BoardProfile, list_boards, load_board
from ..errors import TinyDeployError

from ..paths import PLATFORM_DIR
PLATFORM_NAME = "tinydeploy-emu"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def arch_of(b: BoardProfile) -> str:
    """arm / riscv / xtensa / avr / host from the profile's core."""
    core = b.core.lower()
    if core.startswith("cortex"):
        return "arm"
    if core.startswith("rv"):
        return "riscv"
    if core.startswith("xtensa"):
        return "xtensa"
    if core.startswith("avr"):
        return "avr"
    return "host"


def board_json(b: BoardProfile) -> dict:
    """The platform's boards/<id>.json for an emulated profile."""
    if not b.emulated or not b.emulator or not b.toolchain:
        raise TinyDeployError(f"board {b.id} is not an emulated board")
    flash = b.regions("flash")[0]
    ram = b.regions("ram")[0]
    e = b.emulator
    return {
        "name": b.name,
        "url": "https://www.qemu.org/docs/master/system/" if e.kind == "qemu" else "https://github.com/buserror/simavr",
        "vendor": "tinydeploy",
        "frameworks": [],
        "build": {
            "arch": arch_of(b), "mcu": b.mcu, "cpu": b.core, "f_cpu": f"{b.clock_hz}L",
            "toolchain": b.toolchain.cc[:-len("gcc")],
            "cpuflags": list(b.cflags),
            "defines": list(e.defines),
            "memory": {"flash_origin": hex(flash.origin or 0), "flash_size": flash.size,
                       "ram_origin": hex(ram.origin or 0), "ram_size": ram.size, "stack_size": b.stack_bytes},
        },
        "upload": {"protocol": e.kind, "protocols": [e.kind], "maximum_size": flash.size,
                   "maximum_ram_size": ram.size},
        "emulator": {"kind": e.kind, "binary": e.binary, "machine": e.machine, "cpu": e.cpu,
                     "args": list(e.args), "apt": e.apt, "cycle_unit": e.cycle_unit},
        "debug": {"tools": {}},
    }


def sync_platform_boards(platform_dir: Path = PLATFORM_DIR, write: bool = True) -> list[str]:
    """(Re)write boards/*.json from the profiles; returns the ids whose file changed (or would change)."""
    changed = []
    for b in list_boards():
        if not b.emulated:
            continue
        p = platform_dir / "boards" / f"{b.id}.json"
        text = json.dumps(board_json(b), indent=2) + "\n"
        if not p.exists() or p.read_text() != text:
            changed.append(b.id)
            if write:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
    return changed


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
                    check: bool = True) -> str:
    """Run a firmware ELF to its end; return its console text (simavr's coloured stderr log cleaned up).

    Raises TinyDeployError on a timeout or (check=True) a non-zero exit status (the firmware's fault
    handler exits 255, a failed self-check 1).
    """
    b = load_board(board)
    cmd = emulator_command(b, elf)
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
    """simavr prints UART lines on stderr in colour, non-printable bytes (the line end) as '.'."""
    lines = []
    for raw in log.splitlines():
        line = ANSI_RE.sub("", raw)
        if line.startswith(("Loaded ", "SIMAVR", "simavr", "avr_", "Starting ")):
            continue
        # the line feed itself shows as one '.', CR LF as two
        line = line[:-2] if line.endswith("..") else line[:-1] if line.endswith(".") else line
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")
