#!/usr/bin/env python3
"""Host benchmark: our generated C vs TFLite Micro (tflite-micro pip), measured in the same run.

Prints per model: host invoke time (ours, TFLM, ratio), flash = weights + code for Cortex-M4
(arm-none-eabi-gcc -Os, text+data of the model and the kernels it links), arena bytes vs TFLM.
TFLM's time is measured from Python (one call per invoke), so tiny models show mostly call overhead.
Usage: benchmarks/host_bench.py [MODEL.tflite ...] [--repeat N]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compiler import RUNTIME_DIR, compile_graph  # noqa: E402
from tinydeploy.host import build_host  # noqa: E402
from tinydeploy.testing.opcheck import random_inputs  # noqa: E402
from tinydeploy.tflite.reader import load_model  # noqa: E402
from tinydeploy.tflm import tflm_measure  # noqa: E402

DEFAULT_MODELS = sorted((ROOT / "tests" / "data" / "models").glob("*.tflite")) + \
    sorted((ROOT / "models").glob("*.tflite"))
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-ffunction-sections",
      "-fdata-sections"]


def m4_flash_bytes(m) -> int:
    """text+data of the model + runtime, linked with --gc-sections so only used kernels count."""
    if not shutil.which("arm-none-eabi-gcc"):
        return -1
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / f"{m.prefix}.h").write_text(m.header)
        (t / f"{m.prefix}.c").write_text(m.source)
        (t / "main.c").write_text(f'#include "{m.prefix}.h"\nint main(void) {{ return {m.prefix}_invoke(); }}\n'
                                  "void _exit(int c) { (void)c; for (;;) {} }\n")
        srcs = [str(t / f"{m.prefix}.c"), str(t / "main.c")] + [str(p) for p in RUNTIME_DIR.glob("*.c")]
        cmd = ["arm-none-eabi-gcc", *M4, f"-I{t}", f"-I{RUNTIME_DIR}", f"-D{m.prefix.upper()}_NO_STATIC_ARENA",
               "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(t / "fw.elf"), *srcs,
               "-lm"]
        if subprocess.run(cmd, capture_output=True, text=True).returncode:
            return -1
        out = subprocess.run(["arm-none-eabi-size", str(t / "fw.elf")], capture_output=True, text=True).stdout
        text, data = out.splitlines()[1].split()[:2]
        return int(text) + int(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    table = Table(title="tinydeploy vs TFLM (host, same run)")
    for col in ("model", "ours µs", "TFLM µs", "speed-up", "weights B", "M4 flash B", "arena B",
                "TFLM arena head B", "arena ratio"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for path in args.models or DEFAULT_MODELS:
        g = load_model(path)
        try:
            m = compile_graph(g, source_name=path.name)
        except Exception as exc:  # report and go on with the other models
            table.add_row(path.name, "[red]unsupported[/]", *[""] * 7)
            print(f"{path.name}: {exc}", file=sys.stderr)
            continue
        xs = random_inputs(g, 4, np.random.default_rng(0))
        ours = build_host([m]).time_invoke(0, xs, args.repeat)
        base = tflm_measure(path, repeat=args.repeat)
        head = base["arena_head_bytes"]
        table.add_row(path.name, f"{ours * 1e6:,.1f}", f"{base['seconds'] * 1e6:,.1f}",
                      f"{base['seconds'] / ours:.2f}x" if ours else "-", f"{m.weights_bytes:,}",
                      f"{m4_flash_bytes(m):,}", f"{m.arena_bytes:,}", f"{head:,}",
                      f"{m.arena_bytes / head:.2f}" if head > 0 else "-")
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
