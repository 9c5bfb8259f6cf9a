"""Board profiles: one TOML file per board in board_profiles/ (data, not code).

    from tinydeploy.target.boards import load_board, list_boards
    b = load_board("esp32")          # an id or an alias -> BoardProfile (esp32dev)
    b.ram_budget, b.flash_budget     # usable bytes for the model (arena+stack / weights+code)

An unknown id raises TinyDeployError with the closest names (difflib).
"""
from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TinyDeployError
from ..paths import PROFILES_DIR

KINDS = ("real", "emulated", "host")
REGION_KINDS = ("flash", "ram", "psram")   # [[memory]] kind: psram = external RAM (ESP32-WROVER, S3 N8R8)
KERNEL_VARIANTS = ("generic", "arm-dsp", "arm-mve", "avr", "xtensa", "riscv")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMG]?)i?B?\s*$", re.I)


def parse_size(v: Any) -> int:
    """256K, "1M", "512KB", 4096 or "0x1000" -> bytes."""
    if isinstance(v, int):
        return v
    s = str(v).strip()
    if s.lower().startswith("0x"):
        return int(s, 16)
    m = _SIZE_RE.match(s)
    if not m:
        raise ValueError(f"bad size {v!r}")
    return int(m[1]) * {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[m[2].upper()]


@dataclass(frozen=True)
class MemoryRegion:
    name: str           # e.g. "DTCM", "AXI SRAM", "app partition"
    kind: str           # REGION_KINDS: "flash", "ram" or "psram" (external, slower RAM)
    size: int
    origin: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Emulator:
    kind: str                      # "qemu", "simavr" or "host"
    binary: str = ""               # qemu-system-arm, simavr, ...
    machine: str = ""              # -M (qemu) or -m (simavr)
    cpu: str = ""                  # -cpu (qemu), only where the machine needs it
    apt: str = ""                  # Debian package that provides `binary`
    args: tuple[str, ...] = ()     # extra arguments before the firmware
    cycle_unit: str = ""           # what the CYCLES line counts
    count_scale: int = 1           # instructions per count of the firmware's baked-run counter (Xtensa CCOUNT: 25)
    defines: tuple[str, ...] = ()  # -D for the startup code (e.g. the UART address)


@dataclass(frozen=True)
class Toolchain:
    """The real compiler used for this board here (emulated: the build; real: the cross-check)."""
    cc: str
    apt: str
    cflags: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class BoardProfile:
    id: str
    name: str
    kind: str                           # real | emulated | host
    mcu: str
    core: str
    clock_hz: int
    aliases: tuple[str, ...] = ()
    memory: tuple[MemoryRegion, ...] = ()
    ram_budget: int = 0                 # bytes for arena + stack + runtime data
    flash_budget: int = 0               # bytes for weights + code
    stack_bytes: int = 0                # reserved for the stack inside ram_budget
    reserved_ram: int = 0               # framework / startup data (Arduino core, RTOS, ...)
    reserved_flash: int = 0             # framework code (Arduino core, bootloader, ...)
    const_in_ram: bool = False          # constant arrays take SRAM too (AVR without flash placement)
    platformio: dict[str, Any] = field(default_factory=dict)  # platform, board, framework, board_build.*
    upload_method: str = ""
    baud: int = 115200
    usb_ids: tuple[str, ...] = ()       # "VVVV:PPPP"
    timer: str = ""                     # timer used for latency / the CYCLES line
    cflags: tuple[str, ...] = ()        # the real part's arch flags (-mcpu, ...)
    kernel_variant: str = "generic"
    emulator: Emulator | None = None
    toolchain: Toolchain | None = None
    stand_in: str = ""                  # emulated: which real part it models; real: its emulated relative
    notes: str = ""
    path: Path | None = None

    @property
    def emulated(self) -> bool:
        return self.kind == "emulated"

    @property
    def pio_env(self) -> dict[str, Any]:
        """platformio.ini [env] options from the profile (platform, board, framework, board_build.*)."""
        env = {k: v for k, v in self.platformio.items() if k != "board_build"}
        for k, v in self.platformio.get("board_build", {}).items():
            env[f"board_build.{k}"] = v
        return env

    def region(self, name: str) -> MemoryRegion:
        for r in self.memory:
            if r.name == name:
                return r
        raise KeyError(name)

    def regions(self, kind: str) -> list[MemoryRegion]:
        return [r for r in self.memory if r.kind == kind]


def _profile_from_toml(data: dict[str, Any], path: Path) -> BoardProfile:
    def need(d: dict, key: str, where: str = "") -> Any:
        if key not in d:
            raise TinyDeployError(f"board profile {path.name}: missing `{where}{key}`",
                                  "see board_profiles/README.md for the fields")
        return d[key]

    try:
        mem = tuple(MemoryRegion(name=need(r, "name", "memory."), kind=need(r, "kind", "memory."),
                                 size=parse_size(need(r, "size", "memory.")),
                                 origin=parse_size(r["origin"]) if "origin" in r else None,
                                 note=r.get("note", "")) for r in data.get("memory", []))
        budget = data.get("budget", {})
        emu = data.get("emulator")
        tc = data.get("toolchain")
        upload = data.get("upload", {})
        prof = BoardProfile(
            id=need(data, "id"), name=need(data, "name"), kind=data.get("kind", "real"),
            mcu=need(data, "mcu"), core=need(data, "core"), clock_hz=int(need(data, "clock_hz")),
            aliases=tuple(data.get("aliases", [])), memory=mem,
            ram_budget=parse_size(budget.get("ram", 0)), flash_budget=parse_size(budget.get("flash", 0)),
            stack_bytes=parse_size(budget.get("stack", 0)),
            reserved_ram=parse_size(budget.get("reserved_ram", 0)),
            reserved_flash=parse_size(budget.get("reserved_flash", 0)),
            const_in_ram=bool(budget.get("const_in_ram", False)),
            platformio=dict(data.get("platformio", {})),
            upload_method=upload.get("method", ""), baud=int(upload.get("baud", 115200)),
            usb_ids=tuple(upload.get("usb_ids", [])),
            timer=data.get("timer", ""), cflags=tuple(data.get("cflags", [])),
            kernel_variant=data.get("kernel_variant", "generic"),
            emulator=Emulator(**{**emu, "args": tuple(emu.get("args", [])),
                                 "defines": tuple(emu.get("defines", []))}) if emu else None,
            toolchain=Toolchain(**{**tc, "cflags": tuple(tc.get("cflags", []))}) if tc else None,
            stand_in=data.get("stand_in", ""), notes=data.get("notes", ""), path=path)
    except (TypeError, ValueError) as exc:
        raise TinyDeployError(f"board profile {path.name}: {exc}", "fix the TOML file") from exc
    if prof.kind not in KINDS:
        raise TinyDeployError(f"board profile {path.name}: kind must be one of {', '.join(KINDS)}")
    bad = [r.kind for r in prof.memory if r.kind not in REGION_KINDS]
    if bad:
        raise TinyDeployError(f"board profile {path.name}: memory kind {bad[0]!r} must be one of "
                              f"{', '.join(REGION_KINDS)}")
    if prof.kernel_variant not in KERNEL_VARIANTS:
        raise TinyDeployError(f"board profile {path.name}: kernel_variant must be one of "
                              f"{', '.join(KERNEL_VARIANTS)}")
    if path.stem != prof.id:
        raise TinyDeployError(f"board profile {path.name}: id {prof.id!r} must match the file name")
    return prof


def _dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("TINYDEPLOY_BOARDS_PATH", "").split(os.pathsep) if p]
    return extra + [PROFILES_DIR]


