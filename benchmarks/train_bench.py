#!/usr/bin/env python3
"""The on-device training benchmark (issue 17): benchmarks/train_demo.py with the device figures from the board
(--board qemu-m4 unless another --board is given). `--json` prints sram_bytes, full_update_sram_bytes, float_gain,
device_gain, step_instructions and the rest, all measured in that run.

Usage: benchmarks/train_bench.py [--json [FILE]] [train_demo.py's options]
"""
from __future__ import annotations

import sys

from train_demo import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not any(a == "--board" or a.startswith("--board=") for a in argv):
        argv = ["--board", "qemu-m4", *argv]
    sys.exit(main(argv))
