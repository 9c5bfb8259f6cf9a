"""On-device evaluation of the shared models (and the digits models) on the emulated boards.

    .venv/bin/python benchmarks/device_eval.py [-n 100] [--boards qemu-m4,qemu-rv32,simavr-mega] [--json out.json]

For each (model, board) that fits: eval on N seeded random inputs (the digits models: their labelled test
set), bit-exact agreement with LiteRT BUILTIN_REF, instructions (QEMU) or cycles (simavr) per inference
(mean/p50/p99, and whether a second run of 3 inputs in a fresh emulator gives the same counts), arena +
measured stack bytes, top-1 accuracy where labelled, and the link rate. A (model, board) that does not fit is
listed as such; any other error is printed and makes the exit code non-zero.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile.compiler import compile_graph  # noqa: E402
from tinydeploy.compile.tflite.reader import load_model  # noqa: E402
from tinydeploy.errors import TinyDeployError  # noqa: E402
from tinydeploy.evaluate.evaluation import evaluate, report_dict  # noqa: E402
from tinydeploy.link.session import open_session  # noqa: E402
from tinydeploy.paths import cache_dir  # noqa: E402
from tinydeploy.target.fit import check_fit  # noqa: E402
from tinydeploy.testing.opcheck import random_inputs  # noqa: E402

PUBLIC_MODELS = ROOT / "tests" / "data" / "models"
DIGITS = ROOT / "models" / "digits_test.npz"
MODELS = [(PUBLIC_MODELS / "hello_world_int8.tflite", None), (PUBLIC_MODELS / "kws_ref_model.tflite", None),
          (PUBLIC_MODELS / "resnet8_int8.tflite", None), (ROOT / "models" / "digits_cnn_int8.tflite", "x_int8"),
          (ROOT / "models" / "digits_mlp_int8.tflite", "x_mlp_int8")]


def run(model: Path, board: str, xs, ys):
    pdir = cache_dir() / "bench-device" / f"{model.stem}-{board}"
    with open_session(model, board, project_dir=pdir, timeout=10.0) as s:
        r = evaluate(s, xs, ys)
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100, help="random inputs per shared model (default 100)")
    ap.add_argument("--boards", default="qemu-m4,qemu-rv32,simavr-mega")
    ap.add_argument("--json", type=Path, help="write every report here")
    args = ap.parse_args()
    rows, reports, errors = [], {}, []
    for board in args.boards.split(","):
        for model, key in MODELS:
            t0 = time.monotonic()
            try:
                g = load_model(model)
                fit = check_fit(compile_graph(g, source_name=model.name), board)
                if not fit.fits:
                    print(f"{model.stem:18} {board:12} does not fit: {'; '.join(fit.lines())}", flush=True)
                    continue
                if key:
                    d = np.load(DIGITS)
                    xs, ys = [d[key]], d["y"]
                else:
                    xs, ys = random_inputs(g, args.n, np.random.default_rng(2024)), None
                r = run(model, board, xs, ys)
                again = run(model, board, [x[:3] for x in xs], None)
            except TinyDeployError as exc:
                errors.append(f"{model.stem}@{board}")
                print(f"{model.stem:18} {board:12} ERROR: {exc}", flush=True)
                continue
            rep = report_dict(r)
            rep["deterministic_rerun"] = again.counts.tolist() == r.counts[:3].tolist()
            reports[f"{model.stem}@{board}"] = rep
            lat, mem = rep["latency"], rep["memory"]
            acc = rep.get("accuracy")
            line = (f"{model.stem:18} {board:12} n={r.n:<4} bit-exact {rep['bit_exact']['agree']}/{r.n}  "
                    f"{lat['mean']:>13,.0f} {lat['unit']:<12} (p50 {lat['p50']:,.0f}, p99 {lat['p99']:,.0f}, "
                    f"rerun {'same' if rep['deterministic_rerun'] else 'DIFFERENT'})  arena {mem['arena_bytes']:,} B "
                    f"+ stack {mem['stack_peak_bytes']:,} B"
                    + (f"  top-1 device {acc['device']:.2%} host {acc['host']:.2%}" if acc else "")
                    + f"  [{time.monotonic() - t0:.0f} s]")
            print(line, flush=True)
            rows.append(line)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n")
    bad = [k for k, v in reports.items() if not v["bit_exact"]["all"] or not v["deterministic_rerun"]]
    if bad:
        print("NOT bit-exact or not deterministic:", ", ".join(bad))
    if errors:
        print("FAILED (error, no result):", ", ".join(errors))
    return 1 if bad or errors else 0


if __name__ == "__main__":
    sys.exit(main())
