"""`tinydeploy fit`: does a model fit a board, with the whole truth.

    a = analyze_fit("resnet8.tflite", "nucleo_f446re")      # FitAnalysis (compiles with the board's options)
    a.fits, a.verdict, a.as_dict()                          # the yes/no of build/flash/export-arduino too
    plot_fit(a, "fit.png")                                  # live memory per op against the board's budget

The verdict is fit.check_fit's (the one fit model every command uses). Around it: flash and RAM per memory
region of the board profile, the arena's budget (RAM less everything else), the layers that set the peak,
what the device protocol and the sample-check sketch add (fit_suggest: what would make it fit; fit_latency:
time at the board's clock from measured costs per MAC).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..compile import CompiledModel, Graph, PlanOptions, compile_graph, load_model, op_rows, step_rows
from ..errors import TinyDeployError
from .boards import BoardProfile, load_board
from .fit import FitReport, _short, check_fit

PEAK_ROWS = 5        # layers shown in the peak table


@dataclass
class Region:
    """One memory region of the board profile and what the model puts there."""
    name: str
    kind: str                  # flash | ram
    size: int
    items: list[tuple[str, int]] = field(default_factory=list)
    note: str = ""

    @property
    def used(self) -> int:
        return sum(n for _, n in self.items)

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "size": self.size, "used": self.used,
                "items": dict(self.items), "note": self.note}


@dataclass
class PeakLayer:
    index: int
    kind: str
    live_bytes: int
    tensors: list[tuple[str, int]]      # the buffers live at the op, largest first: (name, bytes)

    def as_dict(self) -> dict:
        return {"op": self.index, "kind": self.kind, "live_bytes": self.live_bytes,
                "tensors": [{"name": n, "bytes": b} for n, b in self.tensors]}


@dataclass
class FitAnalysis:
    model: str
    board: BoardProfile
    compiled: CompiledModel
    report: FitReport                       # the verdict (check_fit)
    uses: dict[str, FitReport]              # "serial": + device protocol (flash/eval), "check": + sample sketch
    regions: list[Region]
    layers: list[tuple[int, str, int]]      # every op: (index, kind, live bytes)
    peaks: list[PeakLayer]
    macs: int
    suggestions: list = field(default_factory=list)     # fit_suggest.Candidate
    latency: dict | None = None                         # fit_latency.estimate_latency
    fits_on: list[str] = field(default_factory=list)    # other real boards the same C fits

    @property
    def fits(self) -> bool:
        return self.report.fits

    @property
    def other_ram(self) -> int:
        """RAM that is not the arena: stack, runtime, buffers outside the arena, tables, canary."""
        return self.report.ram_needed - self.compiled.arena_bytes

    @property
    def arena_budget(self) -> int:
        """The largest arena the board's RAM budget leaves room for."""
        return max(0, self.board.ram_budget - self.other_ram)

    @property
    def verdict(self) -> str:
        from .fit_suggest import verdict_text

        return verdict_text(self)

    def as_dict(self) -> dict:
        r, m, b = self.report, self.compiled, self.board
        peak = max(self.layers, key=lambda x: x[2]) if self.layers else None
        return {
            "model": self.model, "sha256": m.graph.sha256, "fits": self.fits, "verdict": self.verdict,
            "exit_code": 0 if self.fits else 1,
            "board": {"id": b.id, "name": b.name, "core": b.core, "clock_hz": b.clock_hz,
                      "kernel_variant": b.kernel_variant},
            "plan_options": m.options.describe(), "kernels": m.options.kernels, "macs": self.macs,
            "flash": {"needed": r.flash_needed, "budget": b.flash_budget, "fits": r.fits_flash,
                      "items": dict(r.flash_items)},
            "ram": {"needed": r.ram_needed, "budget": b.ram_budget, "fits": r.fits_ram, "items": dict(r.ram_items),
                    "arena_bytes": m.arena_bytes, "arena_budget": self.arena_budget,
                    "scratch_bytes": m.scratch_bytes, "lower_bound_bytes": m.lower_bound_bytes},
            "regions": [x.as_dict() for x in self.regions],
            "uses": {k: {"flash_needed": u.flash_needed, "ram_needed": u.ram_needed, "fits": u.fits,
                         "what": USE_TEXT[k]} for k, u in self.uses.items()},
            "kernel_fallbacks": [{"op": i, "kind": k, "scratch_bytes": n} for i, k, n in m.kernel_fallbacks],
            "notes": r.notes,
            "peak": {"op": peak[0], "kind": peak[1], "live_bytes": peak[2]} if peak else None,
            "peak_layers": [p.as_dict() for p in self.peaks],
            "layers": [{"op": i, "kind": k, "live_bytes": n} for i, k, n in self.layers],
            "patch": m.patch.as_dict() if m.patch else None,
            "suggestions": [c.as_dict() for c in self.suggestions], "fits_on": self.fits_on,
            "latency": self.latency,
        }


USE_TEXT = {"serial": "the device-protocol firmware of flash/eval/monitor (the Arduino Serial example)",
            "check": "the sample-check sketch (build's firmware, the Arduino Check example; 3 samples)"}


