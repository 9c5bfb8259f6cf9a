"""Fit check before any compiler runs: weights + code vs flash, arena + stack + runtime vs SRAM.

check_fit_graph() needs only the TFLite graph (lower bounds: constant tensors, and the largest single
op's activations), so a model far too big for a board is rejected before code generation, even when
some of its ops could not be compiled at all. check_fit() counts the generated C exactly.

Constant data is counted exactly from the generated C (every `static const T name[N]` array: weights,
biases, requantization multipliers, tables). Code is an estimate (per distinct kernel + per op); the
emulated boards' linker scripts are the final word. On AVR (`budget.const_in_ram`) avr-gcc copies plain
`static const` arrays into SRAM at start-up; the weights, biases, requantization multipliers and lookup
tables are declared `TD_WEIGHTS_MEM` (tinydeploy.h: `__memx`, flash, in the GNU C mode the Arduino IDE and
PlatformIO compile with), so only the other constant arrays count against SRAM there.

One fit model: check_fit(m, board) is the verdict of `fit`, `build`, `flash` and `export-arduino` (the model
with its tables, alignment padding and the protocol's arena canary); `use="check"` / `use="serial"` add what
the sample-check sketch and the device-protocol firmware need on top (export-arduino leaves an example out
when its use does not fit; `fit` shows both).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..compile import CompiledModel, Graph, PlanOptions
from ..errors import TinyDeployError
from .boards import BoardProfile, list_boards, load_board

_CONST_RE = re.compile(r"static const (TD_WEIGHTS_MEM )?(u?int(?:8|16|32|64)_t|float|double) (\w+)\[(\d+)\]")
_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4,
          "int64_t": 8, "uint64_t": 8, "float": 4, "double": 8}
RUNTIME_BASE_CODE = 1536        # runtime helpers + the generated invoke() prologue (bytes, estimate)
KERNEL_CODE = 1536              # per distinct op kind
OP_CODE = 48                    # per op: one call with a params struct
TENSOR_INFO = 48                # td_tensor_info per model input/output (const)
AVR_CODE_FACTOR = 2.0           # 8-bit code is about twice as big
# Sketch + protocol costs the generated model code does not show (AVR bytes, measured with
# arduino-builder 1.3.25 / avr-gcc 5.4 and rounded up; other cores: the same numbers, conservative).
CHECK_SKETCH_CODE = 2600          # setup(): printing, Timer1, stack painting, comparison
SERIAL_SKETCH_CODE = 1200         # Serial reading loop + board hooks
DEVICE_CODE = 2400                # td_device.c (framing, CRC, handlers) + td_device_glue.c
SKETCH_RAM = 32                   # the sketches' own variables
DEVICE_STATE_RAM = 214            # td_device.c's parser/reply buffers (64 + 128 B frames + counters)
CANARY_BYTES = 16                 # TD_CANARY_BYTES (td_device.h): after the arena, checked by the protocol
USES = ("model", "check", "serial")   # check_fit(use=): the model alone, + sample-check sketch, + device protocol


@dataclass
class FitReport:
    board: BoardProfile
    model: str
    flash_items: list[tuple[str, int]] = field(default_factory=list)
    ram_items: list[tuple[str, int]] = field(default_factory=list)
    biggest: list[tuple[str, int, str]] = field(default_factory=list)   # (tensor, bytes, "flash"/"RAM")
    compiled: CompiledModel | None = field(default=None, repr=False)
    graph: Graph | None = field(default=None, repr=False)    # set by check_fit_graph (lower bounds)
    notes: list[str] = field(default_factory=list)           # trade-offs made to fit (kernel scratch)

    @property
    def flash_needed(self) -> int:
        return sum(n for _, n in self.flash_items)

    @property
    def ram_needed(self) -> int:
        return sum(n for _, n in self.ram_items)

    @property
    def fits_flash(self) -> bool:
        return self.flash_needed <= self.board.flash_budget

    @property
    def fits_ram(self) -> bool:
        return self.ram_needed <= self.board.ram_budget

    @property
    def fits(self) -> bool:
        return self.board.kind == "host" or (self.fits_flash and self.fits_ram)

    def lines(self) -> list[str]:
        def part(items: list[tuple[str, int]]) -> str:
            return " + ".join(f"{what} {n:,}" for what, n in items if n)
        b = self.board
        return [f"flash: {self.flash_needed:,} of {b.flash_budget:,} B ({part(self.flash_items)})"
                + ("" if self.fits_flash else "  TOO BIG"),
                f"RAM:   {self.ram_needed:,} of {b.ram_budget:,} B ({part(self.ram_items)})"
                + ("" if self.fits_ram else "  TOO BIG"), *self.notes]

    def raise_if_too_big(self) -> None:
        if self.fits:
            return
        b = self.board
        over = []
        if not self.fits_flash:
            over.append(f"flash needs {self.flash_needed:,} B of {b.flash_budget:,} B")
        if not self.fits_ram:
            over.append(f"RAM needs {self.ram_needed:,} B of {b.ram_budget:,} B")
        big = ", ".join(f"{name} {n:,} B ({where})" for name, n, where in self.biggest[:4])
        fits_on = [x.id for x in sorted(list_boards(), key=lambda x: (x.ram_budget, x.flash_budget, x.id))
                   if x.kind == "real" and x.id != b.id and self._fits(x)]       # the smallest boards first
        needs = "; ".join(re.sub(r"\s+", " ", x) for x in self.lines())
        hint = ("at least " if self.graph is not None else "") + needs + f". Biggest tensors: {big}."
        verb = "It may fit" if self.graph is not None else "It fits"
        hint += f" {verb}: {', '.join(fits_on[:5])}." if fits_on else " Use a smaller model."
        raise TinyDeployError(f"{self.model} does not fit {b.id} ({b.name}): {'; '.join(over)}", hint)

    def _fits(self, other: BoardProfile) -> bool:
        if self.compiled is not None:
            return check_fit(self.compiled, other).fits
        return self.graph is not None and check_fit_graph(self.graph, other, self.model).fits


def const_bytes(m: CompiledModel) -> tuple[int, list[tuple[str, int]]]:
    """Bytes of constant arrays in the generated C, and the arrays by size (largest first)."""
    arrays = [(name, _SIZES[t] * int(n)) for _, t, name, n in _CONST_RE.findall(m.source)]
    return sum(n for _, n in arrays), sorted(arrays, key=lambda x: -x[1])


def ram_const_bytes(m: CompiledModel) -> int:
    """Bytes of the constant arrays not declared TD_WEIGHTS_MEM: what AVR copies into SRAM."""
    return sum(_SIZES[t] * int(n) for mem, t, _, n in _CONST_RE.findall(m.source) if not mem)


def _short(name: str) -> str:
    """TFLite names fused tensors 'a;b;c': the first part is enough to recognise it."""
    first = name.split(";")[0]
    return first if len(first) <= 48 else "..." + first[-45:]


def _struct_table_bytes(source: str) -> int:
    """Upper estimate of the `static const td_*_params` structs (4 bytes per initializer value)."""
    total = 0
    for block in re.findall(r"static const td_\w+ \w+(?:\[\d*\])? = \{(.*?)\n\};", source, re.DOTALL):
        total += 4 * len([v for v in re.split(r"[,{}]", block) if v.strip()])
    return total


def _tables(m: CompiledModel, b: BoardProfile) -> tuple[int, int]:
    """(params structs + tensor info + names, alignment padding of the constant arrays) in bytes."""
    g = m.graph
    ptr = 2 if b.kernel_variant == "avr" else 4
    infos = [g.tensors[t] for t in (*g.inputs, *g.outputs)]
    info = len(infos) * (ptr + 2 + 1 + 24 + 4 + 4 + 4 + 4) + sum(len(t.name) + 1 for t in infos)
    # Every constant array is TD_CONST_ALIGN: 16 bytes (up to 15 bytes of padding each), none on AVR.
    pad = 0 if b.kernel_variant == "avr" else sum(-n % 16 for _, n in const_bytes(m)[1])
    return _struct_table_bytes(m.source) + info, pad


def protocol_ram(m: CompiledModel, b: BoardProfile) -> int:
    """td_device's state, the board/model name and the SHA-256 hex the device protocol keeps in RAM."""
    ptr = 2 if b.kernel_variant == "avr" else 4
    return DEVICE_STATE_RAM + 8 * ptr + 16 + len(f"{b.id} {m.prefix}"[:70]) + 1 + 65


