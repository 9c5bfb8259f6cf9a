#!/usr/bin/env python3
"""Instructions per inference of the repo's MLPerf-Tiny-class models on an emulated board (default qemu-m4):
tinydeploy with the arm-dsp and the reference kernels (`tinydeploy bench --compare`, exact TCG plugin
counts, outputs checked against LiteRT BUILTIN_REF), beside TFLM + CMSIS-NN and TFLM reference read from
benchmarks/baselines.md (measured there with the same compiler, flags and counting), the ratios and their
geometric mean. Code bytes (without weights) beside TFLM's code+rodata.

  kws_ref_model, resnet8_int8   tests/data/models (MLPerf Tiny KWS and IC)
  vww96_int8                    models/ (our MobileNetV1-0.25 96x96 VWW stand-in; baseline row vww_96)
  ad01-shape                    FC autoencoder 640-128-128-128-128-8-128-128-128-128-640 with random int8
                                weights (arm_kernels_bench.fc_stack; baseline row ad01, the real model)

Exits non-zero when a model fails or has no baseline row.

    .venv/bin/python benchmarks/model_bench.py [--board qemu-m4] [--only kws_ref_model ...] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from arm_kernels_bench import AD01, fc_stack
from bench_report import exit_code, geomean, model_table, reported
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinydeploy.evaluate import run_bench  # noqa: E402

BASELINES = ROOT / "benchmarks" / "baselines.md"
MODELS = {  # name -> (path or None for the generated autoencoder, row of baselines.md it is compared with)
    "kws_ref_model": (ROOT / "tests" / "data" / "models" / "kws_ref_model.tflite", "kws_ref_model"),
    "resnet8_int8": (ROOT / "tests" / "data" / "models" / "resnet8_int8.tflite", "resnet8_int8"),
    "vww96_int8": (ROOT / "models" / "vww96_int8.tflite", "vww_96"),
    "ad01-shape": (None, "ad01"),
}
TARGET_GEOMEAN, TARGET_EACH = 0.60, 0.75  # issue 12: arm-dsp / TFLM+CMSIS-NN on qemu-m4


def _int(cell: str) -> int:
    return int(re.sub(r"[^\d]", "", cell))


def read_baselines(path: Path = BASELINES) -> dict[str, dict[str, int]]:
    """Rows of the TFLM table: first word of the model cell -> cmsis, ref instructions, code bytes."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not re.fullmatch(r"[\d,]+", cells[1]):
            continue
        code = [_int(x) for x in cells[4].split("/")]
        rows[cells[0].split()[0]] = {"cmsis": _int(cells[1]), "ref": _int(cells[2]), "code_cmsis": code[0],
                                     "code_ref": code[-1]}
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="qemu-m4")
    ap.add_argument("--only", nargs="*", choices=sorted(MODELS), help="a subset of the models")
    ap.add_argument("--samples", type=int, default=1, help="random inputs per model (count: their mean)")
    ap.add_argument("--json", type=Path, help="write every row as JSON here")
    args = ap.parse_args()
    base = read_baselines()
    table = model_table(f"{args.board}: instructions per inference; TFLM figures from benchmarks/baselines.md",
                        ("model", "MACs", "ours arm-dsp", "ours reference", "TFLM+CMSIS-NN", "TFLM ref",
                         "arm-dsp / CMSIS-NN", "reference / TFLM ref", "arm-dsp / reference",
                         "code arm-dsp (B)", "code CMSIS-NN (B)"))
    failed, ratios, report, method = [], {}, {}, "-"
    with tempfile.TemporaryDirectory(prefix="td-model-bench-") as tmp:
        for name in args.only or MODELS:
            path, row = MODELS[name]
            with reported(failed, name, table):
                if path is None:
                    path = Path(tmp) / "ad01_shape.tflite"
                    path.write_bytes(fc_stack(AD01, 2))
                if row not in base:
                    raise RuntimeError(f"no row {row!r} in {BASELINES.name}")
                r = run_bench(path, args.board, kernels="arm-dsp", layers=False, samples=args.samples,
                              work_dir=Path(tmp) / "work", compare=True)
                ref, b, method = r.reference, base[row], r.method
                ratios[name] = r.count / b["cmsis"]
                table.add_row(name, f"{r.macs:,}", f"{r.count:,}", f"{ref.count:,}", f"{b['cmsis']:,}",
                              f"{b['ref']:,}", f"{ratios[name]:.3f}", f"{ref.count / b['ref']:.3f}",
                              f"{r.count / ref.count:.3f}", f"{r.code_bytes:,}", f"{b['code_cmsis']:,}")
                report[name] = {"baseline_row": row, "ours": r.as_dict(), "tflm_cmsis_nn": b["cmsis"],
                                "tflm_reference": b["ref"], "ratio_to_cmsis_nn": round(ratios[name], 4)}
    Console(width=200).print(table)
    if ratios:
        gm, worst = geomean(ratios.values()), max(ratios.values())
        print(f"counted: {method}; every output bit-exact with LiteRT BUILTIN_REF")
        print(f"arm-dsp / TFLM+CMSIS-NN: geomean {gm:.3f} (target <= {TARGET_GEOMEAN}), worst {worst:.3f} "
              f"(target <= {TARGET_EACH}) over {len(ratios)} models")
        report["geomean_ratio_to_cmsis_nn"] = round(gm, 4)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return exit_code(failed)


if __name__ == "__main__":
    sys.exit(main())
