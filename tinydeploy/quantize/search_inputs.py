"""What `fit-search` reads: the user's model builder (`module:function` or `path/to/file.py:function`), the
labelled data (`train.npz[:x,y]`) and the candidate lists (`1,0.75,0.5`). Each problem is one
TinyDeployError naming what to change."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import TinyDeployError

BUILDER_HINT = "pass module:function (importable from the current folder) or path/to/file.py:function, " \
               "e.g. models/search_digits.py:cnn; the function takes (input_shape, width) and returns a keras.Model"


def load_builder(spec: str, before_import: Callable | None = None) -> Callable:
    """The function named by `module:function` or `path/to/file.py:function` (`before_import` runs once the
    spec is well-formed, before the user's module is imported)."""
    mod_name, sep, func = spec.rpartition(":")
    if not sep or not mod_name or not func.isidentifier():
        raise TinyDeployError(f"builder {spec!r} is not module:function", BUILDER_HINT)
    if mod_name.endswith(".py") or "/" in mod_name or "\\" in mod_name:
        path = Path(mod_name)
        if not path.is_file():
            raise TinyDeployError(f"builder {spec}: no such file {path}", BUILDER_HINT)
        if before_import is not None:
            before_import()
        module = _import_file(path, spec)
    else:
        if before_import is not None:
            before_import()
        cwd = str(Path.cwd())
        added = cwd not in sys.path
        if added:
            sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name and mod_name.startswith(exc.name):
                raise TinyDeployError(f"builder {spec}: no module {mod_name!r} in the current folder or on "
                                      "the Python path", BUILDER_HINT) from None
            raise _import_error(spec, exc) from None
        except Exception as exc:  # noqa: BLE001 - importing user code raises anything
            raise _import_error(spec, exc) from None
        finally:
            if added:
                sys.path.remove(cwd)
    fn = getattr(module, func, None)
    if fn is None:
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise TinyDeployError(f"builder {spec}: {mod_name} has no function {func!r}",
                              f"functions there: {', '.join(names[:8]) or 'none'}")
    if not callable(fn):
        raise TinyDeployError(f"builder {spec}: {func} is not a function", BUILDER_HINT)
    return fn


def _import_file(path: Path, spec: str):
    name = f"_td_builder_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise TinyDeployError(f"builder {spec}: cannot import {path}", BUILDER_HINT)
    module = importlib.util.module_from_spec(loader_spec)
    sys.path.insert(0, str(path.resolve().parent))  # the file may import its neighbours
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - importing user code raises anything
        raise _import_error(spec, exc) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def _import_error(spec: str, exc: BaseException) -> TinyDeployError:
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
    return TinyDeployError(f"builder {spec}: importing it failed: {type(exc).__name__}: {text}",
                           "fix the module so that `python -c 'import MODULE'` works")


def load_labelled_npz(spec: str, flag: str) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 [N, H, W, C], y int64 [N]) from `file.npz` (arrays x and y, or labels) or `file.npz:X,Y`."""
    file, keys = spec, ""
    if ".npz:" in spec:
        file, _, keys = spec.rpartition(":")
    path = Path(file)
    if path.suffix != ".npz":
        raise TinyDeployError(f"{flag} {spec}: expected an .npz file", f"e.g. {flag} train.npz or train.npz:x,y")
    if not path.is_file():
        raise TinyDeployError(f"{flag} {spec}: no such file {path}", "check the path")
    try:
        data = np.load(path)
        names = list(data.files)
    except Exception as exc:  # noqa: BLE001 - numpy raises several types on a bad file
        raise TinyDeployError(f"{flag} {spec}: cannot read {path}: {exc}", "write it with numpy.savez") from None
    if keys:
        parts = keys.split(",")
        if len(parts) != 2 or not all(parts):
            raise TinyDeployError(f"{flag} {spec}: name two arrays, the inputs and the labels",
                                  f"e.g. {path}:x,y")
        xk, yk = parts
    else:
        xk = "x" if "x" in names else ""
        yk = next((k for k in ("y", "labels") if k in names), "")
    missing = [k or what for k, what in ((xk, "x"), (yk, "y")) if k not in names]
    if missing:
        raise TinyDeployError(f"{flag} {spec}: no array {', '.join(missing)} in {path.name} "
                              f"(it holds {', '.join(names) or 'nothing'})", f"name them: {path}:INPUTS,LABELS")
    x, y = np.asarray(data[xk]), np.asarray(data[yk])
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)  # one-hot labels
    y = y.reshape(-1)
    if x.ndim == 3:
        x = x[..., None]  # [N, H, W] grey images
    if x.ndim != 4 or not np.issubdtype(x.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise TinyDeployError(f"{flag} {spec}: inputs {xk} {x.dtype}{list(x.shape)} are not images",
                              "give numeric inputs [N, H, W, C] (or [N, H, W]) and integer labels [N]")
    if len(x) != len(y) or len(x) == 0:
        raise TinyDeployError(f"{flag} {spec}: {len(x)} inputs but {len(y)} labels",
                              "one label per sample, at least one sample")
    return x.astype(np.float32), y.astype(np.int64)


def parse_factors(text: str, flag: str) -> list[float]:
    """'1,0.75,0.5' -> [1.0, 0.75, 0.5] (positive, duplicates dropped, order kept)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(not 0 < v <= 16 for v in values):
        raise TinyDeployError(f"{flag} {text!r}: expected positive numbers separated by commas",
                              f"e.g. {flag} 1,0.75,0.5")
    return list(dict.fromkeys(values))
