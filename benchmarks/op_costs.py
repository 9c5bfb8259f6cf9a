#!/usr/bin/env python3
"""Measured cost per MAC (per output element for ops without MACs) of each op kind, per kernel variant, from
the per-layer counts of `tinydeploy bench` (exact TCG plugin counts on QEMU, simavr cycles on the Mega) over
the repo's models. Writes tinydeploy/target/op_costs.json, which `tinydeploy fit` reads for its latency
estimate; the file names the command, the date and the commit it was measured at.

  variant    board        unit
  arm-dsp    qemu-m4      instructions
  arm-mve    qemu-m55     instructions
  riscv      qemu-rv32    instructions
  avr        simavr-mega  cycles
  reference  qemu-m4      instructions   (the portable kernels: boards without a variant, e.g. ESP32, M0+)
  reference-avr simavr-mega cycles       (the portable kernels on AVR: ops the avr kernels do not take)

Per kind: count = per_mac * MACs + per_element * output elements, least squares over the measured layers
("fit", both coefficients >= 0; else one of them alone), beside the plain ratios and the layers themselves.

A model that does not fit a board (check_fit) is left out there and named in the file (float-I/O models
such as mcunet_like_80 have no per-layer build in bench yet, so they are not in the list). Exits non-zero when
a variant gets no measured layer.

    .venv/bin/python benchmarks/op_costs.py [--only arm-dsp ...] [--models kws_ref_model ...] [-o FILE]
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile import compile_graph, load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import run_bench
from tinydeploy.target import board_options, check_fit, load_board

# variant key -> (board, PlanOptions.kernels)
VARIANTS = {"arm-dsp": ("qemu-m4", "arm-dsp"), "arm-mve": ("qemu-m55", "arm-mve"), "riscv": ("qemu-rv32", "riscv"),
            "avr": ("simavr-mega", "avr"), "reference": ("qemu-m4", "reference"),
            "reference-avr": ("simavr-mega", "reference")}
MODELS = {
    "hello_world_int8": ROOT / "tests/data/models/hello_world_int8.tflite",
    "kws_ref_model": ROOT / "tests/data/models/kws_ref_model.tflite",
    "resnet8_int8": ROOT / "tests/data/models/resnet8_int8.tflite",
    "digits_cnn_int8": ROOT / "models/digits_cnn_int8.tflite",
    "digits_mlp_int8": ROOT / "models/digits_mlp_int8.tflite",
    "vww96_int8": ROOT / "models/vww96_int8.tflite",
}
OUT = ROOT / "tinydeploy" / "target" / "op_costs.json"


def _elems(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def fit_kind(rows: list[tuple[int, int, int]]) -> dict:
    """count ~ a * macs + b * elements over the layers (a, b >= 0); one term alone when both cannot be."""
    a = np.array([[m, e] for m, e, _ in rows], dtype=float)
    y = np.array([c for _, _, c in rows], dtype=float)
    best = None
    for cols in ([0, 1], [0], [1]):
        sub = a[:, cols]
        if not sub.any():
            continue
        coef = np.linalg.lstsq(sub, y, rcond=None)[0]
        if (coef < 0).any():
            continue
        err = float(np.sum((sub @ coef - y) ** 2))
        full = dict.fromkeys(("per_mac", "per_element"), 0.0)
        for k, c in zip(cols, coef):
            full[("per_mac", "per_element")[k]] = round(float(c), 4)
        if best is None or err < best[0] - 1e-9:
            best = (err, full)
    return best[1] if best else {"per_mac": 0.0, "per_element": 0.0}


def measure(variant: str, models: list[str], work: Path, log) -> dict:
    board, kernels = VARIANTS[variant]
    b = load_board(board)
    kinds: dict[str, dict] = {}
    done, left_out = {}, {}
    unit = None
    for name in models:
        path = MODELS[name]
        g = load_model(path)
        m = compile_graph(g, options=board_options(b, None, kernels), source_name=path.name)
        if not check_fit(m, b).fits:
            left_out[name] = "does not fit " + board
            continue
        try:
            r = run_bench(path, b, kernels=kernels, layers=True, samples=1, work_dir=work, log=log)
        except TinyDeployError as exc:
            left_out[name] = exc.message
            continue
        unit = r.unit
        done[name] = {"count": r.count, "macs": r.macs, "layers": len(r.layers)}
        for layer in r.layers:
            k = kinds.setdefault(layer.kind, {"count": 0, "macs": 0, "elements": 0, "layers": 0, "kernels": set(),
                                              "rows": []})
            elements = sum(_elems(m.graph.tensors[t].shape) for t in m.graph.ops[layer.index].outputs)
            k["count"] += layer.count
            k["macs"] += layer.macs
            k["elements"] += elements
            k["layers"] += 1
            k["kernels"].add(layer.kernel)
            k["rows"].append((layer.macs, elements, layer.count))
        log(f"{variant} {board} {name}: {r.count:,} {r.unit}, {len(r.layers)} layers")
    for k in kinds.values():
        k["per_mac"] = round(k["count"] / k["macs"], 4) if k["macs"] else None
        k["per_element"] = round(k["count"] / k["elements"], 4) if k["elements"] else None
        k["kernels"] = sorted(k["kernels"])
        k["fit"] = fit_kind(k["rows"])
        k["rows"] = [list(r) for r in k["rows"]]      # [macs, output elements, count] per layer
    total_c = sum(k["count"] for k in kinds.values())
    total_m = sum(k["macs"] for k in kinds.values())
    return {"board": board, "kernels": kernels, "unit": unit, "clock_hz": b.clock_hz, "models": done, "left_out": left_out,
            "per_mac_all": round(total_c / total_m, 4) if total_m else None, "kinds": dict(sorted(kinds.items()))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", choices=list(VARIANTS), help="variants to measure (default: all)")
    ap.add_argument("--models", nargs="*", choices=list(MODELS), help="models (default: all that fit)")
    ap.add_argument("-o", "--out", type=Path, default=OUT)
    ap.add_argument("--work-dir", type=Path, default=None, help="firmware projects (default: a temp folder)")
    args = ap.parse_args()
    variants = args.only or list(VARIANTS)
    models = args.models or list(MODELS)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="op-costs-"))
    log = lambda s: print(s, file=sys.stderr, flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False).stdout
    result = {"command": " ".join(["benchmarks/op_costs.py", *sys.argv[1:]]),
              "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
              "commit": commit.strip(),
              "what": "per op kind and kernel variant: count (instructions; AVR cycles) per MAC, and per output "
                      "element for ops without MACs; summed over the layers of the models measured (tinydeploy "
                      "bench per-layer counts, 1 random input each)",
              "variants": dict(old.get("variants", {}))}
    failed = []
    for v in variants:
        res = measure(v, models, work, log)
        if not res["kinds"]:
            failed.append(v)
        res["date"] = result["date"]
        res["commit"] = result["commit"]
        result["variants"][v] = res
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    for v, res in result["variants"].items():
        print(f"{v:10s} {res['board']:12s} {res.get('per_mac_all')} {res.get('unit')}/MAC over "
              f"{', '.join(res['models'])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
