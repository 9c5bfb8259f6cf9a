"""The generated training step on the host: compiled into a shared library and called through ctypes
(tests and the host reference run; a board runs the same C)."""
from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import TinyDeployError
from ..paths import RUNTIME_DIR, cache_dir
from ..target import host_compiler
from .codegen import TrainC

FLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-ffp-contract=off"]


def build_shared(sources: dict[str, str], name: str) -> Path:
    """Compile `sources` (file name -> text) with the runtime into a shared library, cached by content."""
    cc = host_compiler()
    runtime = sorted(RUNTIME_DIR.glob("*.c"))
    digest = hashlib.sha256(" ".join([cc, *FLAGS]).encode())
    for text in list(sources.values()) + [p.read_text() for p in sorted(RUNTIME_DIR.glob("*.[ch]"))]:
        digest.update(text.encode())
    lib = cache_dir() / "train" / digest.hexdigest()[:24] / f"lib{name}.so"
    if lib.exists():
        return lib
    work = Path(tempfile.mkdtemp(prefix="td-train-"))
    try:
        for fname, text in sources.items():
            (work / fname).write_text(text)
        cmd = [cc, *FLAGS, "-shared", f"-I{work}", f"-I{RUNTIME_DIR}", "-o", str(work / lib.name),
               *[str(work / f) for f in sources if f.endswith(".c")], *map(str, runtime), "-lm"]
        r = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if r.returncode != 0:
            raise TinyDeployError(f"the training C did not compile: {(r.stderr.strip().splitlines() or ['?'])[0]}",
                                  "report this model and the compiler message")
        lib.parent.mkdir(parents=True, exist_ok=True)
        tmp = lib.with_suffix(".tmp")
        shutil.copy2(work / lib.name, tmp)
        tmp.replace(lib)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lib


class HostTrainer:
    """The generated `<p>_train_step` in this process (a private copy of the library per instance)."""

    def __init__(self, tc: TrainC) -> None:
        p = tc.prefix
        built = build_shared({f"{p}.c": tc.source, f"{p}.h": tc.model.header, f"{p}_train.h": tc.header}, p)
        self._dir = Path(tempfile.mkdtemp(prefix="td-trainlib-"))
        self.path = self._dir / built.name  # own copy: dlopen would share the state of one path
        shutil.copy2(built, self.path)
        self.lib = ctypes.CDLL(str(self.path))
        self.tc, self.p = tc, p
        step = getattr(self.lib, f"{p}_train_step")
        step.restype, step.argtypes = ctypes.c_float, [ctypes.c_void_p, ctypes.c_int, ctypes.c_float]
        for fn, res in (("value", ctypes.c_void_p), ("master", ctypes.c_void_p), ("velocity", ctypes.c_void_p)):
            f = getattr(self.lib, f"{p}_train_{fn}")
            f.restype, f.argtypes = res, [ctypes.c_int]
        f = getattr(self.lib, f"{p}_train_grad")
        f.restype, f.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.POINTER(ctypes.c_int32)]
        self._step = step

    def step(self, x: np.ndarray, label: int, lr: float) -> float:
        buf = np.ascontiguousarray(x, dtype=np.int8).ravel()
        return float(self._step(buf.ctypes.data, int(label), float(np.float32(lr))))

    def _array(self, addr: int, dtype, n: int) -> np.ndarray:
        ctype = np.ctypeslib.as_ctypes_type(np.dtype(dtype))
        return np.ctypeslib.as_array((ctype * n).from_address(addr)).copy()

    def values(self) -> dict[int, np.ndarray]:
        """The current quantized parameters (int8 weights, int32 biases), shaped as in the model."""
        g = self.tc.train.graph
        out = {}
        for i, t in enumerate(self.tc.train.params):
            tensor = g.tensors[t]
            out[t] = self._array(getattr(self.lib, f"{self.p}_train_value")(i), tensor.data.dtype,
                                 tensor.size).reshape(tensor.shape)
        return out

    def masters(self) -> dict[int, np.ndarray]:
        """The float32 masters (the updated leading elements of each parameter)."""
        tg, fn = self.tc.train, getattr(self.lib, f"{self.p}_train_master")
        return {t: self._array(fn(i), np.float32, tg.updated_count(t)) for i, t in enumerate(tg.params)}

    def grad(self, t: int) -> tuple[np.ndarray, int]:
        e = ctypes.c_int32()
        addr = getattr(self.lib, f"{self.p}_train_grad")(self.tc.train.grads.index(t), ctypes.byref(e))
        return self._array(addr, np.int16, self.tc.train.graph.tensors[t].size), int(e.value)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
