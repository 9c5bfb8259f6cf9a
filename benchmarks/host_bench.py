#!/usr/bin/env python3
"""Host benchmark: our generated C vs TFLite Micro (tflite-micro pip), measured in the same run.

Prints per model: host invoke time (ours, TFLM, ratio), flash = weights + code for Cortex-M4
(arm-none-eabi-gcc -Os, text+data of the model and the kernels it links), arena bytes vs TFLM.
Both times are measured the same way: the mean wall time of one invoke() called from Python (ours: the
generated C built as a shared library (-O2), called through ctypes; TFLM: its pybind interpreter), on the
same 4 random inputs, one warm-up invoke then --repeat timed invokes per input. Each side's per-call overhead
(~1 µs) is included, so tiny models compare mostly call overhead.
Exits non-zero when a model fails (its error is printed) or TFLM's baseline cannot be measured.
Usage: benchmarks/host_bench.py [MODEL.tflite ...] [--repeat N]
"""
from __future__ import annotations

import argparse
import ctypes
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_report import exit_code, model_table, reported
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile.compiler import RUNTIME_DIR, compile_graph  # noqa: E402
from tinydeploy.compile.tflite.reader import load_model  # noqa: E402
from tinydeploy.errors import TinyDeployError  # noqa: E402
from tinydeploy.evaluate.tflm import tflm_measure  # noqa: E402
from tinydeploy.target.host import host_compiler  # noqa: E402
from tinydeploy.testing.opcheck import random_inputs  # noqa: E402

DEFAULT_MODELS = sorted((ROOT / "tests" / "data" / "models").glob("*.tflite")) + \
    sorted((ROOT / "models").glob("*.tflite"))
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Os", "-ffunction-sections",
      "-fdata-sections"]
SAMPLES = 4


def _sources(m, t: Path) -> list[str]:
    (t / f"{m.prefix}.h").write_text(m.header)
    (t / f"{m.prefix}.c").write_text(m.source)
    return [str(t / f"{m.prefix}.c")] + [str(p) for p in sorted(RUNTIME_DIR.glob("*.c"))]


def _run(cmd: list[str], what: str) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise TinyDeployError(f"{what} failed: {(r.stdout + r.stderr).strip()[-1500:]}")
    return r.stdout


def m4_flash_bytes(m) -> int | None:
    """text+data of the model + runtime, linked with --gc-sections so only used kernels count (None: no
    arm-none-eabi-gcc)."""
    if not shutil.which("arm-none-eabi-gcc"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "main.c").write_text(f'#include "{m.prefix}.h"\nint main(void) {{ return {m.prefix}_invoke(); }}\n'
                                  "void _exit(int c) { (void)c; for (;;) {} }\n")
        _run(["arm-none-eabi-gcc", *M4, f"-I{t}", f"-I{RUNTIME_DIR}", f"-D{m.prefix.upper()}_NO_STATIC_ARENA",
              "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-o", str(t / "fw.elf"),
              *_sources(m, t), str(t / "main.c"), "-lm"], "the Cortex-M4 build")
        text, data = _run(["arm-none-eabi-size", str(t / "fw.elf")], "arm-none-eabi-size").splitlines()[1].split()[:2]
        return int(text) + int(data)


def time_ours(m, xs: list[np.ndarray], repeat: int) -> float:
    """Mean seconds of one <prefix>_invoke() called from Python (ctypes), timed like tflm_measure times TFLM."""
    g = m.graph
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _run([host_compiler(), "-O2", "-shared", "-fPIC", f"-I{t}", f"-I{RUNTIME_DIR}", *_sources(m, t),
              "-o", str(t / "libmodel.so"), "-lm"], "the shared-library build")
        lib = ctypes.CDLL(str(t / "libmodel.so"))
    invoke, reset = getattr(lib, f"{m.prefix}_invoke"), getattr(lib, f"{m.prefix}_reset")
    invoke.argtypes, invoke.restype, reset.argtypes, reset.restype = [], ctypes.c_int, [], None
    arena = ctypes.c_void_p.in_dll(lib, f"{m.prefix}_arena").value
    total = 0.0
    for s in range(len(xs[0])):
        reset()
        for x, tid in zip(xs, g.inputs):
            data = np.ascontiguousarray(x[s]).tobytes()
            ctypes.memmove(arena + m.tensor_offsets[tid], data, len(data))
        invoke()
        t0 = time.perf_counter()
        for _ in range(repeat):
            invoke()
        total += time.perf_counter() - t0
    return total / (len(xs[0]) * repeat)


def bench(path: Path, repeat: int) -> list[str]:
    """One table row; raises on any failure (no row with a made-up number)."""
    g = load_model(path)
    m = compile_graph(g, source_name=path.name)
    xs = random_inputs(g, SAMPLES, np.random.default_rng(0))
    ours = time_ours(m, xs, repeat)
    base = tflm_measure(path, repeat=repeat, inputs=xs)
    head, flash = base["arena_head_bytes"], m4_flash_bytes(m)
    return [path.name, f"{ours * 1e6:,.2f}", f"{base['seconds'] * 1e6:,.2f}", f"{base['seconds'] / ours:.2f}x",
            f"{m.weights_bytes:,}", "n/a (no arm-none-eabi-gcc)" if flash is None else f"{flash:,}",
            f"{m.arena_bytes:,}", f"{head:,}", f"{m.arena_bytes / head:.2f}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    table = model_table(f"tinydeploy vs TFLM (host, same run): µs per invoke() called from Python, same "
                        f"{SAMPLES} random inputs, {args.repeat} timed invokes each",
                        ("model", "ours µs", "TFLM µs", "speed-up", "weights B", "M4 flash B", "arena B",
                         "TFLM arena head B", "arena ratio"))
    failed = []
    for path in args.models or DEFAULT_MODELS:
        with reported(failed, path.name, table):
            table.add_row(*bench(path, args.repeat))
    Console(width=160).print(table)
    return exit_code(failed)


if __name__ == "__main__":
    sys.exit(main())
