"""The tinydeploy-emu PlatformIO dev-platform (platform/tinydeploy-emu): its board files.

The board JSON files of the platform are generated from board_profiles/*.toml (`sync_platform_boards`,
checked by a test), so the emulated boards' memory sizes have one source of truth.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import TinyDeployError
from ..paths import PLATFORM_DIR
from .boards import BoardProfile, arch_of, list_boards

PLATFORM_NAME = "tinydeploy-emu"


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
