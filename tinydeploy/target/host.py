"""Build generated models with the host C compiler and run them on batches of inputs.

One binary can hold several models (each with its own prefix): the op tests compile
hundreds of single-op models into one executable and run each case by number.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..compile import DTYPES, CompiledModel, input_arrays
from ..errors import TinyDeployError
from ..paths import RUNTIME_DIR, cache_dir

WARN_FLAGS = ["-Wall", "-Wextra", "-Werror", "-std=c99"]
# -DTD_DEBUG: the generated code checks each kernel's planned scratch against its *_scratch_size()
SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
                  "-DTD_DEBUG"]

_HARNESS = r"""
/* Host runner: ./run CASE IN_FILE OUT_FILE N [REPEAT]. Reads N samples of every input of model
 * CASE (raw bytes, inputs of one sample back to back), writes every output of each sample.
 * With REPEAT, invokes each sample REPEAT times and prints the mean nanoseconds per invoke. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include "tinydeploy.h"
%(includes)s
typedef struct { void (*set_arena)(void *); void (*reset)(void); int (*invoke)(void);
  const td_tensor_info *in; int n_in; const td_tensor_info *out; int n_out; unsigned long arena; } td_case;
static const td_case cases[] = {
%(table)s
};
int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) return 2;
  const td_case *c = &cases[atoi(argv[1])];
  long n = atol(argv[4]), repeat = argc == 6 ? atol(argv[5]) : 1;
  double total_ns = 0;
  FILE *fi = fopen(argv[2], "rb"), *fo = fopen(argv[3], "wb");
  if (!fi || !fo) return 3;
  unsigned char *arena = (unsigned char *)malloc(c->arena ? c->arena : 1);
  if (!arena) return 4;
  c->set_arena(arena);
  for (long s = 0; s < n; ++s) {
    c->reset();
    for (int i = 0; i < c->n_in; ++i)
      if (fread(td_tensor_data(&c->in[i], arena), 1, c->in[i].bytes, fi) != c->in[i].bytes) return 5;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long r = 0; r < repeat; ++r) c->invoke();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    total_ns += (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    for (int i = 0; i < c->n_out; ++i)
      if (fwrite(td_tensor_data(&c->out[i], arena), 1, c->out[i].bytes, fo) != c->out[i].bytes) return 6;
  }
  if (argc == 6) printf("ns_per_invoke=%%.1f\n", total_ns / (double)(n * repeat));
  free(arena);
  fclose(fi);
  fclose(fo);
  return 0;
}
"""


def host_compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise TinyDeployError("no host C compiler found", "install one: apt-get install gcc")
    return cc


@dataclass
class HostBinary:
    path: Path
    models: list[CompiledModel]

    def run(self, case: int, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run model `case` on a batch: inputs[i] has shape [N, *input_i_shape]."""
        return self._run(case, inputs)[0]

    def time_invoke(self, case: int, inputs: list[np.ndarray], repeat: int) -> float:
        """Mean seconds per invoke over the batch, each sample invoked `repeat` times."""
        return self._run(case, inputs, repeat)[1]

    def _run(self, case: int, inputs: list[np.ndarray], repeat: int = 0) -> tuple[list[np.ndarray], float]:
        m = self.models[case]
        g = m.graph
        n = int(inputs[0].shape[0]) if inputs else 1
        per_sample = []
        for t, want, x in input_arrays(g, inputs):
            if x.dtype != want:
                raise TinyDeployError(f"input {t.name!r} must be {want} (got {x.dtype})",
                                      "convert the array or quantize it with the model's input scale")
            if x.shape[0] != n or int(np.prod(x.shape[1:], dtype=np.int64)) != t.size:
                raise TinyDeployError(f"input {t.name!r} must have shape [N, {', '.join(map(str, t.shape))}] "
                                      f"(got {list(x.shape)})")
            per_sample.append(np.ascontiguousarray(x).reshape(n, -1).view(np.uint8))
        data = np.concatenate(per_sample, axis=1) if per_sample else np.zeros((n, 0), np.uint8)
        with tempfile.TemporaryDirectory(prefix="td-run-") as tmp:
            fin, fout = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
            data.tofile(fin)
            cmd = [str(self.path), str(case), str(fin), str(fout), str(n)] + ([str(repeat)] if repeat else [])
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                raise TinyDeployError(f"model binary failed (exit {r.returncode}): {_failure_text(r.stderr)}")
            raw = np.fromfile(fout, dtype=np.uint8).reshape(n, -1)
            seconds = float(r.stdout.split("ns_per_invoke=")[1]) * 1e-9 if repeat else 0.0
        outs, col = [], 0
        for tid in g.outputs:
            t = g.tensors[tid]
            chunk = raw[:, col:col + t.nbytes]
            col += t.nbytes
            outs.append(np.ascontiguousarray(chunk).view(DTYPES[t.dtype][0]).reshape((n,) + tuple(t.shape)))
        return outs, seconds


def build_host(models: list[CompiledModel], sanitize: bool = False, opt: str = "-O2",
               extra_flags: list[str] | None = None, arena_short_bytes: int = 0) -> HostBinary:
    """Compile models + runtime + runner into one host executable (cached by content). The runner
    heap-allocates each model's arena with exactly the planned size, so with `sanitize` ASan catches
    any access past the plan; `arena_short_bytes` allocates that much less (tests: prove it does)."""
    cc = host_compiler()
    flags = WARN_FLAGS + [opt] + (SANITIZE_FLAGS if sanitize else []) + (extra_flags or [])
    runtime = sorted(RUNTIME_DIR.glob("*.c"))
    includes = "\n".join(f'#include "{m.prefix}.h"' for m in models)
    table = "\n".join(f"  {{{m.prefix}_set_arena, {m.prefix}_reset, {m.prefix}_invoke, {m.prefix}_inputs, "
                      f"{len(m.graph.inputs)}, {m.prefix}_outputs, {len(m.graph.outputs)}, "
                      f"{max(m.arena_bytes - arena_short_bytes, 0)}UL}}," for m in models)
    harness = _HARNESS % {"includes": includes, "table": table}
    digest = hashlib.sha256()
    for part in [cc, " ".join(flags), harness] + [m.source + m.header for m in models] + \
            [p.read_text() for p in sorted(RUNTIME_DIR.glob("*.[ch]"))]:
        digest.update(part.encode())
    key = digest.hexdigest()[:24]
    exe = cache_dir() / "host" / key / "run"
    if exe.exists():
        return HostBinary(exe, models)
    work = Path(tempfile.mkdtemp(prefix="td-build-"))
    try:
        srcs = []
        for m in models:
            (work / f"{m.prefix}.h").write_text(m.header)
            (work / f"{m.prefix}.c").write_text(m.source)
            srcs.append(work / f"{m.prefix}.c")
        (work / "runner.c").write_text(harness)
        objs = _compile_parallel(cc, flags + [f"-I{work}", f"-I{RUNTIME_DIR}"],
                                 srcs + runtime + [work / "runner.c"], work)
        link = [cc, *[f for f in flags if f.startswith("-fsanitize") or f.startswith("-fno-sanitize")],
                "-o", str(work / "run"), *map(str, objs), "-lm"]
        _check(subprocess.run(link, capture_output=True, text=True), "link")
        exe.parent.mkdir(parents=True, exist_ok=True)
        tmp_exe = exe.with_suffix(".tmp")
        shutil.copy2(work / "run", tmp_exe)
        os.replace(tmp_exe, exe)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return HostBinary(exe, models)


def _failure_text(stderr: str) -> str:
    """The runner's stderr, shortened; a sanitizer report leads with its SUMMARY line and access stack."""
    err = stderr.strip()
    start = err.find("ERROR: ")
    if start < 0:
        return err[-2000:]
    summary = next((line for line in err.splitlines() if line.startswith("SUMMARY: ")), "")
    return f"{summary}\n{err[start:start + 1500]}"


def _compile_parallel(cc: str, flags: list[str], sources: list[Path], work: Path) -> list[Path]:
    jobs = max(os.cpu_count() or 1, 1)
    objs, procs = [], []
    for i, src in enumerate(sources):
        obj = work / f"o{i}_{src.stem}.o"
        objs.append(obj)
        procs.append(subprocess.Popen([cc, *flags, "-c", str(src), "-o", str(obj)],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        if len(procs) >= jobs:
            _check_proc(procs.pop(0))
    for p in procs:
        _check_proc(p)
    return objs


def _check_proc(p: subprocess.Popen) -> None:
    out, _ = p.communicate()
    if p.returncode != 0:
        raise TinyDeployError(f"C compiler failed: {' '.join(p.args[-3:])}\n{out[-4000:]}")


def _check(r: subprocess.CompletedProcess, what: str) -> None:
    if r.returncode != 0:
        raise TinyDeployError(f"{what} failed:\n{(r.stdout + r.stderr)[-4000:]}")
