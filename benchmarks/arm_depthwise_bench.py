"""Instructions per inference on the emulated Cortex-M4 (qemu-m4) of single DEPTHWISE_CONV_2D layers: the
reference kernel vs the arm-dsp kernel (td_depthwise_conv_s8_arm_dsp) and its in-place twin, per layer and
per MAC (requantization included):

  vww-96x96x8-s1    3x3 stride 1 SAME on 96x96x8 (MobileNet-v1 0.25 at 96x96, the VWW model's first block)
  vww-48x48x16-s2   3x3 stride 2 SAME on 48x48x16
  vww-24x24x32-s1   3x3 stride 1 SAME on 24x24x32
  dscnn-25x5x64     3x3 stride 1 SAME on 25x5x64 (the DS-CNN keyword-spotting model's depthwise layers)
  5x5-24x24x16-s1   5x5 stride 1 SAME on 24x24x16

Random int8 weights, per-channel quantization, ReLU; input zero point -128 like a ReLU output. Each
(layer, kernel) is compiled with kernels="reference" / "arm-dsp" (in-place planning off, or on for the
twin) and run in QEMU with -icount (SysTick x 40 instructions, tinydeploy.testing.target_cases); models
share firmwares while their arenas fit. Outputs are checked against LiteRT BUILTIN_REF.

    .venv/bin/python benchmarks/arm_depthwise_bench.py [--repeat 2] [--board qemu-m4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops.window import SAME, out_size
from tinydeploy.evaluate import reference_outputs
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.target_cases import run_on_board

INSTRUCTIONS_PER_TICK = 40  # SysTick at 25 MHz, -icount shift=0
ARENA_BUDGET = 190_000  # bytes of arenas per firmware (qemu-m4 links 256 KB of RAM)
LAYERS = {  # name: (h, w, c, filter, stride)
    "vww-96x96x8-s1": (96, 96, 8, 3, 1),
    "vww-48x48x16-s2": (48, 48, 16, 3, 2),
    "vww-24x24x32-s1": (24, 24, 32, 3, 1),
    "dscnn-25x5x64": (25, 5, 64, 3, 1),
    "5x5-24x24x16-s1": (24, 24, 16, 5, 1),
}
VARIANTS = {"reference": PlanOptions(kernels="reference", inplace=False),
            "arm-dsp": PlanOptions(kernels="arm-dsp", inplace=False),
            "arm-dsp in place": PlanOptions(kernels="arm-dsp")}


def dw_layer(h: int, w: int, c: int, k: int, stride: int, seed: int) -> tuple[bytes, int]:
    """One int8 depthwise layer (ReLU, per-channel weights) and its MAC count."""
    rng = np.random.default_rng(seed)
    oh, ow = out_size(SAME, h, k, stride), out_size(SAME, w, k, stride)
    b = ModelBuilder()
    x = b.tensor([1, h, w, c], "int8", 0.02, -128)
    w_scale = rng.uniform(0.005, 0.02, c)
    wt = b.tensor([1, k, k, c], "int8", w_scale, 0, data=rng.integers(-127, 128, (1, k, k, c)), axis=3)
    bias = b.tensor([c], "int32", 0.02 * w_scale, 0, data=rng.integers(-2000, 2000, c))
    y = b.tensor([1, oh, ow, c], "int8", 0.05, -128)
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y],
         options("DepthwiseConv2DOptions", padding=SAME, strideH=stride, strideW=stride, depthMultiplier=1,
                 fusedActivationFunction=1))
    return b.build([x], [y]), oh * ow * c * k * k


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=2, help="invokes per count (resolution 40/repeat)")
    ap.add_argument("--board", default="qemu-m4")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    jobs = []  # (layer, variant, model bytes, compiled, input)
    macs = {}
    for i, (name, (h, w, c, k, s)) in enumerate(LAYERS.items()):
        model, macs[name] = dw_layer(h, w, c, k, s, seed=i)
        x = rng.integers(-128, 128, (1, 1, h, w, c)).astype(np.int8)[0]
        for j, (variant, opts) in enumerate(VARIANTS.items()):
            prefix = f"l{i}v{j}"
            jobs.append((name, variant, model, compile_graph(parse_model(model, name=prefix), prefix=prefix,
                                                             options=opts), x))
    batches, size = [[]], 0
    for job in jobs:
        arena = job[3].plan.arena_bytes
        if batches[-1] and size + arena > ARENA_BUDGET:
            batches.append([])
            size = 0
        batches[-1].append(job)
        size += arena
    counts, exact = {}, True
    for batch in batches:
        with tempfile.TemporaryDirectory() as tmp:
            runs = run_on_board([j[3] for j in batch], [[j[4]] for j in batch], args.board, Path(tmp) / "fw",
                                repeat=args.repeat)
        for (name, variant, model, _, x), run in zip(batch, runs):
            counts[(name, variant)] = run.counts[0] * INSTRUCTIONS_PER_TICK / args.repeat
            ref = reference_outputs(model, [x])[0]
            exact &= bool((run.outputs[0].reshape(ref.shape) == ref).all())
    print(f"{args.board}: instructions per inference (SysTick x {INSTRUCTIONS_PER_TICK} / {args.repeat} invokes, "
          f"-icount shift=0), per MAC in brackets; outputs bit-exact with LiteRT: {'yes' if exact else 'NO'}")
    print(f"{'layer':<17} {'MACs':>9} " + " ".join(f"{v:>20}" for v in VARIANTS) + f" {'speedup':>8}")
    for name in LAYERS:
        cells = [f"{counts[(name, v)]:>12,.0f} ({counts[(name, v)] / macs[name]:.2f})" for v in VARIANTS]
        speedup = counts[(name, "reference")] / counts[(name, "arm-dsp")]
        print(f"{name:<17} {macs[name]:>9,} " + " ".join(f"{c:>20}" for c in cells) + f" {speedup:>7.2f}x")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
