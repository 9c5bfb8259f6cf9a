"""`tinydeploy boards`: list the board profiles (board_profiles/*.toml)."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ..target import list_boards, load_board
from . import app, console


def _kb(n: int) -> str:
    return "-" if not n else (f"{n // 1024} KB" if n % 1024 == 0 else f"{n / 1024:.1f} KB")


@app.command()
def boards(board: str = typer.Argument(None, help="Show one board in detail (id or alias)."),
           kind: str = typer.Option(None, "--kind", help="Only real, emulated or host boards.")) -> None:
    """List the supported boards (or show one): memory budget, PlatformIO board, emulator."""
    if board:
        _show(board)
        return
    t = Table(title="tinydeploy boards (`tinydeploy boards ID` for details)", show_lines=False)
    for col in ("id", "kind", "core", "MHz", "RAM", "flash", "PlatformIO board", "aliases"):
        t.add_column(col, no_wrap=col != "aliases")
    for b in list_boards():
        if kind and b.kind != kind:
            continue
        pio = b.platformio.get("board", "-")
        t.add_row(b.id, b.kind, b.core, str(b.clock_hz // 1_000_000) if b.clock_hz else "-",
                  _kb(b.ram_budget), _kb(b.flash_budget), pio, ", ".join(b.aliases[:2]))
    # Pipes get 80 columns by default: widen so the table stays readable in logs.
    out = console if console.is_terminal else Console(width=max(console.width, 120))
    out.print(t)


def _show(name: str) -> None:
    b = load_board(name)
    t = Table(title=f"{b.id}: {b.name}", show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value")
    rows = [("kind", b.kind), ("aliases", ", ".join(b.aliases)), ("mcu / core", f"{b.mcu} / {b.core}"),
            ("clock", f"{b.clock_hz:,} Hz"),
            ("budget", f"RAM {_kb(b.ram_budget)} (stack {b.stack_bytes} B, reserved {b.reserved_ram} B), "
                       f"flash {_kb(b.flash_budget)} (reserved {b.reserved_flash} B)")]
    rows += [(f"memory: {r.name}", f"{r.kind} {_kb(r.size)}" + (f" @0x{r.origin:08X}" if r.origin is not None else "")
              + (f"  ({r.note})" if r.note else "")) for r in b.memory]
    rows += [("platformio", ", ".join(f"{k} = {v}" for k, v in b.pio_env.items()) or "-"),
             ("upload", f"{b.upload_method or '-'}, {b.baud} baud, USB {', '.join(b.usb_ids) or '-'}"),
             ("timer", b.timer), ("cflags", " ".join(b.cflags)), ("kernel variant", b.kernel_variant)]
    if b.emulator:
        e = b.emulator
        rows.append(("emulator", " ".join(x for x in (e.kind, e.binary, e.machine, e.cpu) if x)))
    if b.toolchain:
        rows.append(("toolchain", f"{b.toolchain.cc} {' '.join(b.toolchain.cflags)} (apt: {b.toolchain.apt})"))
    if b.stand_in:
        rows.append(("stand-in", b.stand_in))
    if b.notes:
        rows.append(("notes", b.notes))
    for k, v in rows:
        t.add_row(k, str(v))
    console.print(t)
