"""Emitter: what an op lowering uses to write C (pointers, constant arrays, params, calls)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, NamedTuple, Sequence

import numpy as np

from ..ir import Graph, Op


def c_literal(value: object, ctype: str = "int32_t") -> str:
    """One C literal; int32 minimum and 64-bit values spelled so no compiler warns."""
    if ctype == "float":
        v = float(np.float32(value))
        return repr(v) + "f" if np.isfinite(v) else ("INFINITY" if v > 0 else "-INFINITY")
    v = int(value)  # type: ignore[arg-type]
    if ctype == "int64_t":
        return f"INT64_C({v})" if -(2**63) < v else "INT64_MIN"
    if ctype == "int32_t" and v == -(2**31):
        return "INT32_MIN"
    if ctype in ("int32_t", "uint32_t") and abs(v) > 32767:
        return f"{v}L" if ctype == "int32_t" else f"{v}UL"
    return str(v)


class CStruct(NamedTuple):
    """A struct-typed field value for Emitter.params: written as a nested designated initializer
    `{.field = value, ...}` (e.g. the td_dims, td_window, td_requant of a conv's parameters)."""

    ctype: str
    fields: Sequence[tuple[str, object]]


def initializer(value: object, indent: str = "  ") -> str:
    """C initializer of one params field value: int (int32 literal), float, str (C expression, used
    as is) or CStruct (nested designated initializer, one line, or a field a line when that is long)."""
    if isinstance(value, CStruct):
        items = [f".{f} = {initializer(v, indent + '  ')}" for f, v in value.fields]
        line = "{" + ", ".join(items) + "}"
        if len(line) + len(indent) <= 100:
            return line
        return "{\n" + "".join(f"{indent}  {it},\n" for it in items) + indent + "}"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return c_literal(value, "float")
    return c_literal(value, "int32_t")


class Emitter:
    """Collects declarations and schedule lines for one model's .c file."""

    def __init__(self, graph: Graph, prefix: str, offsets: dict[int, int], scratch: dict[int, int],
                 inplace_ops: set[int] | None = None, scratch_sizes: dict[int, int] | None = None,
                 kernels: str = "reference") -> None:
        self.graph = graph
        self.kernels = kernels  # PlanOptions.kernels: lowerings with an optimized variant pick it from this
        self.external = {t: k for k, t in enumerate(graph.external)}  # float edges: <prefix>_io[k]
        self.inplace_ops = inplace_ops or set()  # ops whose output the planner put over input 0
        self.prefix = prefix
        self.offsets = offsets  # tensor index -> arena byte offset
        self.scratch_offsets = scratch  # op index -> arena byte offset of its scratch
        self.scratch_sizes = scratch_sizes or {}  # op index -> planned scratch bytes
        self.decls: list[str] = []
        self.body: list[str] = []
        self.op: Op | None = None  # the op being emitted: set only by op_scope()
        self._const_syms: dict[tuple[int, bool], str] = {}  # (tensor, flash) -> symbol
        self._names: set[str] = set()
        self._const_by_value: dict[tuple, str] = {}  # (ctype, flash, n, items) -> symbol

    @contextmanager
    def op_scope(self, op: Op | None) -> Iterator[None]:
        """Emit for `op` (its symbols get the op's index; None: model-level constants)."""
        saved, self.op = self.op, op
        try:
            yield
        finally:
            self.op = saved

    # -- names -----------------------------------------------------------------------------
    def _unique(self, hint: str) -> str:
        base = f"{self.prefix}_op{self.op.index}_{hint}" if self.op is not None else f"{self.prefix}_{hint}"
        name, n = base, 1
        while name in self._names:
            n += 1
            name = f"{base}{n}"
        self._names.add(name)
        return name

    # -- data ------------------------------------------------------------------------------
    def const_array(self, values: Iterable[object] | np.ndarray, ctype: str, hint: str = "data",
                    flash: bool = False) -> str:
        """Declare a `static const` array (placed with the weights) and return its symbol.

        flash=True: `static const TD_WEIGHTS_MEM ctype name[]`, in flash on AVR (__memx) and plain
        const elsewhere. Only for a kernel parameter (or params struct field) declared
        `const TD_WEIGHTS_MEM T *`: a generic `const T *` must never receive it.
        """
        arr = np.asarray(values).reshape(-1)
        items = [c_literal(v, ctype) for v in arr.tolist()] or ["0"]
        key = (ctype, flash, len(arr), tuple(items))
        if key in self._const_by_value:  # same contents (e.g. patch clones of one op): one array
            return self._const_by_value[key]
        name = self._unique(hint)
        self._const_by_value[key] = name
        lines, line = [], "  "
        for it in items:
            if len(line) + len(it) > 98:
                lines.append(line.rstrip())
                line = "  "
            line += it + ", "
        lines.append(line.rstrip().rstrip(","))
        mem = "TD_WEIGHTS_MEM " if flash else ""
        self.decls.append(f"static const {mem}{ctype} {name}[{max(len(arr), 1)}] TD_CONST_ALIGN TD_WEIGHTS_ATTR = {{\n"
                          + "\n".join(lines) + "\n};")
        return name

    def ptr(self, tensor: int, ctype: str | None = None, const: bool = False, flash: bool = False) -> str:
        """C expression for a tensor's data: a weights symbol or a pointer into the arena.

        flash=True (constant tensors only; ignored for activations): the array is declared
        TD_WEIGHTS_MEM (see const_array), for kernel parameters declared `const TD_WEIGHTS_MEM T *`.
        A constant tensor used both ways gets two arrays.
        """
        t = self.graph.tensors[tensor]
        ctype = ctype or t.ctype
        if t.is_const:
            key = (tensor, flash)
            if key not in self._const_syms:
                with self.op_scope(None):
                    self._const_syms[key] = self.const_array(t.data.astype(t.data.dtype), t.ctype, f"t{tensor}",
                                                             flash=flash)
            sym = self._const_syms[key]
            mem = "TD_WEIGHTS_MEM " if flash else ""
            return sym if ctype == t.ctype else f"(const {mem}{ctype} *){sym}"
        qual = "const " if const else ""
        if tensor in self.external:
            return f"({qual}{ctype} *){self.prefix}_io[{self.external[tensor]}]"
        return f"({qual}{ctype} *)(arena + {self.offsets[tensor]})"

    @property
    def in_place(self) -> bool:
        """True when the current op must write its output over input 0 (its in-place kernel)."""
        return self.op is not None and self.op.index in self.inplace_ops

    def scratch(self, needed: str, ctype: str = "void") -> str:
        """The op's planned scratch memory. `needed` is the C expression of what the kernel says it
        needs (its `*_scratch_size(params)`): the schedule checks it against the plan in debug builds
        (TD_CHECK_SCRATCH, tinydeploy.h), before the call that this pointer goes to."""
        assert self.op is not None and self.op.index in self.scratch_offsets, "op declared no scratch"
        if self.op.index in self.scratch_sizes:
            self.line(f"TD_CHECK_SCRATCH({needed}, {c_literal(self.scratch_sizes[self.op.index])});")
        return f"({ctype} *)(arena + {self.scratch_offsets[self.op.index]})"

    def params(self, struct: str, fields: Sequence[tuple[str, object]], hint: str = "params") -> str:
        """Declare `static const struct name = {.field = value, ...}` and return `&name`.

        Values: int (int32 literal), str (C expression, used as is), float, CStruct (nested struct).
        Every field of the C struct is set (tests/compile/test_param_structs.py checks it).
        """
        body = [f"  .{field} = {initializer(value)}," for field, value in fields]
        key = (struct, tuple(body))
        if key in self._const_by_value:  # identical parameters (e.g. patch clones): one struct
            return f"&{self._const_by_value[key]}"
        name = self._unique(hint)
        self._const_by_value[key] = name
        self.decls.append(f"static const {struct} {name} = {{\n" + "\n".join(body) + "\n};")
        return f"&{name}"

    def dims(self, shape: Sequence[int], rank: int = 4, hint: str = "dims") -> str:
        """A const int32 array of the shape padded on the left with 1s to `rank` entries."""
        padded = [1] * (rank - len(shape)) + [int(d) for d in shape]
        return self.const_array(padded, "int32_t", hint)

    # -- code ------------------------------------------------------------------------------
    def call(self, function: str, *args: str) -> None:
        self.body.append(f"  {function}({', '.join(args)});")

    def line(self, text: str) -> None:
        self.body.append("  " + text)

    def comment(self, text: str) -> None:
        self.body.append(f"  /* {text} */")
