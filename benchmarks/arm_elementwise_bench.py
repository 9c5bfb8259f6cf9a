"""Instructions per element on the emulated Cortex-M4 (qemu-m4): the reference kernels vs the arm-dsp
ADD / SUB / MUL and pooling kernels (PlanOptions.kernels), on single-op int8 models:

  add-r8-1/2/3  resnet8_int8's three residual ADDs (their shapes, scales, zero points and fused ReLU)
  sub, mul      32x32x16, random scales (mul6: MUL with a fused ReLU6 that clamps, the packed clamp)
  add-relu6     32x32x16 ADD whose ReLU6 clamps inside the int8 range (the per-element clamp loop)
  avg-8x8x64    resnet8's global average pool;  avg-25x5x64  kws_ref_model's
  avg3x3, max2x2  3x3 stride-1 SAME average pool on 16x16x32, 2x2 stride-2 max pool on 32x32x16
  max-digits    digits_cnn_int8's 2x2 stride-2 max pool on 8x8x16

Per element: of the output for ADD/SUB/MUL, of the input for pooling. The models go into as few firmwares
as their static arenas allow (tinydeploy.testing.target_cases), each invoke run `--repeat` times; QEMU runs with
`-icount shift=0` and SysTick at 25 MHz counts 40 instructions a tick (benchmarks/arm_kernels_bench.py).
Outputs are checked against LiteRT BUILTIN_REF.

    .venv/bin/python benchmarks/arm_elementwise_bench.py [--repeat 20] [--board qemu-m4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arm_kernels_bench import INSTRUCTIONS_PER_TICK, tally

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.target_cases import run_in_batches

RAM_FOR_ARENAS = 160 * 1024  # of qemu-m4's 256 KB: every model of a firmware has its own static arena
OPTS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}


def binary(kind: str, shape, q1, q2, qo, act: int) -> tuple[bytes, int]:
    b = ModelBuilder()
    x, w, y = b.tensor(shape, "int8", *q1), b.tensor(shape, "int8", *q2), b.tensor(shape, "int8", *qo)
    b.op(kind, [x, w], [y], options(OPTS[kind], fusedActivationFunction=act))
    return b.build([x, w], [y]), int(np.prod(shape))


def pool(kind: str, hwc, f, s, pad: int, out_hw, q) -> tuple[bytes, int]:
    b = ModelBuilder()
    x, y = b.tensor([1, *hwc], "int8", *q), b.tensor([1, *out_hw, hwc[2]], "int8", *q)
    b.op(kind, [x], [y], options("Pool2DOptions", padding=pad, filterHeight=f[0], filterWidth=f[1], strideH=s,
                                 strideW=s))
    return b.build([x], [y]), int(np.prod(hwc))


def models() -> dict[str, tuple[bytes, int]]:
    r = (32, 32, 16)
    return {
        "add-r8-1": binary("ADD", [1, 32, 32, 16], (0.03939, -128), (0.10419, 4), (0.05095, -128), 1),
        "add-r8-2": binary("ADD", [1, 16, 16, 32], (0.04476, -17), (0.11312, 4), (0.05324, -128), 1),
        "add-r8-3": binary("ADD", [1, 8, 8, 64], (0.08386, 38), (0.21724, -2), (0.12707, -128), 1),
        "sub": binary("SUB", [1, *r], (0.05, 3), (0.031, -20), (0.07, 10), 0),
        "mul": binary("MUL", [1, *r], (0.05, 3), (0.031, -20), (0.02, 10), 0),
        "mul6": binary("MUL", [1, *r], (0.05, 3), (0.031, -20), (0.02, -128), 3),
        "add-relu6": binary("ADD", [1, *r], (0.05, 3), (0.031, -20), (0.04, -128), 3),
        "avg-8x8x64": pool("AVERAGE_POOL_2D", (8, 8, 64), (8, 8), 1, 1, (1, 1), (0.12707, -128)),
        "avg-25x5x64": pool("AVERAGE_POOL_2D", (25, 5, 64), (25, 5), 1, 1, (1, 1), (0.08024, -128)),
        "avg3x3": pool("AVERAGE_POOL_2D", (16, 16, 32), (3, 3), 1, 0, (16, 16), (0.05, -7)),
        "max2x2": pool("MAX_POOL_2D", r, (2, 2), 2, 1, (16, 16), (0.05, -7)),
        "max-digits": pool("MAX_POOL_2D", (8, 8, 16), (2, 2), 2, 1, (4, 4), (0.05, -128)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="invokes per count (resolution 40/repeat)")
    ap.add_argument("--board", default="qemu-m4")
    args = ap.parse_args()
    cases = models()
    compiled, inputs, keys = [], [], []
    rng = np.random.default_rng(0)
    for name, (model, _) in cases.items():
        xs = None
        for kernels in ("reference", "arm-dsp"):
            prefix = f"{name.replace('-', '_')}_{kernels.replace('-', '_')}"
            m = compile_graph(parse_model(model, name=prefix), prefix=prefix, options=PlanOptions(kernels=kernels))
            xs = xs or [rng.integers(-128, 128, (1, *m.graph.tensors[t].shape)).astype(np.int8) for t in m.graph.inputs]
            arm = "_arm_dsp(" in m.source
            assert arm == (kernels == "arm-dsp"), f"{name}: {kernels} compiled {'with' if arm else 'without'} arm-dsp"
            compiled.append(m)
            inputs.append(xs)
            keys.append((name, kernels, model))
    with tempfile.TemporaryDirectory() as tmp:  # firmwares whose static arenas fit the board's RAM together
        runs = run_in_batches(compiled, inputs, args.board, Path(tmp), RAM_FOR_ARENAS, repeat=args.repeat)
    counts, exact = tally(keys, inputs, runs, args.repeat)
    print(f"{args.board}: instructions per invoke and per element (SysTick x {INSTRUCTIONS_PER_TICK} / {args.repeat} "
          f"invokes, -icount shift=0); outputs bit-exact with LiteRT: {'yes' if exact else 'NO'}")
    print(f"{'model':<12} {'elements':>8} {'reference':>11} {'arm-dsp':>11} {'ref/elem':>9} {'arm/elem':>9} "
          f"{'ratio':>7}")
    for name, (_, elements) in cases.items():
        ref, arm = counts[(name, "reference")], counts[(name, "arm-dsp")]
        print(f"{name:<12} {elements:>8} {ref:>11,.0f} {arm:>11,.0f} {ref / elements:>9.2f} {arm / elements:>9.2f} "
              f"{ref / arm:>6.2f}x")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
