"""The baseline: TFLite Micro from the `tflite-micro` pip package, measured in a subprocess."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .errors import TinyDeployError

_PROBE = r"""
import json, os, sys, tempfile, time
import numpy as np
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1])
repeat = int(sys.argv[2])
fd = os.dup(2); tmp = tempfile.TemporaryFile(); os.dup2(tmp.fileno(), 2)
it.print_allocations()
os.dup2(fd, 2); tmp.seek(0); log = tmp.read().decode(errors="replace")
seconds = 0.0
if repeat:
    d = it.get_input_details(0)
    x = np.zeros(d["shape"], d["dtype"])
    it.set_input(x, 0); it.invoke()
    t0 = time.perf_counter()
    for _ in range(repeat):
        it.invoke()
    seconds = (time.perf_counter() - t0) / repeat
print(json.dumps({"log": log, "seconds": seconds}))
"""


def tflm_measure(model: str | Path, repeat: int = 0) -> dict[str, int | float]:
    """TFLM's arena total/head bytes (print_allocations) and, with repeat, host seconds per invoke.
    Raises TinyDeployError when TFLM cannot run the model or its log has no arena sizes (never a made-up number)."""
    r = subprocess.run([sys.executable, "-c", _PROBE, str(model), str(repeat)], capture_output=True, text=True,
                       timeout=900)
    if r.returncode != 0:
        err = r.stderr.strip().splitlines()
        raise TinyDeployError(f"TFLM could not run {Path(model).name}: {err[-1] if err else f'exit {r.returncode}'}",
                              "install it with: pip install tflite-micro")
    data = json.loads(r.stdout.strip().splitlines()[-1])

    def grab(what: str) -> int:
        m = re.search(rf"Arena allocation {what} (\d+) bytes", data["log"])
        if not m:
            raise TinyDeployError(f"TFLM's print_allocations() log for {Path(model).name} has no "
                                  f"'Arena allocation {what} N bytes' line (its log format changed?): "
                                  f"{data['log'].strip()[:200]!r}", "update the pattern in tinydeploy/tflm.py")
        return int(m.group(1))

    return {"arena_total_bytes": grab("total"), "arena_head_bytes": grab("head"), "seconds": data["seconds"]}
