"""Eval inputs from a folder of images (.png/.jpg/.bmp), WAVs or .npy files, with a preprocessing hook.

Files are taken in sorted order. Sub-folders name the classes: DIR/<class>/file gives the label
(class index in sorted order of the sub-folder names). Default preprocessing: images become floats in
[0, 1] (RGB -> gray when the model wants 1 channel), WAVs floats in [-1, 1]; each sample must then have
the model input's number of elements. A hook `--preprocess module:function` or `file.py:function`
receives (path, array) and returns the sample (any shape with the right number of elements).
"""
from __future__ import annotations

import importlib
import importlib.util
import wave
from pathlib import Path
from typing import Callable

import numpy as np

from ..compile import Graph
from ..errors import TinyDeployError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}
SUFFIXES = IMAGE_SUFFIXES | {".wav", ".npy"}


def load_hook(spec: str | None) -> Callable[[Path, np.ndarray], np.ndarray] | None:
    if not spec:
        return None
    target, _, func = spec.rpartition(":")
    if not target or not func:
        raise TinyDeployError(f"--preprocess {spec!r}: expected module:function or file.py:function")
    try:
        if target.endswith(".py"):
            loader = importlib.util.spec_from_file_location("td_preprocess", target)
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(target)
        return getattr(module, func)
    except (ImportError, AttributeError, FileNotFoundError, SyntaxError) as exc:
        raise TinyDeployError(f"cannot load the preprocessing hook {spec}: {exc}") from None


def read_file(path: Path) -> np.ndarray:
    """One file as a float array: images in [0, 1] (H, W[, C]), WAV in [-1, 1], .npy as stored."""
    suffix = path.suffix.lower()
    try:
        if suffix in IMAGE_SUFFIXES:
            from PIL import Image

            with Image.open(path) as im:
                arr = np.asarray(im.convert("L" if im.mode in ("L", "1", "P") else "RGB"), dtype=np.float32)
            return arr / 255.0
        if suffix == ".wav":
            with wave.open(str(path), "rb") as w:
                width, channels, frames = w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())
            if width != 2:
                raise TinyDeployError(f"{path.name}: only 16-bit PCM WAV is read", "convert it or use a hook")
            pcm = np.frombuffer(frames, np.int16).reshape(-1, channels).mean(axis=1)
            return (pcm / 32768.0).astype(np.float32)
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, wave.Error) as exc:
        raise TinyDeployError(f"cannot read {path}: {exc}") from None


def load_folder(folder: Path, g: Graph, hook: Callable[[Path, np.ndarray], np.ndarray] | None = None
                ) -> tuple[list[np.ndarray], np.ndarray | None, list[str]]:
    """([inputs [N, *shape]], labels or None, class names) for a one-input model."""
    if len(g.inputs) != 1:
        raise TinyDeployError("a folder of files feeds models with one input", "pass an .npz instead")
    t = g.tensors[g.inputs[0]]
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    files = [(f, classes.index(f.parent.name) if f.parent != folder else -1)
             for f in sorted(folder.rglob("*")) if f.suffix.lower() in SUFFIXES and f.is_file()]
    if not files:
        raise TinyDeployError(f"no .png/.jpg/.bmp/.wav/.npy files in {folder}")
    samples = []
    for f, _ in files:
        x = read_file(f)
        if hook is not None:
            x = np.asarray(hook(f, x))
        elif x.ndim == 3 and t.shape and t.shape[-1] == 1 and x.shape[-1] == 3:
            x = x.mean(axis=-1)  # RGB image, grayscale model
        if x.size != t.size:
            raise TinyDeployError(f"{f.name} gives {x.size} values, the model input {list(t.shape)} needs {t.size}",
                                  "resize/crop it first or pass --preprocess module:function")
        samples.append(x.reshape(t.shape))
    labels = np.array([c for _, c in files], dtype=np.int64) if classes and all(c >= 0 for _, c in files) else None
    return [np.stack(samples)], labels, classes
