"""The baseline: TFLite Micro from the `tflite-micro` pip package, measured in a subprocess."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..errors import TinyDeployError

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
if repeat:  # per sample: set the inputs, one warm-up invoke, then `repeat` invokes timed (mean per invoke)
    data = np.load(sys.argv[3])
    xs = [data[f"input_{i}"] for i in range(len(data.files))]
    total = 0.0
    for s in range(len(xs[0])):
        for i, x in enumerate(xs):
            d = it.get_input_details(i)
            it.set_input(x[s].reshape(d["shape"]).astype(d["dtype"]), i)
        it.invoke()
        t0 = time.perf_counter()
        for _ in range(repeat):
            it.invoke()
        total += time.perf_counter() - t0
    seconds = total / (len(xs[0]) * repeat)
print(json.dumps({"log": log, "seconds": seconds}))
"""


def tflm_measure(model: str | Path, repeat: int = 0,
                 inputs: list[np.ndarray] | None = None) -> dict[str, int | float]:
    """TFLM's arena total/head bytes (print_allocations) and, with repeat, host seconds per invoke: the mean
    of `repeat` invoke() calls from Python per sample of `inputs` ([N, *shape] per model input), after one
    warm-up invoke per sample. Raises TinyDeployError when TFLM cannot run the model or its log has no arena
    sizes (never a made-up number)."""
    if repeat and not inputs:
        raise ValueError("timing TFLM needs the inputs to time it on")
    with tempfile.TemporaryDirectory(prefix="td-tflm-") as tmp:
        npz = Path(tmp) / "inputs.npz"
        np.savez(npz, **{f"input_{i}": x for i, x in enumerate(inputs or [])})
        r = subprocess.run([sys.executable, "-c", _PROBE, str(model), str(repeat), str(npz)],
                           capture_output=True, text=True, timeout=900)
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