def regions_of(b: BoardProfile, r: FitReport) -> list[Region]:
    """Flash and RAM items in the board's regions: everything goes into the first region of its kind (the
    program's flash, the RAM the linker places .data/.bss in); the others are listed, empty."""
    out = []
    for kind, items in (("flash", r.flash_items), ("ram", r.ram_items)):
        regs = b.regions(kind)
        if not regs:
            budget = b.flash_budget if kind == "flash" else b.ram_budget
            out.append(Region(kind, kind, budget, [x for x in items if x[1]], "budget (no region in the profile)"))
            continue
        for i, reg in enumerate(regs):
            out.append(Region(reg.name, kind, reg.size, [x for x in items if x[1]] if i == 0 else [], reg.note))
    return out


def _spans(g: Graph) -> dict[int, tuple[int, int]]:
    """Tensor -> (first, last) op that touches it; model inputs from op 0, outputs to the last op."""
    end = max(len(g.ops) - 1, 0)
    spans: dict[int, tuple[int, int]] = {}
    for op in g.ops:
        for t in (*op.inputs, *op.outputs):
            if t >= 0:
                a, b = spans.get(t, (op.index, op.index))
                spans[t] = (min(a, op.index), max(b, op.index))
    for t in g.inputs:
        spans[t] = (0, spans.get(t, (0, 0))[1])
    for t in g.outputs:
        spans[t] = (spans.get(t, (end, end))[0], end)
    return spans


def live_tensors(m: CompiledModel, index: int) -> list[tuple[str, int]]:
    """The tensors (and kernel scratch) in the arena while op `index` runs, largest first. Of a buffer
    shared by a chain (in place, row streaming, views), only the members alive at the op."""
    g, out = m.graph, []
    spans = _spans(g)
    for buf in m.plan.buffers if m.plan else []:
        if not buf.size or not buf.first_use <= index <= buf.last_use:
            continue
        if buf.scratch_of is not None:
            out.append((f"scratch of op {buf.scratch_of}", buf.size))
            continue
        members = [t for t in buf.tensors if spans.get(t, (-1, -2))[0] <= index <= spans.get(t, (-1, -2))[1]]
        out += [(_short(g.tensors[t].name), g.tensors[t].nbytes) for t in members]
    return sorted(out, key=lambda x: -x[1])


def peak_layers(m: CompiledModel, layers: list[tuple[int, str, int]], n: int = PEAK_ROWS) -> list[PeakLayer]:
    top = sorted(layers, key=lambda x: (-x[2], x[0]))[:n]
    return [PeakLayer(i, k, live, live_tensors(m, i)) for i, k, live in top]


def _compile(g: Graph, b: BoardProfile, options: PlanOptions | None, name: str) -> CompiledModel:
    from .variants import board_options

    return compile_graph(g, options=options or board_options(b), source_name=name)


def analyze_fit(model_path: str | Path, board: str | BoardProfile, options: PlanOptions | None = None,
                suggest: bool = True, latency: bool = True) -> FitAnalysis:
    """Compile the model with the board's options (or `options`) and account for every byte; with `suggest`,
    try what would make it fit (fit_suggest); with `latency`, estimate the time per inference."""
    b = load_board(board)
    if b.kind == "host":
        raise TinyDeployError("fit answers for a microcontroller board, not the host",
                              "pass --board with a board id (`tinydeploy boards` lists them)")
    path = Path(model_path)
    if not path.is_file():
        raise TinyDeployError(f"model not found: {path}", "give the path of a .tflite file")
    g = load_model(path)
    m = _compile(g, b, options, path.name)
    rows = step_rows(m.graph, m.plan)
    layers = [(r.index, r.kind, r.live_bytes) for r in rows]
    a = FitAnalysis(path.name, b, m, check_fit(m, b), {"serial": check_fit(m, b, "serial"),
                                                        "check": check_fit(m, b, "check", 3)},
                    regions_of(b, check_fit(m, b)), layers, peak_layers(m, layers),
                    sum(r.macs for r in op_rows(g)))
    if suggest:
        from .fit_suggest import suggestions

        a.suggestions = suggestions(g, b, m.options, a)
    if latency:
        from .fit_latency import estimate_latency

        a.latency = estimate_latency(m, b)
    return a


def plot_fit(a: FitAnalysis, path: str | Path) -> Path:
    """PNG: live arena bytes per op (bars; over the budget in red) against the arena budget line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise TinyDeployError(f"--plot {path} must end in .png", "e.g. --plot fit.png")
    xs = [i for i, _, _ in a.layers]
    ys = [n for _, _, n in a.layers]
    budget = a.arena_budget
    fig, ax = plt.subplots(figsize=(min(max(6.0, 0.3 * len(xs) + 3), 24.0), 4.5))
    ax.bar(xs, ys, color=["#e4572e" if y > budget else "#4c78a8" for y in ys], width=0.8)
    ax.axhline(budget, color="black", linestyle="--", linewidth=1,
               label=f"arena budget {budget:,} B ({a.board.id} RAM {a.board.ram_budget:,} B less "
                     f"{a.other_ram:,} B stack/runtime/buffers)")
    ax.axhline(a.compiled.arena_bytes, color="gray", linestyle=":", linewidth=1,
               label=f"planned arena {a.compiled.arena_bytes:,} B")
    ax.set_xlabel("op index (schedule)")
    ax.set_ylabel("live arena bytes")
    ax.set_ylim(0, max([budget, a.compiled.arena_bytes, *ys, 1]) * 1.12)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"{a.model} on {a.board.id}: {'fits' if a.fits else 'does NOT fit'} "
                 f"({a.compiled.options.kernels} kernels)", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)
    return path
