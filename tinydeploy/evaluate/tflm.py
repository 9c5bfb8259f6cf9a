"""TFLite Micro from the `tflite-micro` pip package, in a subprocess (a model it cannot run may abort it):
its arena measured (the baseline), and its outputs (the reference when LiteRT refuses a model)."""
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


# argv: model, then "-" (only load it) or inputs.npz outputs.npz. The arena is generous: it only
# has to hold the model's tensors, and a too-small one is an error here, not a different result.
_RUN = r"""
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
data = open(sys.argv[1], "rb").read()
it = runtime.Interpreter.from_bytes(data, arena_size=max(len(data) * 10, 16 << 20))
if sys.argv[2] != "-":
    xs = np.load(sys.argv[2])
    xs = [xs[f"input_{i}"] for i in range(len(xs.files))]
    n_out = runtime.schema_fb.Model.GetRootAs(data, 0).Subgraphs(0).OutputsLength()
    outs = [[] for _ in range(n_out)]
    for s in range(xs[0].shape[0]):
        it.reset()
        for i, x in enumerate(xs):
            d = it.get_input_details(i)
            it.set_input(np.ascontiguousarray(x[s]).reshape(d["shape"]).astype(d["dtype"]), i)
        it.invoke()
        for k, o in enumerate(outs):
            o.append(np.array(it.get_output(k)))
    np.savez(sys.argv[3], **{f"output_{k}": np.stack(o) for k, o in enumerate(outs)})
"""


def _model_file(model: str | Path | bytes, tmp: str) -> Path:
    if isinstance(model, (bytes, bytearray)):
        path = Path(tmp) / "model.tflite"
        path.write_bytes(bytes(model))
        return path
    return Path(model)


def _run_tflm(model: str | Path | bytes, args: list[str], tmp: str) -> None:
    name = "the model" if isinstance(model, (bytes, bytearray)) else Path(model).name
    try:
        r = subprocess.run([sys.executable, "-c", _RUN, str(_model_file(model, tmp)), *args],
                           capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        raise TinyDeployError(f"TFLM did not finish running {name} within an hour") from None
    if r.returncode != 0:
        err = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
        why = err[-1].strip() if err else f"exit status {r.returncode}"
        raise TinyDeployError(f"TFLM refused the model: {why}", "is `tflite-micro` installed (pip install "
                              "tflite-micro), and does TFLM support every op of the model?")


def tflm_check(model: str | Path | bytes) -> None:
    """Raise TinyDeployError unless TFLM's interpreter loads the model and allocates its tensors."""
    with tempfile.TemporaryDirectory(prefix="td-tflm-") as tmp:
        _run_tflm(model, ["-"], tmp)


def tflm_outputs(model: str | Path | bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """TFLM's outputs for a batch (inputs[i] is [N, *shape_i]; variables reset before each sample), as
    [N, *out_shape] arrays like reference_outputs."""
    with tempfile.TemporaryDirectory(prefix="td-tflm-") as tmp:
        fin, fout = Path(tmp) / "inputs.npz", Path(tmp) / "outputs.npz"
        np.savez(fin, **{f"input_{i}": np.ascontiguousarray(x) for i, x in enumerate(inputs)})
        _run_tflm(model, [str(fin), str(fout)], tmp)
        with np.load(fout) as out:
            return [out[f"output_{k}"] for k in range(len(out.files))]
