"""Latency estimate at a board's clock from measured costs per op kind (op_costs.json, written by
benchmarks/op_costs.py from `tinydeploy bench`'s per-layer counts; never edited by hand).

Per op: a * MACs + b * output elements, with a and b fitted (least squares, >= 0) to the measured layers of
its kind for the kernel variant it compiles with (ops put back on the reference kernels: the reference
costs of the same architecture). A variant that was not measured takes the nearest measured one (arm-mve ->
arm-dsp -> reference), a kind that the variant lacks the reference kernels' costs, and a kind never measured
the variant's mean per MAC; each is named. Instruction counts become time at one
instruction per cycle (as `bench`/`eval` estimate); AVR cycles are cycles.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from ..compile import CompiledModel, op_rows
from .boards import BoardProfile

COSTS = Path(__file__).with_name("op_costs.json")
# the measured entries to use for a PlanOptions.kernels value, nearest first (AVR boards: AVR cycles first)
NEAREST = {"arm-mve": ("arm-mve", "arm-dsp", "reference"), "arm-dsp": ("arm-dsp", "reference"),
           "riscv": ("riscv", "reference"), "avr": ("avr", "reference-avr"), "reference": ("reference",)}
NEAREST_AVR = {"reference": ("reference-avr", "avr")}


@lru_cache(maxsize=4)
def load_costs(path: Path = COSTS) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _elements(m: CompiledModel, index: int) -> int:
    n = 0
    for t in m.graph.ops[index].outputs:
        k = 1
        for d in m.graph.tensors[t].shape:
            k *= int(d)
        n += k
    return n


def _measured(costs: dict, kernels: str, avr: bool) -> tuple[str | None, dict]:
    chain = (NEAREST_AVR.get(kernels) if avr else None) or NEAREST.get(kernels, (kernels, "reference"))
    for v in chain:
        if v in costs.get("variants", {}):
            return v, costs["variants"][v]
    return None, {}


def _cost(kind: dict, macs: int, elements: int) -> float | None:
    """Count of one op from its kind's measurements: the fitted a * MACs + b * elements, else the ratios."""
    fit = kind.get("fit")
    if fit:
        return fit["per_mac"] * macs + fit["per_element"] * elements
    if macs and kind.get("per_mac"):
        return kind["per_mac"] * macs
    if kind.get("per_element"):
        return kind["per_element"] * elements
    return None


def estimate_latency(m: CompiledModel, b: BoardProfile, costs: dict | None = None) -> dict | None:
    """{"count", "unit", "us", "variant", "measured_on", "notes", "ops": [...]} or None without data."""
    costs = load_costs() if costs is None else costs
    avr = b.kernel_variant == "avr" or b.core.startswith("avr")
    variant, data = _measured(costs, m.options.kernels, avr)
    if variant is None or not data.get("kinds"):
        return None
    ref = _measured(costs, "reference", avr)[1]
    notes, unmeasured, total, ops = [], set(), 0.0, []
    if variant != m.options.kernels:
        notes.append(f"the {m.options.kernels} kernels were not measured: the nearest measured variant, "
                     f"{variant} on {data['board']}, is used")
    if data["board"] != b.id:
        notes.append(f"costs measured on {data['board']} ({variant} kernels), not on {b.id} ({b.core})")
    for row in op_rows(m.graph):
        elements = _elements(m, row.index)
        # ops put back on the reference kernels (fit_scratch) cost what the reference kernels cost
        tables = [ref, data] if m.options.kernels_for(row.index) == "reference" and ref else [data, ref]
        count = next((c for t in tables if row.kind in t.get("kinds", {})
                      for c in [_cost(t["kinds"][row.kind], row.macs, elements)] if c is not None), None)
        if count is None:
            unmeasured.add(row.kind)
            count = (data.get("per_mac_all") or 0) * max(row.macs, elements)
        total += count
        ops.append({"op": row.index, "kind": row.kind, "macs": row.macs, "count": round(count)})
    if unmeasured:
        notes.append(f"not measured: {', '.join(sorted(unmeasured))} (the variant's mean per MAC)")
    unit = data.get("unit") or "instructions"
    us = total / b.clock_hz * 1e6 if b.clock_hz else None
    basis = "1 instruction per cycle" if unit == "instructions" else "cycles"
    return {"count": round(total), "unit": unit, "us": round(us, 1) if us is not None else None,
            "clock_hz": b.clock_hz, "variant": variant, "measured_on": data["board"], "basis": basis,
            "costs_file": COSTS.name, "costs_date": data.get("date", costs.get("date")),
            "costs_command": costs.get("command"), "notes": notes, "ops": ops}


def latency_text(lat: dict | None) -> str:
    if not lat:
        return "no measured op costs (run benchmarks/op_costs.py)"
    us = lat["us"]
    t = "?" if us is None else f"{us / 1e6:,.1f} s" if us >= 1e6 else f"{us / 1000:,.1f} ms" if us >= 1000 \
        else f"{us:,.0f} µs"
    mhz = lat["clock_hz"] / 1e6
    basis = "" if lat["basis"] == lat["unit"] else f", {lat['basis']}"
    return (f"~{t} at {mhz:g} MHz ({lat['count']:,} {lat['unit']}{basis}; {lat['variant']} costs per MAC "
            f"measured on {lat['measured_on']}, {lat['costs_date']})")
