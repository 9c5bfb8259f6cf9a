"""What `tinydeploy plan` shows: per-op live memory, the peak, a JSON summary, a PNG picture."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..ir import Graph
from .arena import ArenaPlan


@dataclass
class StepRow:
    index: int
    kind: str
    live_buffers: int
    live_bytes: int
    output_offsets: str


def step_rows(g: Graph, plan: ArenaPlan) -> list[StepRow]:
    """Per op: the buffers live while it runs and their bytes (of a group of linked tensors, only the
    span of the members live at that op: an in-place chain holds its large tensor only while it lives)."""
    from .lifetimes import tensor_lifetimes

    spans = tensor_lifetimes(g)
    rows = []
    for op in g.ops:
        live, total = 0, 0
        for b in plan.buffers:
            if not b.size or not b.first_use <= op.index <= b.last_use:
                continue
            members = [t for t in b.tensors if t in spans and spans[t][0] <= op.index <= spans[t][1]]
            if b.tensors and not members:
                continue
            live += 1
            total += (max(plan.tensor_offsets[t] + g.tensors[t].nbytes for t in members)
                      - min(plan.tensor_offsets[t] for t in members)) if members else b.size
        outs = ", ".join(f"t{t}@{plan.tensor_offsets[t]}" for t in op.outputs if t in plan.tensor_offsets)
        rows.append(StepRow(op.index, op.kind, live, total, outs))
    return rows


def plot_plan(g: Graph, plan: ArenaPlan, path: Path, title: str) -> None:
    """Buffers over time (op index) x address: the picture of the arena."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig, ax = plt.subplots(figsize=(min(max(6.0, 0.35 * len(g.ops) + 3), 24.0), 5))  # patched graphs: many ops
    for b in plan.buffers:
        if not b.size:
            continue
        color = "#e4572e" if b.scratch_of is not None else ("#4c78a8" if len(b.tensors) == 1 else "#72b7b2")
        ax.add_patch(Rectangle((b.first_use - 0.45, b.offset), b.last_use - b.first_use + 0.9, b.size,
                               facecolor=color, edgecolor="black", linewidth=0.5, alpha=0.85))
        if b.size > plan.arena_bytes * 0.06:
            ax.text((b.first_use + b.last_use) / 2, b.offset + b.size / 2, b.label[:18], ha="center",
                    va="center", fontsize=6)
    ax.axhline(plan.arena_bytes, color="black", linestyle="--", linewidth=0.8)
    ax.axhline(plan.lower_bound_bytes, color="gray", linestyle=":", linewidth=0.8)
    ax.set_xlim(-1, max(len(g.ops), 1))
    ax.set_ylim(0, max(plan.arena_bytes, 1) * 1.08)
    ax.set_xlabel("op index (time)")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"{title}: arena {plan.arena_bytes:,} B, lower bound {plan.lower_bound_bytes:,} B\n"
                 "blue: tensor, teal: shared (view/in-place), red: scratch", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
