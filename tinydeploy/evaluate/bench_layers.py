"""Per-layer builds and ELF facts for `tinydeploy bench`.

layer_source(m): the model's C with a marker call before every op of the invoke and one at its end
(`<prefix>_bench_mark(op)`, noinline); the normal C is never changed, only this copy for a separate build.
The QEMU plugin reports the running count at each marker; layer i is the difference of two markers.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..compile import CompiledModel, op_rows
from ..errors import TinyDeployError
from ..target import BoardProfile, arch_of

_OP_LINE = re.compile(r"^  /\* op (\d+): (\w+)")
_CALL = re.compile(r"^\s+(td_\w+)\(")  # a statement that calls a kernel (not TD_CHECK_SCRATCH's size call)
_CONST_ARRAY = re.compile(r"static const (?:TD_WEIGHTS_MEM )?\w+ (\w+)\[\d+\] TD_CONST_ALIGN")
# sections that are neither code nor RAM: debug info, attributes, the reserved stack
_SKIP = (".debug", ".comment", ".ARM.attributes", ".riscv.attributes", ".stack", ".heap", ".note", ".stab",
         ".mmcu", ".noinit_stack")
_RAM = (".data", ".sdata", ".tdata", ".bss", ".sbss", ".tbss", ".noinit")
_INIT_IMAGE = (".data", ".sdata", ".tdata")   # their initial values sit in flash too


@dataclass
class Layer:
    index: int       # the op's index in the compiled graph
    kind: str        # CONV_2D, ...
    kernel: str      # the C function it calls (…_arm_dsp: an optimized variant)
    macs: int
    count: int       # instructions (AVR: cycles)

    def as_dict(self, total: int, unit: str = "instructions") -> dict:
        """`total`: the sum over the layers (share); unit: instructions or cycles (the keys' names)."""
        return {"op": self.index, "kind": self.kind, "kernel": self.kernel, "macs": self.macs, unit: self.count,
                f"macs_per_{unit[:-1]}": round(self.macs / self.count, 4) if self.count else None,
                "share": round(self.count / total, 4) if total else None}


def mark_symbol(m: CompiledModel) -> str:
    return f"{m.prefix}_bench_mark"


def _invoke_span(m: CompiledModel) -> tuple[int, int]:
    head = f"int {m.prefix}_invoke(void) {{"
    start = m.source.find(head)
    end = m.source.find("\n}\n", start)
    if start < 0 or end < 0:
        raise TinyDeployError(f"per-layer build: no {m.prefix}_invoke() in the generated C",
                              "this is a tinydeploy bug; run bench with --no-layers")
    return start, end


def layer_source(m: CompiledModel) -> str:
    """The model's C with `<prefix>_bench_mark(op)` before each op of the invoke and (-1) at its end."""
    sym = mark_symbol(m)
    start, end = _invoke_span(m)
    lines, marks = [], 0
    for line in m.source[start:end].split("\n"):
        op = _OP_LINE.match(line)
        if op:
            lines.append(f"  {sym}({op[1]});")
            marks += 1
        if line == "  (void)arena;":
            lines.append(f"  {sym}(-1);")
        lines.append(line)
    if marks != len(m.graph.ops):
        raise TinyDeployError(f"per-layer build: found {marks} of {len(m.graph.ops)} ops at the top of the invoke",
                              "patch-based models nest ops in loops; run bench with --no-layers")
    marker = (f"/* tinydeploy bench: the per-layer marker (only in this instrumented copy) */\n"
              f"__attribute__((noinline, used)) void {sym}(int32_t op) {{\n"
              f"  __asm__ volatile(\"\" : : \"r\"(op) : \"memory\");\n}}\n\n")
    return m.source[:start] + marker + "\n".join(lines) + m.source[end:]


def _kernels(m: CompiledModel) -> dict[int, str]:
    """Op index -> the first td_* function its block of the invoke calls."""
    start, end = _invoke_span(m)
    found: dict[int, str] = {}
    current = None
    for line in m.source[start:end].split("\n"):
        op = _OP_LINE.match(line)
        if op:
            current = int(op[1])
            continue
        call = _CALL.match(line)
        if current is not None and call and current not in found:
            found[current] = call[1]
    return found


def layer_rows(m: CompiledModel, marks: list[int]) -> list[Layer]:
    """Layers from one invoke's marker counts (one before each op, one at the end)."""
    order = [int(x[1]) for x in map(_OP_LINE.match, m.source[slice(*_invoke_span(m))].split("\n")) if x]
    if len(marks) < len(order) + 1:
        raise TinyDeployError(f"per-layer run: {len(marks)} marker counts for {len(order)} ops",
                              "the instrumented firmware did not run the whole invoke")
    marks = marks[:len(order) + 1]
    rows = {r.index: r for r in op_rows(m.graph)}
    kernels = _kernels(m)
    return [Layer(i, rows[i].kind, kernels.get(i, "-"), rows[i].macs, marks[k + 1] - marks[k])
            for k, i in enumerate(order)]


def _tool(b: BoardProfile, name: str) -> str:
    cc = b.toolchain.cc if b.toolchain else ""
    tool = cc[:-3] + name if cc.endswith("gcc") else name
    if not shutil.which(tool):
        raise TinyDeployError(f"{tool} not found (reads the firmware's sizes and symbols)",
                              f"apt-get install {b.toolchain.apt if b.toolchain else 'binutils'}")
    return tool


def elf_symbols(elf: Path, b: BoardProfile) -> dict[str, tuple[int, int]]:
    """name -> (address, size) from nm; Thumb function addresses without their low bit."""
    r = subprocess.run([_tool(b, "nm"), "-S", str(elf)], capture_output=True, text=True, check=True)
    thumb = arch_of(b) == "arm"
    syms = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            addr, size, kind, name = int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]
        elif len(parts) == 3:
            addr, size, kind, name = int(parts[0], 16), 0, parts[1], parts[2]
        else:
            continue
        if thumb and kind in "Tt":
            addr &= ~1
        syms.setdefault(name.split(".")[0], (addr, size))
    return syms


def _is_table(m: CompiledModel, name: str) -> bool:
    """A constant array that is no weight or bias: requantization multipliers/shifts, shapes, kernel tables.
    Tensor data is `<prefix>_t<N>`; re-laid-out weights and folded biases say so in their names."""
    hint = name.removeprefix(m.prefix + "_")
    return not (re.fullmatch(r"t\d+", hint) or "weights" in hint or "bias" in hint)


def sizes_from_elf(elf: Path, b: BoardProfile, m: CompiledModel) -> tuple[int, int, int, int]:
    """(code bytes without weights, bytes of the model's constant arrays, RAM bytes of .data + .bss, the
    part of the constant arrays that is no weight or bias) of the firmware."""
    r = subprocess.run([_tool(b, "size"), "-A", "-d", str(elf)], capture_output=True, text=True, check=True)
    flash = ram = 0
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith(".") or not parts[1].isdigit():
            continue
        name, size = parts[0], int(parts[1])
        if name.startswith(_SKIP):
            continue
        if name.startswith(_RAM):
            ram += size
            if name.startswith(_INIT_IMAGE):
                flash += size
        else:
            flash += size
    syms = elf_symbols(elf, b)
    arrays = [n for n in set(_CONST_ARRAY.findall(m.source)) if n in syms]
    weights = sum(syms[n][1] for n in arrays)
    tables = sum(syms[n][1] for n in arrays if _is_table(m, n))
    return flash - weights, weights, ram, tables