@functools.lru_cache(maxsize=None)
def _all(dirs: tuple[Path, ...]) -> dict[str, BoardProfile]:
    boards: dict[str, BoardProfile] = {}
    for d in dirs:
        for p in sorted(d.glob("*.toml")):
            if p.stem in boards:      # earlier dirs (TINYDEPLOY_BOARDS_PATH) win
                continue
            try:
                data = tomllib.loads(p.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise TinyDeployError(f"board profile {p}: {exc}", "fix the TOML syntax") from exc
            boards[p.stem] = _profile_from_toml(data, p)
    return boards


def list_boards() -> list[BoardProfile]:
    """Every profile: real boards first, then emulated, then host; by id within a kind."""
    return sorted(_all(tuple(_dirs())).values(), key=lambda b: (KINDS.index(b.kind), b.id))


def _index() -> dict[str, BoardProfile]:
    idx: dict[str, BoardProfile] = {}
    for b in list_boards():
        for name in (b.id, *b.aliases):
            idx.setdefault(name.lower(), b)
    return idx


def load_board(id_or_alias: str | BoardProfile) -> BoardProfile:
    """Profile by id or alias (case-insensitive); unknown names suggest the closest ones."""
    if isinstance(id_or_alias, BoardProfile):
        return id_or_alias
    idx = _index()
    key = id_or_alias.strip().lower()
    if key in idx:
        return idx[key]
    close = difflib.get_close_matches(key, list(idx), n=3, cutoff=0.5)
    ids = sorted({b.id for b in idx.values()})
    hint = (f"did you mean {', '.join(close)}?" if close else f"known boards: {', '.join(ids)}") + \
        " (`tinydeploy boards` lists them all)"
    raise TinyDeployError(f"unknown board {id_or_alias!r}", hint)


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