def check_fit(m: CompiledModel, board: str | BoardProfile, use: str = "model", n_samples: int = 0) -> FitReport:
    """Flash and RAM needs of model m on a board, item by item (does not raise; see raise_if_too_big).
    use: "model" (the verdict every command shares), "check" (+ the sample-check sketch with n_samples
    embedded samples) or "serial" (+ the device protocol: flash, eval, monitor, the Arduino Serial example)."""
    if use not in USES:
        raise ValueError(f"use must be one of {USES}")
    b = load_board(board)
    g = m.graph
    consts, arrays = const_bytes(m)
    kinds = {op.kind for op in g.ops}
    code = RUNTIME_BASE_CODE + KERNEL_CODE * len(kinds) + OP_CODE * len(g.ops) \
        + TENSOR_INFO * (len(g.inputs) + len(g.outputs))
    if b.kernel_variant == "avr":
        code = int(code * AVR_CODE_FACTOR)
    tables, pad = _tables(m, b)
    r = FitReport(b, m.source_name, compiled=m)
    r.flash_items = [("weights", consts), ("code~", code), ("model tables + padding", tables + pad),
                     ("framework", b.reserved_flash)]
    r.ram_items = [("arena", m.arena_bytes), ("stack", b.stack_bytes), ("runtime/framework", b.reserved_ram)]
    if m.kernel_fallbacks:
        saved = sum(n for _, _, n in m.kernel_fallbacks)
        r.notes.append(f"{len(m.kernel_fallbacks)} ops keep the reference kernels so that the arena fits "
                       f"({saved:,} B of {m.options.kernels} scratch given back): ops "
                       + ", ".join(str(k) for k, _, _ in m.kernel_fallbacks))
    if m.io_buffer_bytes:
        r.ram_items.insert(1, ("input/output buffers (outside the arena)", m.io_buffer_bytes))
    if b.const_in_ram:
        r.ram_items += [("weights copied to SRAM (AVR static const outside TD_WEIGHTS_MEM)", ram_const_bytes(m)),
                        ("model tables (params, tensor info, names)", tables), ("alignment padding", pad)]
    r.ram_items.append(("arena canary", CANARY_BYTES))
    if use == "check":
        io = sum(g.tensors[t].nbytes for t in (*g.inputs, *g.outputs))
        r.flash_items += [("embedded samples", n_samples * io), ("sketch~", CHECK_SKETCH_CODE)]
        r.ram_items.append(("sketch", SKETCH_RAM))
    elif use == "serial":
        r.flash_items.append(("sketch + protocol~", SERIAL_SKETCH_CODE + DEVICE_CODE))
        r.ram_items += [("protocol state", protocol_ram(m, b)), ("sketch", SKETCH_RAM)]
    # Biggest tensors: constants (flash) and activations (arena).
    names = {f"{m.prefix}_t{t}": _short(g.tensors[t].name) for t in range(len(g.tensors))}
    r.biggest = [(names.get(n, n), size, "flash") for n, size in arrays[:3]]
    acts = sorted(((_short(g.tensors[t].name), g.tensors[t].nbytes) for t in m.tensor_offsets), key=lambda x: -x[1])
    r.biggest += [(name, n, "RAM") for name, n in acts[:3]]
    r.biggest.sort(key=lambda x: -x[1])
    return r


