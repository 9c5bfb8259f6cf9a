"""`make demo` (python -m tinydeploy.demo): the digits CNN on an emulated Cortex-M4, watched live.

Flashes models/digits_cnn_int8.tflite to qemu-m4 (PlatformIO build, reused when unchanged; "upload"
starts QEMU with the UART on a pty), streams the 360 test images of models/digits_test.npz through the
monitor, then prints the on-device accuracy next to LiteRT's on the host and the bit-exact agreement,
stops the emulator and exits.

    python -m tinydeploy.demo [COUNT] [--count N] [--project DIR]

COUNT / --count: only the first N test images; --project: the PlatformIO project folder
(default build/demo/digits_cnn_int8-qemu-m4).
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from .paths import ROOT

MODEL = ROOT / "models" / "digits_cnn_int8.tflite"
DATA = ROOT / "models" / "digits_test.npz"
BOARD = "qemu-m4"
PROJECT = ROOT / "build" / "demo" / f"digits_cnn_int8-{BOARD}"


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tinydeploy.demo", description=__doc__.splitlines()[0])
    ap.add_argument("count_pos", nargs="?", type=int, metavar="COUNT", help="only the first COUNT test images")
    ap.add_argument("--count", type=int, help="only the first N test images (same as COUNT)")
    ap.add_argument("--project", type=Path, default=PROJECT, help="PlatformIO project folder")
    args = ap.parse_args(argv)
    if args.count is not None and args.count_pos is not None and args.count != args.count_pos:
        ap.error("give the count once: COUNT or --count N")
    args.count = args.count if args.count is not None else args.count_pos
    if args.count is not None and args.count < 1:
        ap.error("the count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    from rich.console import Console

    from .errors import TinyDeployError
    from .evaluate import run_monitor, time_text
    from .link import flash, open_session, stop_emulator

    args = parse_args(sys.argv[1:] if argv is None else argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):  # closing the terminal still stops the emulator
        signal.signal(sig, _interrupted)
    console = Console()
    count, project = args.count, args.project
    t0 = time.monotonic()
    try:
        data = np.load(DATA)
        xs, ys = [data["x_int8"]], data["y"]
        if count:
            xs, ys = [xs[0][:count]], ys[:count]
        console.print(f"[bold]tinydeploy demo[/]: {MODEL.name} ({MODEL.stat().st_size:,} B) on {BOARD}, "
                      f"{len(ys)} test images from {DATA.name}", highlight=False, soft_wrap=True)
        res = flash(MODEL, BOARD, project_dir=project,
                    log=lambda m: console.print(f"[dim]{m}[/]", highlight=False))
        for s in res.steps:
            console.print(f"[dim]  {s}[/]", highlight=False, soft_wrap=True)
        console.print(f"flashed in {time.monotonic() - t0:.1f} s; the board's serial port: {res.url}",
                      highlight=False)
        try:
            with open_session(MODEL, port=res.url, compiled=res.model) as s:
                mode = "live" if console.is_terminal else "plain"
                st = run_monitor(s, xs, ys, count=len(ys), mode=mode, console=console,
                                 emit=lambda line: console.print(line, highlight=False), plain_every=60)
        finally:
            stop_emulator(project)
        summ = st.summary()
        acc, be, lat = summ["accuracy"], summ["bit_exact"], summ["latency"]
        same = acc["device"] == acc["host"]
        console.print(f"on-device accuracy [bold]{acc['device']:.2%}[/] ({st.correct}/{st.labelled}), host "
                      f"LiteRT accuracy [bold]{acc['host']:.2%}[/] ({st.host_correct}/{st.labelled})"
                      f" -> {'[green]equal[/]' if same else '[red]DIFFERENT[/]'}", highlight=False, soft_wrap=True)
        console.print(f"bit-exact with LiteRT BUILTIN_REF: {be['agree']}/{be['checked']} samples; "
                      f"{lat['mean']:,.0f} {summ['unit']} per inference, "
                      f"{time_text(lat['mean'], summ['clock_hz'], summ['unit'])}; "
                      f"arena {summ['arena_bytes']:,} B + stack "
                      f"{summ['stack_peak_bytes']:,} B of {summ['board_ram_bytes']:,} B SRAM", highlight=False, soft_wrap=True)
        console.print(f"demo done in {time.monotonic() - t0:.1f} s", highlight=False, soft_wrap=True)
        return 0 if same and be["agree"] == be["checked"] else 1
    except TinyDeployError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        if exc.hint:
            console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
