"""`tinydeploy bench`: instructions (AVR: cycles) per inference on an emulated board, per layer, with sizes.

    r = run_bench("m.tflite", "qemu-m4")        # BenchResult: count, method, layers, sizes
    r.as_dict()                               # the --json report

Totals come from the protocol firmware that `eval` runs (no instrumentation), counted by the QEMU
plugin (bench_plugin.py: exact) or, where it cannot load, by the firmware's own counter (SysTick x40
under -icount, rdinstret, Timer1). The per-layer breakdown comes from a second build of the same
firmware whose invoke calls a marker function before every op and at the end (bench_layers.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..compile import VARIANT_CHAIN, CompiledModel, compile_graph, load_model, op_rows
from ..errors import TinyDeployError
from ..target import BoardProfile, arch_of, board_options, ensure_firmware, family_of, load_board
from .bench_layers import Layer, elf_symbols, layer_rows, layer_source, mark_symbol, sizes_from_elf
from .bench_plugin import plugin_args, read_counts
from .timing import count_us, is_estimate, time_text

PLUGIN_METHOD = "exact (TCG plugin)"
# without the plugin: the firmware's own counter (the one eval reports)
COUNTER_METHOD = {"arm": "SysTick x40 under -icount (40-instruction steps; x31.25 on mps3-an547)",
                  "riscv": "rdinstret (the firmware's counter: exact, plus its own reading)",
                  "avr": "Timer1 clk/1 cycles (cycle-exact in simavr)",
                  "xtensa": "CCOUNT x25 under -icount (25-instruction steps)"}
BENCH_BOARDS = "qemu-m4, qemu-m7, qemu-m55, qemu-rv32, qemu-xtensa or simavr-mega"
#: boards without a protocol firmware (qemu-xtensa's sim machine has no UART): the inputs are baked into
#: a firmware that runs them and prints the outputs (evaluate/baked.py); counted by the plugin only
BAKED = ("xtensa",)


@dataclass
class BenchResult:
    model: str
    board: BoardProfile
    kernels: str
    unit: str                      # instructions | cycles
    method: str                    # how `count` was measured
    count: int                     # per inference: the mean over the samples (counts may depend on the data)
    counts: list[int]              # each sample's
    firmware_counts: list[int]     # the same invokes by the firmware's own counter (SysTick x40, rdinstret, Timer1)
    macs: int
    bit_exact: bool
    code_bytes: int
    weights_bytes: int             # every constant array of the model in the ELF (weights, biases, requant tables)
    ram_bytes: int                 # .data + .bss (the arena is one of them)
    arena_bytes: int
    stack_peak_bytes: int | None   # None: not measured (a baked firmware has no protocol to ask)
    counter: str = ""              # what firmware_counts are
    model_weights_bytes: int = 0   # the .tflite's own weights and biases (CompiledModel.weights_bytes)
    tables_bytes: int = 0          # of weights_bytes: requantization tables, shapes (no weight or bias)
    layers: list[Layer] = field(default_factory=list)
    layers_method: str = ""
    reference: BenchResult | None = None   # --compare: the same model with the reference kernels
    fallbacks: list[BenchResult] = field(default_factory=list)  # --compare: the variants this one falls back
    #                                                             to (arm-mve: arm-dsp), on the same board

    @property
    def mean_us(self) -> float | None:
        return count_us(self.count, self.unit, self.board.clock_hz)

    @property
    def time(self) -> str:
        return time_text(self.count, self.board, self.unit)

    @property
    def overhead(self) -> int:
        """Sample 0's count (the per-layer run's input) minus the sum of its layers: the invoke's own
        prologue and epilogue, less the marker calls the layers include (a few instructions each)."""
        return self.counts[0] - sum(x.count for x in self.layers) if self.layers else 0

    def as_dict(self) -> dict:
        d = {"model": self.model, "board": self.board.id, "kernels": self.kernels, "unit": self.unit,
             "method": self.method, "instructions" if self.unit == "instructions" else "cycles": self.count,
             "counts": self.counts, "firmware_counts": self.firmware_counts, "firmware_counter": self.counter,
             "macs": self.macs,
             "macs_per_" + ("instruction" if self.unit == "instructions" else "cycle"):
                 round(self.macs / self.count, 4) if self.count else None,
             "bit_exact": self.bit_exact, "code_bytes": self.code_bytes, "weights_bytes": self.weights_bytes,
             "tables_bytes": self.tables_bytes, "model_weights_bytes": self.model_weights_bytes,
             "ram_bytes": self.ram_bytes, "arena_bytes": self.arena_bytes, "stack_peak_bytes": self.stack_peak_bytes,
             "mean_us": round(self.mean_us, 3) if self.mean_us is not None else None,
             "clock_hz": self.board.clock_hz,
             "time_note": "estimate: 1 instruction per cycle" if is_estimate(self.unit) else "cycles at the clock",
             "layers": [x.as_dict(sum(y.count for y in self.layers), self.unit) for x in self.layers],
             "layers_method": self.layers_method,
             "layers_overhead": self.overhead}
        if self.unit == "cycles":
            d["instructions"] = None  # AVR: simavr counts cycles, not instructions
        if self.reference is not None:
            d["reference"] = self.reference.as_dict()
            d["ratio_to_reference"] = round(self.count / self.reference.count, 4) if self.reference.count else None
        for other in self.fallbacks:
            d[other.kernels] = other.as_dict()
            d[f"ratio_to_{other.kernels}"] = round(self.count / other.count, 4) if other.count else None
        return d


def _check_board(b: BoardProfile) -> str:
    if not b.emulated or b.emulator is None or b.emulator.kind not in ("qemu", "simavr"):
        raise TinyDeployError(f"{b.id} has no emulator: bench counts instructions on emulated boards only",
                              f"use --board {BENCH_BOARDS} (a real board: tinydeploy eval reports its latency)")
    fam = arch_of(b) if arch_of(b) in BAKED else family_of(b)
    if fam not in ("arm", "riscv", "avr", *BAKED):
        raise TinyDeployError(f"{b.id}: no protocol firmware to bench on", f"use --board {BENCH_BOARDS}")
    return fam


def _inputs(m: CompiledModel, n: int) -> list[np.ndarray]:
    from .data import random_inputs

    return random_inputs(m.graph, n, np.random.default_rng(0))


def _marker(syms: dict[str, tuple[int, int]], m: CompiledModel) -> tuple[int, int]:
    """[start, end) of the per-layer marker function in the firmware."""
    addr, size = syms[mark_symbol(m)]
    return addr, addr + max(size, 1)


def _run(model_path: Path, b: BoardProfile, m: CompiledModel, pdir: Path, xs: list[np.ndarray],
         plugin: bool, mark: bool, log: Callable[[str], None]) -> tuple[list[int], list[int], list[int],
                                                                       list[list[bytes]], int]:
    """Build (or reuse) the firmware and run every sample: (counts per invoke: the plugin's, else the
    firmware's own; the firmware's own; marker counts; outputs; stack peak)."""
    from contextlib import nullcontext

    from ..link import open_session
    from .bench_avr import AvrMarks

    proj = ensure_firmware(model_path, b, pdir, compiled=m)
    log(f"firmware {'reused' if proj.reused else 'built'}: {proj.elf}")
    counts_file = pdir / "bench-counts.txt"
    counts_file.unlink(missing_ok=True)
    syms = elf_symbols(proj.elf, b)
    marker = _marker(syms, m) if mark else None
    extra: list[str] = []
    runner = nullcontext(None)
    if plugin:
        extra = plugin_args(counts_file, syms[f"{m.prefix}_invoke"][0], marker)
    elif marker and b.emulator.kind == "simavr":
        runner = AvrMarks(proj.elf, b, counts_file, marker)
    rows, protocol = [], []
    with runner as port, open_session(model_path, b.id, port=port, compiled=m, project_dir=pdir,
                                      emulator_args=extra or None, emulator_log=pdir / "bench-emulator.log") as s:
        for i in range(xs[0].shape[0]):
            r = s.client.run([np.ascontiguousarray(x[i]).tobytes() for x in xs])
            rows.append(r.outputs)
            protocol.append(r.count)
        stack = s.client.stats().stack_peak_bytes
    invokes, marks = read_counts(counts_file)
    if plugin and len(invokes) != len(rows):
        raise TinyDeployError(f"the QEMU counting plugin saw {len(invokes)} invokes for {len(rows)} samples",
                              f"see {counts_file} and {pdir / 'bench-emulator.log'}")
    return (invokes if plugin else protocol), protocol, marks, rows, stack


def _run_baked(model_path: Path, b: BoardProfile, m: CompiledModel, pdir: Path, xs: list[np.ndarray],
               plugin: bool, mark: bool, log: Callable[[str], None]) -> tuple[list[int], list[int], list[int],
                                                                              list[list[bytes]], None]:
    """_run for boards without a serial link: the samples baked into the firmware, counted by the plugin
    (the stack peak is not measured: None)."""
    import shutil

    from .baked import build_firmware, run_firmware

    shutil.rmtree(pdir, ignore_errors=True)
    elf = build_firmware([m], [xs], b.id, pdir)
    log(f"firmware built: {elf}")
    syms = elf_symbols(elf, b)
    marker = _marker(syms, m) if mark else None
    counts_file = pdir / "bench-counts.txt"
    (run,) = run_firmware(elf, [m], [xs], b.id, emulator_args=plugin_args(counts_file, syms[f"{m.prefix}_invoke"][0],
                                                                          marker))
    invokes, marks = read_counts(counts_file)
    n = xs[0].shape[0]
    if len(invokes) != n:
        raise TinyDeployError(f"the QEMU counting plugin saw {len(invokes)} invokes for {n} samples",
                              f"see {counts_file}")
    rows = [[o[i].tobytes() for o in run.outputs] for i in range(n)]
    scale = b.emulator.count_scale if b.emulator else 1
    return invokes, [c * scale for c in run.counts], marks, rows, None


def _plugin_works(b: BoardProfile) -> bool:
    if b.emulator.kind != "qemu":
        return False
    try:
        from .bench_plugin import plugin_library

        plugin_library()
        return True
    except TinyDeployError:
        return False


def run_bench(model_path: str | Path, board: str | BoardProfile, kernels: str = "auto", layers: bool = True,
              samples: int = 2, work_dir: str | Path | None = None, compare: bool = False, counter: str = "auto",
              log: Callable[[str], None] = lambda s: None) -> BenchResult:
    """Count one inference of the model on the emulated board (see the module doc); `compare` also
    benches the reference kernels (BenchResult.reference). counter: auto (the QEMU plugin where it
    loads), plugin (it or an error), firmware (the firmware's own counter)."""
    if counter not in ("auto", "plugin", "firmware"):
        raise TinyDeployError(f"unknown --counter {counter!r}", "use auto, plugin or firmware")
    b = load_board(board)
    fam = _check_board(b)
    plugin = counter != "firmware" and _plugin_works(b)
    if fam in BAKED and not plugin:
        raise TinyDeployError(f"{b.id} has no serial link: bench counts it only with the QEMU counting plugin",
                              "install the host gcc (the plugin is built with it) and use --counter auto")
    if counter == "plugin" and not plugin:
        raise TinyDeployError(f"the QEMU counting plugin cannot run for {b.id}",
                              "it needs a QEMU board and the host gcc; use --counter firmware")
    model_path = Path(model_path)
    if not model_path.is_file():
        raise TinyDeployError(f"model {model_path} not found", "give the path of a .tflite file")
    options = board_options(b, None, kernels)
    g = load_model(model_path)
    m = compile_graph(g, options=options, source_name=model_path.name)
    if work_dir is None:
        from ..paths import cache_dir

        work_dir = cache_dir() / "bench"
    work = Path(work_dir)
    result = _bench_one(model_path, b, fam, m, work, layers, samples, plugin, log)
    if compare and m.options.kernels != "reference":
        def bench_with(kernels: str) -> BenchResult:
            other = compile_graph(g, options=replace(options, kernels=kernels), source_name=model_path.name)
            return _bench_one(model_path, b, fam, other, work, layers, samples, plugin, log)

        result.fallbacks = [bench_with(k) for k in VARIANT_CHAIN[m.options.kernels][1:]]
        result.reference = bench_with("reference")
    return result


def _bench_one(model_path: Path, b: BoardProfile, fam: str, m: CompiledModel, work: Path, layers: bool,
               samples: int, plugin: bool, log: Callable[[str], None]) -> BenchResult:
    from .reference import reference_outputs

    base = work / f"{model_path.stem}-{b.id}-{m.options.kernels}"
    xs = _inputs(m, samples)
    run = _run_baked if fam in BAKED else _run
    counts, own, _, rows, stack = run(model_path, b, m, base, xs, plugin, False, log)
    from .data import output_arrays

    outs = output_arrays(m.graph, rows)
    expected = reference_outputs(model_path, xs)
    exact = all(o.tobytes() == e.astype(o.dtype).tobytes() for o, e in zip(outs, expected))
    if not exact:
        raise TinyDeployError(f"{b.id}: the {m.options.kernels} firmware's outputs differ from LiteRT BUILTIN_REF",
                              "a kernel bug: run `tinydeploy eval` with --kernels reference to compare")
    method = PLUGIN_METHOD if plugin else COUNTER_METHOD[fam]
    unit = "cycles" if fam == "avr" else "instructions"
    code, weights, ram, tables = sizes_from_elf(base / ".pio" / "build" / b.id / "firmware.elf", b, m)
    res = BenchResult(model_path.name, b, m.options.kernels, unit, method, round(sum(counts) / len(counts)), counts,
                      own, sum(r.macs for r in op_rows(m.graph)), exact, code, weights, ram, m.arena_bytes, stack,
                      counter=COUNTER_METHOD[fam], model_weights_bytes=m.weights_bytes, tables_bytes=tables)
    if layers and (plugin or b.emulator.kind == "simavr"):
        inst = replace(m, source=layer_source(m))
        _, _, marks, _, _ = run(model_path, b, inst, work / f"{base.name}-layers", [x[:1] for x in xs], plugin,
                                True, log)
        res.layers = layer_rows(m, marks)
        res.layers_method = "a marker call before each op, separate build; " + \
            ("TCG plugin" if plugin else "simavr cycle watch")
    elif layers:
        res.layers_method = f"not available on {b.id} without the QEMU counting plugin"
    return res
