"""What would make a model fit a board: smaller input resolutions and width multipliers, and the arena in
external PSRAM. `tinydeploy fit` (fit_report.py) shows these beside the fit check.

    cands = scaled_candidates(g, "nucleo_f446re", board_options("nucleo_f446re"))
    best = best_candidate(cands) or nearest_candidate(cands)   # arena, MACs (per op kind), weights, RAM/flash
    p = psram_candidate(g, "esp32-wrover")       # None on a board without a PSRAM region

A candidate is an ESTIMATE of the same architecture re-made for a smaller input or with fewer channels
(whatif_scale.scale_graph: shapes through every op's own rule; weights resampled, values meaningless),
planned by our planner and counted by the same fit check as `build` (fit.check_fit). The accuracy of a
re-made model is unknown: it has to be trained.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from ..compile import CompiledModel, Graph, PlanOptions, compile_graph, op_rows
from ..errors import TinyDeployError
from .boards import BoardProfile, load_board
from .whatif_scale import ScaleError, scale_graph

RESOLUTIONS = (1.0, 0.875, 0.75, 0.625, 0.5)
WIDTHS = (1.0, 0.75, 0.5, 0.35)
PSRAM_NOTE = ("PSRAM is external RAM behind the cache (SPI): every arena access that misses the cache is "
              "several times slower than internal SRAM, so expect a slower invoke; measure it on the board")


@dataclass
class Candidate:
    """ESTIMATE for the model re-made at `resolution` x its input height/width and `width` x its hidden
    channels: arena from our planner on the rescaled graph, MACs per op kind from its shapes, weights
    resampled to the new shapes (flash bytes), and the fit check's RAM/flash needs. Not a trained model:
    its accuracy is unknown. `problem` says why a candidate could not be estimated (then only
    resolution/width are set)."""

    resolution: float
    width: float
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)
    arena_bytes: int = 0
    macs: int = 0
    macs_by_kind: dict[str, int] = field(default_factory=dict)
    weights_bytes: int = 0
    ram_needed: int = 0               # fit.check_fit: arena + stack + runtime (+ I/O buffers, AVR copies)
    flash_needed: int = 0             # fit.check_fit: weights + code + framework
    ram_budget: int = 0
    flash_budget: int = 0
    problem: str = ""
    host: bool = False                # the host board: no budget (as fit.FitReport.fits)

    @property
    def fits_ram(self) -> bool:
        return not self.problem and (self.host or self.ram_needed <= self.ram_budget)

    @property
    def fits_flash(self) -> bool:
        return not self.problem and (self.host or self.flash_needed <= self.flash_budget)

    @property
    def fits(self) -> bool:
        return self.fits_ram and self.fits_flash

    @property
    def label(self) -> str:
        shape = "x".join(str(d) for d in self.input_shapes[0][1:3]) if self.input_shapes else "?"
        return f"resolution {self.resolution:g} ({shape}), width {self.width:g}"

    def to_dict(self) -> dict:
        return {**asdict(self), "input_shapes": [list(s) for s in self.input_shapes], "estimate": True,
                "fits_ram": self.fits_ram, "fits_flash": self.fits_flash, "fits": self.fits}


def _candidate(g: Graph, b: BoardProfile, options: PlanOptions, resolution: float, width: float) -> Candidate:
    from .fit import check_fit  # fit.py calls this module: import here, not at the top

    c = Candidate(resolution, width, ram_budget=b.ram_budget, flash_budget=b.flash_budget, host=b.kind == "host")
    try:
        scaled = scale_graph(g, resolution, width)
        m = compile_graph(scaled, prefix="whatif", options=options, source_name="what-if")
    except (ScaleError, TinyDeployError) as exc:
        c.problem = str(exc)
        return c
    except Exception as exc:  # noqa: BLE001 - an estimate is informative only: it must never stop `fit`
        c.problem = f"{type(exc).__name__}: {exc}"
        return c
    c.input_shapes = [tuple(scaled.tensors[t].shape) for t in scaled.inputs]
    c.arena_bytes, c.weights_bytes = m.arena_bytes, m.weights_bytes
    for row in op_rows(scaled):
        c.macs += row.macs
        c.macs_by_kind[row.kind] = c.macs_by_kind.get(row.kind, 0) + row.macs
    r = check_fit(m, b)
    c.ram_needed, c.flash_needed = r.ram_needed, r.flash_needed
    return c


def has_image_input(g: Graph) -> bool:
    """Whether some model input is 4-D NHWC with a height or width above 1 (resolution can scale)."""
    return any(len(g.tensors[t].shape) == 4 and max(g.tensors[t].shape[1:3]) > 1 for t in g.inputs)


def scaled_candidates(g: Graph, board: str | BoardProfile, options: PlanOptions | None = None,
                      resolutions: tuple[float, ...] = RESOLUTIONS,
                      widths: tuple[float, ...] = WIDTHS) -> list[Candidate]:
    """Every resolution x width candidate (estimates, see Candidate), the model itself (1.0, 1.0) first.
    Models without an image input get the width candidates only. `options`: the plan options the model
    is built with for the board (target.board_options), patch and arena_region left as given."""
    b = load_board(board)
    options = options or PlanOptions()
    if not has_image_input(g):
        resolutions = tuple(r for r in resolutions if r == 1.0) or (1.0,)
    return [_candidate(g, b, options, r, w) for r in resolutions for w in widths]


def best_candidate(cands: list[Candidate]) -> Candidate | None:
    """The fitting candidate that keeps the most of the model (most MACs, then resolution); None if none fits."""
    fitting = [c for c in cands if c.fits]
    return max(fitting, key=lambda c: (c.macs, c.resolution, c.width)) if fitting else None


def nearest_candidate(cands: list[Candidate]) -> Candidate | None:
    """When none fits: the estimated candidate that misses its RAM and flash budgets by the fewest bytes."""
    done = [c for c in cands if not c.problem]
    return min(done, key=lambda c: (max(0, c.ram_needed - c.ram_budget) + max(0, c.flash_needed - c.flash_budget),
                                    -c.macs)) if done else None


@dataclass
class PsramCandidate:
    """The arena moved to the board's PSRAM (PlanOptions(arena_region="psram")): what the internal SRAM
    then holds and has left. Sizes from the compiled model and the fit check, exact as they are."""

    board: str
    region: str                       # the PSRAM region's name
    psram_bytes: int
    arena_bytes: int
    ram_needed_before: int            # internal RAM with the arena inside (fit.check_fit)
    ram_needed_after: int             # without it: stack, runtime, I/O buffers outside the arena
    ram_budget: int
    options: PlanOptions
    notes: list[str] = field(default_factory=list)

    @property
    def internal_left(self) -> int:
        """Internal SRAM left for the application with the arena in PSRAM."""
        return self.ram_budget - self.ram_needed_after

    @property
    def fits(self) -> bool:
        return self.ram_needed_after <= self.ram_budget and self.arena_bytes <= self.psram_bytes

    def to_dict(self) -> dict:
        d = asdict(self)
        d["options"] = self.options.describe()
        return {**d, "internal_left": self.internal_left, "fits": self.fits}

    def lines(self) -> list[str]:
        return [f"arena {self.arena_bytes:,} B in {self.region} ({self.psram_bytes // 1024:,} KB): internal RAM "
                f"{self.ram_needed_before:,} -> {self.ram_needed_after:,} of {self.ram_budget:,} B "
                f"({self.internal_left:,} B left)" + ("" if self.fits else "  TOO BIG"), *self.notes]


def psram_candidate(model: Graph | CompiledModel, board: str | BoardProfile,
                    options: PlanOptions | None = None) -> PsramCandidate | None:
    """What moving the arena to the board's PSRAM gives; None when the board has no `psram` region.
    `model`: a graph as loaded (compiled here with `options`) or a compiled model; `options` of the
    result: the model's with arena_region="psram" (same plan, the arena's C gets the placement)."""
    from .fit import check_fit

    b = load_board(board)
    regions = b.regions("psram")
    if not regions:
        return None
    # the placement changes the C, not the plan: the model as compiled tells the sizes
    m = model if isinstance(model, CompiledModel) else \
        compile_graph(model, prefix="whatif", options=options or PlanOptions(), source_name="what-if")
    opts = replace(m.options, arena_region="psram")
    r = check_fit(m, b)
    after = r.ram_needed - m.arena_bytes
    psram = max(regions, key=lambda x: x.size)
    notes = [PSRAM_NOTE] + ([] if b.const_in_ram else ["the weights stay in flash: they take no internal RAM"])
    notes.append("generated C: the static arena gets TD_ARENA_ATTR (ESP-IDF EXT_RAM_BSS_ATTR, with "
                 "CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY); or <NAME>_NO_STATIC_ARENA and "
                 "heap_caps_malloc(<NAME>_ARENA_BYTES, MALLOC_CAP_SPIRAM) -> <name>_set_arena()")
    if psram.note:
        notes.append(f"{psram.name}: {psram.note}")
    return PsramCandidate(b.id, psram.name, psram.size, m.arena_bytes, r.ram_needed, after, b.ram_budget, opts, notes)
