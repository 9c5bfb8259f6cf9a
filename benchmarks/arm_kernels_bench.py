"""Instructions per inference on the emulated Cortex-M4 (qemu-m4): reference kernels vs the arm-dsp
variants (PlanOptions.kernels), for FULLY_CONNECTED-heavy models built with random int8 weights:

  fc640x128   one FULLY_CONNECTED 640 -> 128 (the shape of MLPerf Tiny's anomaly-detection layers)
  ad01-shape  the MLPerf Tiny AD autoencoder's layer stack, 640-128-128-128-128-8-128-128-128-128-640
              (ReLU between layers; random weights: a stand-in with the real model's shapes)

Every variant of every model goes into ONE firmware (tinydeploy.testing.target_cases), which runs each
invoke `--repeat` times. Counting: QEMU runs with `-icount shift=0` (one instruction = 1 ns of virtual
time) and the firmware reads SysTick at 25 MHz, so one tick = 40 instructions; the count over the repeats
divided by the repeats gives instructions per inference to 40/repeat. Outputs are checked against LiteRT
BUILTIN_REF. The TFLM + CMSIS-NN count of the real ad01 model is read from benchmarks/baselines.md.

    .venv/bin/python benchmarks/arm_kernels_bench.py [--repeat 20] [--board qemu-m4]
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.evaluate import reference_outputs
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.target_cases import run_on_board

AD01 = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
INSTRUCTIONS_PER_TICK = 40  # SysTick at 25 MHz, -icount shift=0


def fc_stack(sizes: list[int], seed: int) -> bytes:
    """FULLY_CONNECTED layers sizes[0] -> sizes[1] -> ..., int8, per-channel weights, ReLU but the last."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    scale = 0.05
    x = first = b.tensor([1, sizes[0]], "int8", scale, int(rng.integers(-20, 20)))
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        w_scale = rng.uniform(0.002, 0.01, n_out)
        w = b.tensor([n_out, n_in], "int8", w_scale, 0, data=rng.integers(-127, 128, (n_out, n_in)), axis=0)
        bias = b.tensor([n_out], "int32", scale * w_scale, 0, data=rng.integers(-2000, 2000, n_out))
        out_scale = scale * float(np.sqrt(n_in)) * 0.3
        y = b.tensor([1, n_out], "int8", out_scale, -128 if i < len(sizes) - 2 else 0)
        act = 1 if i < len(sizes) - 2 else 0
        b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions", fusedActivationFunction=act))
        x, scale = y, out_scale
    return b.build([first], [x])


def tally(keys: list[tuple[str, str, bytes]], inputs: list[list[np.ndarray]], runs: list, repeat: int
          ) -> tuple[dict[tuple[str, str], float], bool]:
    """Instructions per invoke of each (name, kernels) and whether every output equals LiteRT BUILTIN_REF's."""
    counts: dict[tuple[str, str], float] = {}
    exact = True
    for (name, kernels, model), xs, run in zip(keys, inputs, runs):
        counts[(name, kernels)] = run.counts[0] * INSTRUCTIONS_PER_TICK / repeat
        ref = reference_outputs(model, xs)[0]
        exact &= bool((run.outputs[0].reshape(ref.shape) == ref).all())
    return counts, exact


def tflm_cmsis_ad01() -> int | None:
    """The TFLM + CMSIS-NN instruction count of ad01 in benchmarks/baselines.md, if it is there."""
    for line in (ROOT / "benchmarks" / "baselines.md").read_text().splitlines():
        if line.startswith("| ad01"):
            return int(re.sub(r"[^\d]", "", line.split("|")[2]))
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="invokes per count (resolution 40/repeat)")
    ap.add_argument("--board", default="qemu-m4")
    args = ap.parse_args()
    models = {"fc640x128": fc_stack([640, 128], 1), "ad01-shape": fc_stack(AD01, 2)}
    compiled, inputs, keys = [], [], []
    rng = np.random.default_rng(0)
    for name, model in models.items():
        x = None
        for kernels in ("reference", "arm-dsp"):
            prefix = f"{name.replace('-', '_')}_{kernels.replace('-', '_')}"
            m = compile_graph(parse_model(model, name=prefix), prefix=prefix, options=PlanOptions(kernels=kernels))
            t = m.graph.tensors[m.graph.inputs[0]]
            x = rng.integers(-128, 128, (1, *t.shape)).astype(np.int8) if x is None else x
            compiled.append(m)
            inputs.append([x])
            keys.append((name, kernels, model))
    with tempfile.TemporaryDirectory() as tmp:
        runs = run_on_board(compiled, inputs, args.board, Path(tmp) / "fw", repeat=args.repeat)
    counts, exact = tally(keys, inputs, runs, args.repeat)
    print(f"{args.board}: instructions per inference (SysTick x {INSTRUCTIONS_PER_TICK} / {args.repeat} invokes, "
          f"-icount shift=0); outputs bit-exact with LiteRT: {'yes' if exact else 'NO'}")
    print(f"{'model':<12} {'reference':>12} {'arm-dsp':>12} {'ratio':>7}")
    for name in models:
        ref, arm = counts[(name, "reference")], counts[(name, "arm-dsp")]
        print(f"{name:<12} {ref:>12,.0f} {arm:>12,.0f} {ref / arm:>6.2f}x")
    base = tflm_cmsis_ad01()
    if base:
        arm = counts[("ad01-shape", "arm-dsp")]
        print(f"TFLM+CMSIS-NN on the real ad01 (benchmarks/baselines.md): {base:,} instructions; "
              f"arm-dsp ad01-shape / that = {arm / base:.2f}")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