def check_fit_graph(g: Graph, board: str | BoardProfile, model: str = "model",
                    options: PlanOptions | None = None) -> FitReport:
    """Lower bounds from the graph alone: every constant tensor an op reads (flash), the largest
    activation tensor (arena: ops may run in place, so one tensor is all that is certain). Never
    rejects a model that would fit. With patch-based inference (options.patch) a stage's tensors never
    exist whole: then only the model's inputs are certain (in the arena or the caller's buffer)."""
    b = load_board(board)
    const = sorted({t for op in g.ops for t in op.inputs if t >= 0 and g.tensors[t].is_const})
    weights = sum(g.tensors[t].nbytes for t in const)
    acts = sorted(g.activation_tensors(), key=lambda t: -g.tensors[t].nbytes)
    peak = g.tensors[acts[0]].nbytes if acts else 0
    if options is not None and options.patch != "off":
        peak = min(peak, sum(g.tensors[t].nbytes for t in g.inputs))
    r = FitReport(b, model, graph=g)
    r.flash_items = [("weights", weights), ("framework", b.reserved_flash)]
    r.ram_items = [("arena>=", peak), ("stack", b.stack_bytes), ("runtime/framework", b.reserved_ram)]
    # AVR (const_in_ram): weights, biases and tables are in flash (TD_WEIGHTS_MEM); which other constants
    # get an SRAM copy is only known from the generated C (check_fit), so the lower bound counts none.
    big_c = sorted(((_short(g.tensors[t].name), g.tensors[t].nbytes) for t in const), key=lambda x: -x[1])[:3]
    r.biggest = [(name, n, "flash") for name, n in big_c]
    r.biggest += [(_short(g.tensors[t].name), g.tensors[t].nbytes, "RAM") for t in acts[:3]]
    r.biggest.sort(key=lambda x: -x[1])
    return r
