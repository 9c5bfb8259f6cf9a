"""What would make a model fit a board, with numbers (`tinydeploy fit`'s candidates).

Each candidate is compiled (or, for resolution/width variants, estimated from the graph by whatif.py) and
measured with the same fit model as the verdict (fit.check_fit):

    --patch auto                          patch-based inference of the first stage: arena, extra MACs
    --input-outside-arena                 the int8 input stays in the caller's buffer (counted outside the arena)
    --patch auto --input-outside-arena    both: tiles crop their boxes straight from the caller's input
    --patch SPLIT:HxW                     AVR (params structs in SRAM): auto's grid with fewer tiles, when
                                          auto's smallest arena does not fit but fewer tables would
    whatif.scaled_candidates              smaller input resolution x width (peak arena, MACs, weights)

When nothing fits, the nearest candidate is the one whose larger overshoot (RAM or flash, as a fraction of the
budget) is smallest: "no; the nearest candidate needs X".
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..compile import Graph, PlanOptions, compile_graph
from ..errors import TinyDeployError
from .boards import BoardProfile, list_boards
from .fit import check_fit

if TYPE_CHECKING:
    from .fit_report import FitAnalysis


@dataclass
class Candidate:
    name: str                 # what to change, as flags or words
    kind: str                 # "options" (compiled) | "scaled" (estimated from the graph) | "placement"
    arena_bytes: int
    flash_needed: int
    ram_needed: int
    flash_budget: int
    ram_budget: int
    macs: int
    extra_macs: int = 0       # over the model as given (negative: fewer)
    fits: bool = False
    note: str = ""
    exact: bool = True        # compiled and counted like the verdict (False: an estimate from the graph)

    @property
    def overshoot(self) -> float:
        """The larger of RAM and flash needed over their budgets (<= 1: fits)."""
        return max(self.ram_needed / max(self.ram_budget, 1), self.flash_needed / max(self.flash_budget, 1))

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "arena_bytes": self.arena_bytes,
                "flash_needed": self.flash_needed, "ram_needed": self.ram_needed, "flash_budget": self.flash_budget,
                "ram_budget": self.ram_budget, "macs": self.macs, "extra_macs": self.extra_macs, "fits": self.fits,
                "exact": self.exact, "note": self.note}


def option_variants(options: PlanOptions) -> list[tuple[str, PlanOptions]]:
    """The compile options worth trying beside the given ones: patch-based inference, input outside."""
    out = []
    if options.patch == "off":
        out.append(("--patch auto", replace(options, patch="auto")))
    if not options.input_outside_arena:
        out.append(("--input-outside-arena", replace(options, input_outside_arena=True)))
    if options.patch == "off" and not options.input_outside_arena:
        out.append(("--patch auto --input-outside-arena", replace(options, patch="auto", input_outside_arena=True)))
    return out


def _compiled_candidate(g: Graph, b: BoardProfile, name: str, opts: PlanOptions, a: FitAnalysis) -> Candidate:
    m = compile_graph(g, options=opts, source_name=a.model)
    r = check_fit(m, b)
    macs, extra, note = a.macs, 0, ""
    if m.patch is not None:
        if m.patch.enabled:
            extra = m.patch.extra_macs
            macs = a.macs + extra
            grid = "x".join(map(str, m.patch.grid or ()))
            note = (f"stage of {m.patch.stage_ops} ops up to op {m.patch.split_op} in a {grid} grid, "
                    f"+{m.patch.macs_overhead:.1%} MACs" + (", tiles read the caller's input" if m.patch.from_input
                                                            else ""))
        else:
            note = f"no patch: {m.patch.reason}"
    if opts.input_outside_arena and m.io_buffer_bytes:
        note = (note + "; " if note else "") + f"input/output buffers {m.io_buffer_bytes:,} B outside the arena"
    return Candidate(name, "options", m.arena_bytes, r.flash_needed, r.ram_needed, b.flash_budget, b.ram_budget,
                     macs, extra, r.fits, note)


def _scaled(g: Graph, b: BoardProfile, options: PlanOptions, a: FitAnalysis) -> list[Candidate]:
    """whatif.scaled_candidates (resolution x width, estimates from the graph) and whatif.psram_candidate
    (the arena in external PSRAM), when that module is there."""
    try:
        from . import whatif
    except ImportError:
        return []
    out = []
    for c in whatif.scaled_candidates(g, b, options):
        if (c.resolution, c.width) == (1.0, 1.0):
            continue                       # the model itself
        note = f"not estimated: {c.problem}" if c.problem else "estimate; the re-made model must be trained"
        out.append(Candidate(c.label, "scaled", c.arena_bytes, c.flash_needed, c.ram_needed, c.flash_budget,
                             c.ram_budget, c.macs, c.macs - a.macs if c.macs else 0, c.fits, note, exact=False))
    p = whatif.psram_candidate(a.compiled, b)
    if p is not None:
        out.append(Candidate(f"arena in {p.region} (arena_region=psram)", "placement", p.arena_bytes,
                             a.report.flash_needed, p.ram_needed_after, b.flash_budget, b.ram_budget, a.macs, 0, p.fits,
                             f"internal RAM {p.ram_needed_before:,} -> {p.ram_needed_after:,} B; slower arena "
                             "accesses (external RAM behind the cache)"))
    return out


def shown_candidates(cands: list[Candidate], n_scaled: int = 4) -> list[Candidate]:
    """The candidates for the text table: every compiled one and placement, and of the scaled estimates the
    largest that fit (by MACs), or the nearest ones when none fits."""
    scaled = [c for c in cands if c.kind == "scaled" and not c.note.startswith("not estimated")]
    fit = sorted((c for c in scaled if c.fits), key=lambda c: -c.macs)
    pick = fit[:n_scaled] or sorted(scaled, key=lambda c: c.overshoot)[:2]
    return [c for c in cands if c.kind != "scaled" or c in pick]


def _try(g: Graph, b: BoardProfile, name: str, opts: PlanOptions, a: FitAnalysis) -> Candidate:
    try:
        return _compiled_candidate(g, b, name, opts, a)
    except TinyDeployError as exc:     # e.g. a forced patch the graph has no stage for
        return Candidate(name, "options", 0, 0, 0, b.flash_budget, b.ram_budget, a.macs, 0, False,
                         f"not possible: {exc.message}")


FEW_TILES = ((2, 1), (4, 1), (2, 2), (3, 3))


def fewer_tiles(g: Graph, b: BoardProfile, options: PlanOptions, a: FitAnalysis) -> Candidate | None:
    """--patch auto keeps the smallest arena; where each tile's params structs take SRAM too (AVR), a grid of
    fewer tiles at auto's split point may need less RAM in all. The first of FEW_TILES that fits, else the
    one that needs the least RAM (None when auto found no stage)."""
    m = compile_graph(g, options=replace(options, patch="auto"), source_name=a.model)
    if m.patch is None or not m.patch.enabled:
        return None
    best = None
    for gh, gw in FEW_TILES:
        spec = f"{m.patch.split_op}:{gh}x{gw}"
        cand = _try(g, b, f"--patch {spec}", replace(options, patch=spec), a)
        if cand.fits:
            return cand
        if cand.ram_needed and (best is None or cand.ram_needed < best.ram_needed):
            best = cand
    return best


def suggestions(g: Graph, b: BoardProfile, options: PlanOptions, a: FitAnalysis) -> list[Candidate]:
    """Every candidate with its numbers (compiled ones first), and the real boards the C fits as it is."""
    out = [_try(g, b, name, opts, a) for name, opts in option_variants(options)]
    auto = next((c for c in out if c.name == "--patch auto"), None)
    if auto is not None and not auto.fits and b.const_in_ram and "no patch" not in auto.note:
        other = fewer_tiles(g, b, options, a)
        if other is not None and other.ram_needed < auto.ram_needed:
            out.insert(1, other)
    out += _scaled(g, b, options, a)
    a.fits_on = [x.id for x in sorted(list_boards(), key=lambda x: (x.ram_budget, x.flash_budget, x.id))
                 if x.kind == "real" and x.id != b.id and check_fit(a.compiled, x).fits]   # smallest first
    return out


def _needs(ram: int, ram_budget: int, flash: int, flash_budget: int) -> str:
    parts = []
    if ram > ram_budget:
        parts.append(f"{ram:,} B of RAM ({ram - ram_budget:,} B over {ram_budget:,})")
    if flash > flash_budget:
        parts.append(f"{flash:,} B of flash ({flash - flash_budget:,} B over {flash_budget:,})")
    return " and ".join(parts) or "nothing more"


def verdict_text(a: FitAnalysis) -> str:
    r, b = a.report, a.board
    if a.fits:
        return (f"yes: flash {r.flash_needed:,} of {b.flash_budget:,} B, RAM {r.ram_needed:,} of "
                f"{b.ram_budget:,} B (arena {a.compiled.arena_bytes:,} B of the {a.arena_budget:,} B left for it)")
    fitting = [c for c in a.suggestions if c.fits]
    if fitting:
        # compiled options first (fewest extra MACs), then the largest re-made model
        best = min(fitting, key=lambda c: (0, c.extra_macs, c.ram_needed) if c.exact else (1, -c.macs, 0))
        return (f"no as it is ({_needs(r.ram_needed, b.ram_budget, r.flash_needed, b.flash_budget)}); it fits with "
                f"{best.name}: RAM {best.ram_needed:,} B, flash {best.flash_needed:,} B"
                + (f", {best.extra_macs:+,} MACs" if best.extra_macs else ""))
    counted = [c for c in a.suggestions if c.ram_needed and c.flash_needed]   # not the ones that failed
    nearest = min(counted, key=lambda c: c.overshoot, default=None)
    own = max(r.ram_needed / max(b.ram_budget, 1), r.flash_needed / max(b.flash_budget, 1))
    if nearest is None or nearest.overshoot >= own:
        return f"no; the nearest candidate (the model as it is) needs " \
               f"{_needs(r.ram_needed, b.ram_budget, r.flash_needed, b.flash_budget)}"
    return (f"no; the nearest candidate ({nearest.name}) needs "
            f"{_needs(nearest.ram_needed, b.ram_budget, nearest.flash_needed, b.flash_budget)}")
