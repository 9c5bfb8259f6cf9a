"""Counts how often a process reads and compiles a model (tests/cli/test_one_pass.py).

    counts = install(models, setattr_)   # wraps the reader, the compiler and raw reads of the model files

Wrapped: tinydeploy.compile.tflite.reader.parse_model (every read of a .tflite ends there: load_model calls
it), tinydeploy.compile.compiler.compile_graph, and Path.read_bytes / open() of one of `models` (a SHA-256
computed from the file apart from the reader is a read too). The layer packages hand out names lazily
(tinydeploy.public_face), so a module that bound a name at import time holds the function itself: every
loaded tinydeploy module that holds an original gets the wrapper as well, and a module loaded later gets it
from the defining module.

Also a pytest plugin for the suite that `tinydeploy test` runs in a subprocess: PYTEST_PLUGINS=pass_counter
with TD_PASS_MODEL (the model file) and TD_PASS_OUT (where the counts are written as JSON at the end).
"""
from __future__ import annotations

import builtins
import json
import os
import sys
from collections import Counter
from pathlib import Path


def _targets():
    from tinydeploy.compile import compiler
    from tinydeploy.compile.tflite import reader

    return [(reader, "parse_model", "parse"), (compiler, "compile_graph", "compile")]


def _is_model(p, models: set[str]) -> bool:
    if not isinstance(p, (str, os.PathLike)):
        return False
    try:
        return os.path.realpath(p) in models
    except (TypeError, ValueError):
        return False


def _unwrapped(f):
    while getattr(f, "_td_pass_counter", False):
        f = f.__wrapped__
    return f


def _counting(orig, key: str, counts: Counter):
    def wrapper(*args, **kwargs):
        counts[key] += 1
        return orig(*args, **kwargs)

    wrapper.__wrapped__, wrapper._td_pass_counter = orig, True
    return wrapper


def install(models, setattr_=setattr) -> Counter:
    """Wrap the reader, the compiler and raw reads of `models`; returns the live counts
    (parse, compile, file_read)."""
    import tinydeploy.cli  # noqa: F401  (every command module loaded, so its import-time names get patched)

    counts: Counter = Counter({"parse": 0, "compile": 0, "file_read": 0})
    models = {os.path.realpath(m) for m in models}
    for mod, name, key in _targets():
        orig = _unwrapped(getattr(mod, name))
        wrapper = _counting(orig, key, counts)
        setattr_(mod, name, wrapper)
        for m in list(sys.modules.values()):
            # a module imported while an earlier count ran holds that count's wrapper: rewrap it too
            if getattr(m, "__name__", "").startswith("tinydeploy") and _unwrapped(vars(m).get(name)) is orig:
                setattr_(m, name, wrapper)

    read_bytes, open_ = Path.read_bytes, builtins.open

    def counting_read_bytes(self):
        if _is_model(self, models):
            counts["file_read"] += 1
        return read_bytes(self)

    def counting_open(file, mode="r", *args, **kwargs):
        if "r" in mode and _is_model(file, models):
            counts["file_read"] += 1
        return open_(file, mode, *args, **kwargs)

    setattr_(Path, "read_bytes", counting_read_bytes)
    setattr_(builtins, "open", counting_open)
    return counts


# -- as a pytest plugin in the `tinydeploy test` subprocess ---------------------------------------------
_COUNTS: Counter | None = None


def pytest_configure(config):
    global _COUNTS
    if os.environ.get("TD_PASS_MODEL") and _COUNTS is None:
        _COUNTS = install([os.environ["TD_PASS_MODEL"]])


def pytest_unconfigure(config):
    if _COUNTS is not None and os.environ.get("TD_PASS_OUT"):
        Path(os.environ["TD_PASS_OUT"]).write_text(json.dumps(dict(_COUNTS)))
