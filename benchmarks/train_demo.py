#!/usr/bin/env python3
"""The on-device training demo (issue 17): one sparse update of the demo MobileNet (models/train_demo_*),
in float TensorFlow and in our int8 training step, measured in one run, with the memory of a full update.

(a) float: tinydeploy.train.tf_reference (fake-quant forward on the dequantized int8 weights);
(b) int8: the generated training step, on the host (HostTrainer) or on a board (--board qemu-m4:
    train_on_board, RAM and instructions per step measured on the device);
(c) the full update (every weight and bias): its training buffer + state bytes from tinydeploy.train.
Both fine-tunes see the same samples in the same order (numpy default_rng(seed).permutation per epoch),
the same epochs, lr and momentum; accuracies on the target-domain test split (int8: LiteRT BUILTIN_REF
on the tuned .tflite). recovered = int8 gain / float gain.

Usage: benchmarks/train_demo.py [--update auto (default) --budget 256KB | --update SPEC] [--board host|qemu-m4]
       [--epochs 4] [--lr 0.005] [--momentum 0] [--train-samples N] [--json [FILE]]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from tinydeploy.compile import parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import reference_outputs
from tinydeploy.train import HostTrainer, build_train_graph, generate_train_c, parse_update, replace_params
from tinydeploy.train.auto import choose_update, describe, full_update, memory, parse_budget
from tinydeploy.train.tf_reference import FloatTrainer

MODEL = ROOT / "models" / "train_demo_int8.tflite"
DATA = ROOT / "models" / "train_demo_data.npz"
#: the demo's sparse update: auto's choice for --budget (most expected gain per byte); a fixed alternative
#: is the paper's bias + last layer, --update bias:all,op27:w
DEFAULT_UPDATE = "auto"


def orders(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def accuracy(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    out = reference_outputs(model, [x])[0].reshape(len(y), -1)
    return float(np.mean(np.argmax(out, axis=1) == y))


def float_run(model: bytes, update, x, y, xt, yt, args) -> dict:
    t0 = time.monotonic()
    ft = FloatTrainer(model, update, momentum=args.momentum)
    before = ft.accuracy(xt, yt)
    for order in orders(len(y), args.epochs, args.seed):
        for i in order:
            ft.step(x[i], int(y[i]), args.lr)
    after = ft.accuracy(xt, yt)
    return {"before": before, "after": after, "gain": after - before, "seconds": time.monotonic() - t0}


def host_run(model: bytes, update, x, y, args) -> tuple[bytes, dict]:
    t0 = time.monotonic()
    g = parse_model(model)
    ht = HostTrainer(generate_train_c(build_train_graph(g, update), "demo", momentum=args.momentum))
    try:
        for order in orders(len(y), args.epochs, args.seed):
            for i in order:
                ht.step(x[i], int(y[i]), args.lr)
        tuned = replace_params(model, ht.values())
    finally:
        ht.close()
    return tuned, {"device": "host (HostTrainer)", "seconds": time.monotonic() - t0}


def board_run(model_path: Path, update, x, y, args) -> tuple[bytes, dict]:
    from tinydeploy.train.session import train_on_board
    t0 = time.monotonic()
    r = train_on_board(model_path, args.board, x, y, update, epochs=args.epochs, lr=args.lr,
                       momentum=args.momentum, seed=args.seed)
    c = r.step_counts
    return r.tuned, {"device": r.device, "seconds": time.monotonic() - t0, "ram_items": dict(r.ram_items),
                     "ram_bytes": r.ram_bytes, "step_unit": r.unit, "step_mean": float(c.mean()) if c.size else 0.0}


def run(args) -> dict:
    model_path = Path(args.model)
    for f in (model_path, Path(args.data)):
        if not f.is_file():
            raise TinyDeployError(f"{f} not found", "run models/make_train_demo.py or pass --model/--data")
    model = model_path.read_bytes()
    d = np.load(args.data)
    n = args.train_samples or len(d["y_train"])
    x, y = d["x_train"][:n], d["y_train"][:n].astype(np.int64)
    xt, yt = d["x_test"], d["y_test"].astype(np.int64)
    g = parse_model(model)
    budget = parse_budget(args.budget)
    auto = None
    if args.update == "auto":
        auto = choose_update(g, budget, x, y, momentum=args.momentum, lr=args.lr, epochs=args.epochs)
        update = auto.update
    else:
        update = parse_update(args.update, g)
    spec = describe(g, update)
    buf, state = memory(g, update, args.momentum)
    full_buf, full_state = memory(g, full_update(g), args.momentum)
    fl = float_run(model, update, x, y, xt, yt, args)
    if args.board == "host":
        tuned, dev = host_run(model, update, x, y, args)
    else:
        tuned, dev = board_run(model_path, update, x, y, args)
    before, after = accuracy(model, xt, yt), accuracy(tuned, xt, yt)
    q = {"before": before, "after": after, "gain": after - before, **dev,
         "tuned_sha256": hashlib.sha256(tuned).hexdigest()}
    sram = dev.get("ram_bytes", buf + state)
    n_params = sum(build_train_graph(g, update).updated_count(t) for t in update.tensors(g))
    return {"model": model_path.name, "update": spec, "auto": auto is not None, "board": args.board,
            "epochs": args.epochs, "lr": args.lr, "momentum": args.momentum, "seed": args.seed,
            "train_samples": len(y), "test_samples": len(yt), "updated_params": int(n_params),
            "float": fl, "int8": q, "float_gain": fl["gain"], "device_gain": q["gain"],
            "recovered": q["gain"] / fl["gain"] if fl["gain"] > 0 else None,
            "buffer_bytes": buf, "state_bytes": state, "sram_bytes": sram,
            "sram_measured_on_board": args.board != "host", "budget_bytes": budget,
            "full_update_buffer_bytes": full_buf, "full_update_state_bytes": full_state,
            "full_update_sram_bytes": full_buf + full_state,
            "step_instructions": dev.get("step_mean") if dev.get("step_unit") == "instructions" else None}


def show(r: dict) -> None:
    fl, q = r["float"], r["int8"]
    print(f"{r['model']}: update {r['update']}{' (auto)' if r['auto'] else ''}, {r['updated_params']:,} parameters; "
          f"{r['train_samples']} samples x {r['epochs']} epochs, lr {r['lr']}, momentum {r['momentum']}")
    print(f"  float TF (fake-quant)  accuracy {fl['before']:.2%} -> {fl['after']:.2%}  gain {fl['gain']:+.2%}")
    print(f"  int8 ({q['device']})  accuracy {q['before']:.2%} -> {q['after']:.2%}  gain {q['gain']:+.2%}")
    rec = r["recovered"]
    print(f"  recovered {'n/a (no float gain)' if rec is None else f'{rec:.1%}'} of the float gain (goal >= 90%)")
    src = "measured on the board" if r["sram_measured_on_board"] else "buffer + state, host"
    print(f"  training SRAM {r['sram_bytes']:,} B ({src}) vs budget {r['budget_bytes']:,} B: "
          f"{'fits' if r['sram_bytes'] <= r['budget_bytes'] else 'OVER'}")
    for k, v in q.get("ram_items", {}).items():
        print(f"    {k}: {v:,} B")
    print(f"  full update: buffer {r['full_update_buffer_bytes']:,} + state {r['full_update_state_bytes']:,} = "
          f"{r['full_update_sram_bytes']:,} B ({r['full_update_sram_bytes'] / r['budget_bytes']:.1f}x the budget)")
    if r["step_instructions"]:
        print(f"  training step: {r['step_instructions']:,.0f} instructions (mean)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(MODEL))
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--update", default=DEFAULT_UPDATE, help=f"update spec or auto (default {DEFAULT_UPDATE})")
    ap.add_argument("--budget", default="256KB", help="memory budget (auto's limit; the goal printed)")
    ap.add_argument("--board", default="host", help="host (HostTrainer) or an emulated board, e.g. qemu-m4")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-samples", type=int, default=0, help="use the first N training samples (0: all)")
    ap.add_argument("--json", nargs="?", const="-", help="write the results as JSON (to FILE, or stdout)")
    args = ap.parse_args(argv)
    try:
        r = run(args)
    except TinyDeployError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json == "-":
        print(json.dumps(r, indent=2))
    else:
        show(r)
        if args.json:
            Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
