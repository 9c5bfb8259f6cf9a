"""How `tinydeploy bench` shows a BenchResult: summary lines, a rich per-layer table, a PNG bar chart."""
from __future__ import annotations

from pathlib import Path

from .bench import BenchResult


def bench_lines(r: BenchResult) -> list[str]:
    """The summary: count, method, time, sizes, bit-exactness (and the reference beside it with --compare)."""
    per = "instruction" if r.unit == "instructions" else "cycle"
    spread = f" (samples: {', '.join(f'{c:,}' for c in r.counts)})" if len(set(r.counts)) > 1 else ""
    lines = [f"{r.model} on {r.board.id}, kernels {r.kernels}: {r.count:,} {r.unit} per inference{spread}",
             f"  method   {r.method}",
             f"  time     {r.time}" if r.time else "  time     -",
             f"  MACs     {r.macs:,} ({r.macs / r.count:.3f} MACs/{per})" if r.count else f"  MACs     {r.macs:,}",
             f"  flash    code {r.code_bytes:,} B (without weights) + model constants {r.weights_bytes:,} B: "
             f"weights and biases {r.weights_bytes - r.tables_bytes:,} B"
             + (f" ({(r.weights_bytes - r.tables_bytes) / r.model_weights_bytes:.2f}x the model's "
                f"{r.model_weights_bytes:,} B)" if r.model_weights_bytes else "")
             + f", requantization tables and shapes {r.tables_bytes:,} B",
             f"  RAM      {r.ram_bytes:,} B static (.data + .bss, arena {r.arena_bytes:,} B in it) "
             + (f"+ stack peak {r.stack_peak_bytes:,} B" if r.stack_peak_bytes is not None
                else "(stack peak not measured: no serial link)"),
             f"  outputs  {'bit-exact with LiteRT BUILTIN_REF' if r.bit_exact else 'DIFFER from LiteRT'}"]
    for other in [*r.fallbacks, *([r.reference] if r.reference is not None else [])]:
        lines += [f"compare  {other.kernels} kernels: {other.count:,} {other.unit}; code {other.code_bytes:,} B, weights "
                  f"{other.weights_bytes:,} B; {other.time or '-'}",
                  f"         {r.kernels} / {other.kernels} = {r.count / other.count:.3f} "
                  f"({other.count / r.count:.2f}x fewer {r.unit})"]
    return lines


def layer_table(r: BenchResult):
    """rich Table: op, kind, kernel, MACs, count, MACs per instruction, share, a bar."""
    from rich.table import Table

    unit, per = ("instr.", "instr.") if r.unit == "instructions" else ("cycles", "cycle")
    t = Table(title=f"per layer ({r.layers_method})", title_justify="left", show_footer=True)
    total_macs = sum(x.macs for x in r.layers)
    total = sum(x.count for x in r.layers)
    t.add_column("op", justify="right", footer="")
    t.add_column("kind", footer="layers")
    t.add_column("kernel", footer=f"(+ {r.overhead:,} outside)")
    t.add_column("MACs", justify="right", footer=f"{total_macs:,}")
    t.add_column(unit, justify="right", footer=f"{total:,}")
    t.add_column(f"MACs/{per}", justify="right", footer=f"{total_macs / total:.3f}" if total else "")
    t.add_column("share", justify="right", footer="100%")
    t.add_column("", footer="")
    most = max((x.count for x in r.layers), default=1) or 1
    for x in r.layers:
        share = x.count / total if total else 0.0
        t.add_row(str(x.index), x.kind, x.kernel.removeprefix("td_"), f"{x.macs:,}", f"{x.count:,}",
                  f"{x.macs / x.count:.3f}" if x.count else "-", f"{share:.1%}",
                  "█" * max(1, round(12 * x.count / most)) if x.count else "")
    return t


def plot_layers(r: BenchResult, path: str | Path) -> Path:
    """Horizontal bars: each layer's count, coloured by kernel variant, labelled with MACs per count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    layers = r.layers
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.28 * len(layers) + 1.2)))
    names = [f"{x.index}: {x.kind}" for x in layers]
    colors = ["tab:green" if "_arm_dsp" in x.kernel else "tab:gray" for x in layers]
    ax.barh(range(len(layers)), [x.count for x in layers], color=colors)
    if r.reference is not None and len(r.reference.layers) == len(layers):
        ax.barh(range(len(layers)), [x.count for x in r.reference.layers], color="none", edgecolor="tab:red",
                label="reference kernels")
        ax.legend(loc="lower right")
    for i, x in enumerate(layers):
        if x.count and x.macs:
            ax.text(x.count, i, f" {x.macs / x.count:.2f}", va="center", fontsize=7)
    ax.set_yticks(range(len(layers)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"{r.unit} per inference (label: MACs per {r.unit[:-1]}; green: {r.kernels} kernel)")
    ax.set_title(f"{r.model} on {r.board.id}: {r.count:,} {r.unit}, {r.time}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
