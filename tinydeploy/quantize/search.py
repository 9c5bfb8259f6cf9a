"""`fit-search`: resolution x width candidates of a Keras model, each checked against a board, the ones that
fit trained briefly and measured in int8 (TinyNAS-inspired, small):

    r = search_models("models/search_digits.py:cnn", "train.npz", "nucleo_f446re", epochs=2)
    r.best, r.as_dict()

Per candidate: build it with the user's builder (input_shape, width) -> keras.Model; quantize it untrained
(a few calibration samples: the int8 graph's shapes and sizes do not depend on the weights) and check fit
with `fit`'s own analysis (target.analyze_fit: arena, flash, RAM, MACs, latency at the board's clock); only
a candidate that fits is trained (the data resized to its resolution with tf.image.resize), quantized again
and measured: float and int8 top-1 accuracy under LiteRT BUILTIN_REF, as `quantize --eval` reports them.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile import PlanOptions, parse_model
from ..errors import TinyDeployError
from ..target import BoardProfile, analyze_fit, load_board
from .pipeline import float_ops
from .report import accuracy
from .search_inputs import load_builder, load_labelled_npz, parse_factors

CHECK_CALIB = 4          # calibration samples for the fit check (untrained weights: only shapes matter)
CALIB = 100              # calibration samples for the trained candidate
HOLD_OUT = 0.2           # without --val: this share of the training data measures accuracy
LEARNING_RATE = 1e-2     # Adam, when the builder returns an uncompiled model
BATCH = 32
SEED = 0


@dataclass
class Candidate:
    resolution: float
    width: float
    input_shape: tuple[int, int, int]
    params: int = 0
    macs: int = 0
    arena_bytes: int = 0
    ram_needed: int = 0
    flash_needed: int = 0
    latency_us: float | None = None
    fits: bool = False
    verdict: str = ""
    trained: bool = False
    float_accuracy: float | None = None
    int8_accuracy: float | None = None
    best: bool = False
    kept: str | None = None                       # the .tflite written by --keep
    tflite: bytes | None = field(default=None, repr=False)   # int8; untrained when it does not fit

    @property
    def name(self) -> str:
        return f"r{self.resolution:g}_w{self.width:g}"

    def as_dict(self) -> dict:
        def pct(x):
            return None if x is None else round(x, 4)

        return {"name": self.name, "resolution": self.resolution, "width": self.width,
                "input_shape": list(self.input_shape), "params": self.params, "macs": self.macs,
                "arena_bytes": self.arena_bytes, "ram_needed": self.ram_needed, "flash_needed": self.flash_needed,
                "latency_us": self.latency_us, "fits": self.fits, "verdict": self.verdict, "trained": self.trained,
                "float_accuracy": pct(self.float_accuracy), "int8_accuracy": pct(self.int8_accuracy),
                "best": self.best, "tflite": self.kept}


@dataclass
class SearchResult:
    builder: str
    board: BoardProfile
    data_shape: tuple[int, ...]          # the training inputs as given: [N, H, W, C]
    train_samples: int
    val_samples: int
    val_source: str
    epochs: int
    kernels: str
    candidates: list[Candidate] = field(default_factory=list)
    keep: str | None = None

    @property
    def best(self) -> Candidate | None:
        return next((c for c in self.candidates if c.best), None)

    def as_dict(self) -> dict:
        b = self.board
        best = self.best
        return {"builder": self.builder, "board": {"id": b.id, "name": b.name, "core": b.core,
                                                   "clock_hz": b.clock_hz, "ram_budget": b.ram_budget,
                                                   "flash_budget": b.flash_budget},
                "kernels": self.kernels, "data_shape": list(self.data_shape), "train_samples": self.train_samples,
                "val_samples": self.val_samples, "val": self.val_source, "epochs": self.epochs,
                "best": best.name if best else None, "any_fits": any(c.fits for c in self.candidates),
                "keep": self.keep, "candidates": [c.as_dict() for c in self.candidates]}


def search_models(builder: str, data: str, board: str | BoardProfile, val: str | None = None, epochs: int = 2,
                  resolutions: str = "1,0.75,0.5", widths: str = "1,0.75,0.5", options: PlanOptions | None = None,
                  keep: str | Path | None = None, progress: Callable[[str], None] | None = None) -> SearchResult:
    """Try every resolution x width candidate of `builder` on `board` (see the module doc); raises
    TinyDeployError for bad input. `options`: the plan options (default: the board's, exact planner)."""
    say = progress or (lambda _: None)
    b = load_board(board)
    if b.kind == "host":
        raise TinyDeployError("fit-search answers for a microcontroller board, not the host",
                              "pass --board with a board id (`tinydeploy boards` lists them)")
    if epochs < 0:
        raise TinyDeployError(f"--epochs {epochs} is negative", "e.g. --epochs 2")
    res_list, width_list = parse_factors(resolutions, "--resolutions"), parse_factors(widths, "--widths")
    keep_dir = _check_keep(keep)
    from .tfconvert import _tf

    fn = load_builder(builder, before_import=_tf)  # TensorFlow first, quietly: the builder imports Keras
    x, y = load_labelled_npz(data, "--data")
    if val:
        xv, yv = load_labelled_npz(val, "--val")
        if xv.shape[1:] != x.shape[1:]:
            raise TinyDeployError(f"--val {val}: samples {list(xv.shape[1:])} but --data has {list(x.shape[1:])}",
                                  "give both sets at the same resolution")
        source = val
    else:
        x, y, xv, yv = _hold_out(x, y)
        source = f"{len(yv)} samples of --data held out ({HOLD_OUT:.0%})"
    if options is None:
        from ..target import board_options

        options = board_options(b)
    result = SearchResult(builder, b, tuple(x.shape), len(x), len(xv), source, epochs, options.kernels, keep=None)
    with tempfile.TemporaryDirectory(prefix="td-search-") as tmp:
        for r in res_list:
            shape = (max(1, round(x.shape[1] * r)), max(1, round(x.shape[2] * r)), int(x.shape[3]))
            xs, xvs = _resize(x, shape), _resize(xv, shape)
            for w in width_list:
                c = Candidate(r, w, shape)
                result.candidates.append(c)
                _candidate(c, fn, builder, b, options, xs, y, xvs, yv, epochs, Path(tmp), say)
    fitting = [c for c in result.candidates if c.trained]
    if fitting:
        max(fitting, key=lambda c: (c.int8_accuracy or 0.0, -c.arena_bytes, -c.macs)).best = True
    if keep_dir is not None:
        result.keep = str(_write_keep(keep_dir, result.candidates))
    return result


def _candidate(c: Candidate, fn: Callable, spec: str, b: BoardProfile, options: PlanOptions, xs: np.ndarray,
               y: np.ndarray, xv: np.ndarray, yv: np.ndarray, epochs: int, tmp: Path,
               say: Callable[[str], None]) -> None:
    h, w, ch = c.input_shape
    label = f"{c.name} ({h}x{w}x{ch}, width {c.width:g})"
    model = _build(fn, spec, c)
    c.params = int(model.count_params())
    _, content = _quantize(model, xs[:CHECK_CALIB], label)
    path = tmp / f"{c.name}.tflite"
    path.write_bytes(content)
    try:
        a = analyze_fit(path, b, options, suggest=False)
    except TinyDeployError as exc:
        raise TinyDeployError(f"candidate {label}: {exc.message}", exc.hint) from None
    c.macs, c.arena_bytes, c.fits, c.verdict = a.macs, a.compiled.arena_bytes, a.fits, a.verdict
    c.ram_needed, c.flash_needed = a.report.ram_needed, a.report.flash_needed
    c.latency_us = (a.latency or {}).get("us")
    c.tflite = content
    if not c.fits:
        say(f"{label}: arena {c.arena_bytes:,} B, {c.macs:,} MACs: does not fit {b.id}, not trained")
        return
    say(f"{label}: arena {c.arena_bytes:,} B, {c.macs:,} MACs: fits {b.id}; training {epochs} epoch(s)")
    _train(model, xs, y, epochs, label)
    float_content, c.tflite = _quantize(model, xs[:CALIB], label)
    c.trained = True
    c.float_accuracy = accuracy(float_content, parse_model(float_content), [xv], yv)
    c.int8_accuracy = accuracy(c.tflite, parse_model(c.tflite), [xv], yv)
    say(f"{label}: accuracy float {c.float_accuracy:.1%}, int8 {c.int8_accuracy:.1%}")


def _build(fn: Callable, spec: str, c: Candidate):
    from .tfconvert import _tf, quiet

    _tf()
    import keras

    keras.utils.set_random_seed(SEED)
    call = f"{spec}(input_shape={c.input_shape}, width={c.width:g})"
    try:
        with quiet():
            model = fn(c.input_shape, c.width)
    except Exception as exc:  # noqa: BLE001 - the user's builder raises anything
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
        raise TinyDeployError(f"builder {call} failed: {type(exc).__name__}: {text}",
                              "the builder must accept any input_shape (H, W, C) and width it is given") from None
    if not isinstance(model, keras.Model):
        raise TinyDeployError(f"builder {call} returned {type(model).__name__}, not a keras.Model",
                              "return keras.Model(inputs, outputs)")
    if len(model.inputs) != 1 or tuple(model.inputs[0].shape[1:]) != c.input_shape:
        got = [list(t.shape[1:]) for t in model.inputs]
        raise TinyDeployError(f"builder {call} returned a model with input {got}, not {list(c.input_shape)}",
                              "build the model with keras.Input(shape=input_shape)")
    return model


def _quantize(model, samples: np.ndarray, label: str) -> tuple[bytes, bytes]:
    """(float .tflite, int8 .tflite with int8 I/O) of a Keras model, through TensorFlow's converter."""
    from .tfconvert import float_tflite, quiet

    with tempfile.TemporaryDirectory(prefix="td-search-sm-") as folder:
        try:
            with quiet(), contextlib.redirect_stdout(io.StringIO()):  # Keras print()s 'Saved artifact at'
                model.export(folder, format="tf_saved_model")
        except Exception as exc:  # noqa: BLE001 - tracing user code raises anything
            text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
            raise TinyDeployError(f"candidate {label}: cannot export the Keras model: {text}",
                                  "a model whose layers all run in TensorFlow exports; custom code may not") \
                from None
        float_content, quantize = float_tflite(Path(folder))
        content = quantize([samples[:, None]], "int8", False)  # [N, 1, H, W, C]: batch 1 kept
    still_float = float_ops(parse_model(content))
    if still_float:
        raise TinyDeployError(f"candidate {label}: {', '.join(still_float[:3])} stays in float32 after "
                              "quantization", "replace it in the builder with ops that quantize to int8")
    return float_content, content


def _train(model, xs: np.ndarray, y: np.ndarray, epochs: int, label: str) -> None:
    import keras

    from .tfconvert import quiet

    try:
        with quiet():
            if not getattr(model, "compiled", False) or model.optimizer is None:
                model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            if epochs:
                model.fit(xs, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError, InvalidArgumentError, ...
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
        raise TinyDeployError(f"candidate {label}: training failed: {text}",
                              "the model should end in a softmax over the classes of the integer labels, or "
                              "compile it in the builder with the loss it needs") from None


def _resize(x: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    if tuple(x.shape[1:3]) == shape[:2]:
        return x
    from .tfconvert import _tf

    return _tf().image.resize(x, shape[:2], antialias=True).numpy().astype(np.float32)


def _hold_out(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if len(x) < 2:
        raise TinyDeployError(f"--data has {len(x)} sample: too few to hold some out for accuracy",
                              "give more samples, or the validation set with --val")
    order = np.random.default_rng(SEED).permutation(len(x))
    n_val = max(1, round(len(x) * HOLD_OUT))
    tr, va = order[n_val:], order[:n_val]
    return x[tr], y[tr], x[va], y[va]


def _check_keep(keep: str | Path | None) -> Path | None:
    if keep is None:
        return None
    keep = Path(keep)
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise TinyDeployError(f"--keep {keep} exists and is not an empty folder", "name a new folder")
    return keep


def _write_keep(keep: Path, candidates: list[Candidate]) -> Path:
    """Each candidate's int8 .tflite (untrained ones: *_untrained.tflite) into a temp folder, then renamed."""
    keep.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".td-keep-", dir=keep.parent))
    try:
        for c in candidates:
            if c.tflite is None:
                continue
            name = f"{c.name}.tflite" if c.trained else f"{c.name}_untrained.tflite"
            (tmp / name).write_bytes(c.tflite)
            c.kept = str(keep / name)
        if keep.is_dir():
            keep.rmdir()  # empty (checked before the search)
        os.replace(tmp, keep)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return keep
