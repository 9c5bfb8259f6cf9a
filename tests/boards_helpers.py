"""Shared helpers of the board tests: which models exist and compile, small synthetic models, a PATH
without one toolchain, the CLI in a subprocess."""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_MODELS = ROOT / "tests" / "data" / "models"  # public models with provenance (README there)
OUR_MODELS = ROOT / "models"
VENV_BIN = Path(sys.executable).parent

# name -> path; the digits models are ours (models/README.md), the others the shared MLPerf Tiny ones.
MODELS = {
    "hello_world": TEST_MODELS / "hello_world_int8.tflite",
    "kws": TEST_MODELS / "kws_ref_model.tflite",
    "resnet8": TEST_MODELS / "resnet8_int8.tflite",
    "digits_mlp": OUR_MODELS / "digits_mlp_int8.tflite",
    "digits_cnn": OUR_MODELS / "digits_cnn_int8.tflite",
    "digits_cnn_float_io": OUR_MODELS / "digits_cnn_float_io.tflite",
    "digits_16x8": OUR_MODELS / "digits_16x8.tflite",
}


@pytest.fixture(scope="module")
def pio_build_cache(tmp_path_factory):
    """One SCons build cache (PLATFORMIO_BUILD_CACHE_DIR) for this test run, shared by the xdist workers:
    the runtime kernels are compiled once per board and toolchain flags instead of once per project
    (every object is still built by the real compiler once; pytest removes the folder with its temp dirs)."""
    base = tmp_path_factory.getbasetemp()
    cache = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pio-build-cache"
    cache.mkdir(exist_ok=True)
    old = os.environ.get("PLATFORMIO_BUILD_CACHE_DIR")
    os.environ["PLATFORMIO_BUILD_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("PLATFORMIO_BUILD_CACHE_DIR", None)
    else:
        os.environ["PLATFORMIO_BUILD_CACHE_DIR"] = old


@functools.lru_cache(maxsize=None)
def why_not_compilable(path: Path) -> str:
    """'' when tinydeploy compiles the model, else the reason (missing file, unsupported ops)."""
    from tinydeploy.compile.compiler import compile_graph
    from tinydeploy.compile.tflite.reader import load_model
    from tinydeploy.errors import TinyDeployError

    if not path.exists():
        return f"{path.name} is not there (yet)"
    try:
        compile_graph(load_model(path), source_name=path.name)
    except TinyDeployError as exc:
        return f"{path.name}: {exc}"
    return ""


def compilable_model(name: str) -> Path:
    """The model's path; fails the test (with the reason) when the model is missing or does not compile."""
    path = MODELS[name]
    why = why_not_compilable(path)
    if why:
        pytest.fail(f"{name} must compile: {why}", pytrace=False)
    return path


def float_io_model(path: Path) -> Path:
    """QUANTIZE(float32 -> int8) -> FULLY_CONNECTED -> DEQUANTIZE(int8 -> float32): the float helpers."""
    from tinydeploy.testing.builder import ModelBuilder, options

    rng = np.random.default_rng(1)
    b = ModelBuilder()
    xf = b.tensor([1, 16], "float32", name="x_float")
    xq = b.tensor([1, 16], "int8", 0.05, 3)
    w = b.tensor([8, 16], "int8", 0.02, 0, data=rng.integers(-127, 128, (8, 16)))
    bias = b.tensor([8], "int32", 0.05 * 0.02, 0, data=rng.integers(-500, 500, 8))
    yq = b.tensor([1, 8], "int8", 0.1, -5)
    yf = b.tensor([1, 8], "float32", name="y_float")
    b.op("QUANTIZE", [xf], [xq])
    b.op("FULLY_CONNECTED", [xq, w, bias], [yq], options("FullyConnectedOptions"))
    b.op("DEQUANTIZE", [yq], [yf])
    path.write_bytes(b.build([xf], [yf]))
    return path


def dense_model(path: Path, n_in: int, n_out: int) -> Path:
    """One int8 FULLY_CONNECTED with n_in x n_out weights (to fill a board's memory on purpose)."""
    from tinydeploy.testing.builder import ModelBuilder, options

    rng = np.random.default_rng(2)
    b = ModelBuilder()
    x = b.tensor([1, n_in], "int8", 0.05, 0)
    w = b.tensor([n_out, n_in], "int8", 0.01, 0, data=rng.integers(-127, 128, (n_out, n_in)))
    y = b.tensor([1, n_out], "int8", 0.5, 0)
    b.op("FULLY_CONNECTED", [x, w, -1], [y], options("FullyConnectedOptions"))
    path.write_bytes(b.build([x], [y]))
    return path


def path_without(tmp: Path, *prefixes: str) -> str:
    """A PATH (venv bin + a folder of links to /usr/bin and /bin) that lacks the given tools."""
    shadow = tmp / "shadow-bin"
    shadow.mkdir(exist_ok=True)
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name.startswith(prefixes) or (shadow / name).exists():
                continue
            os.symlink(os.path.join(d, name), shadow / name)
    return f"{VENV_BIN}{os.pathsep}{shadow}"


def tinydeploy(*args, env: dict | None = None, cwd: Path | None = None, timeout: int = 600):
    """Run the CLI like a user does; returns the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=timeout)


def assert_clean_failure(r, *words: str) -> str:
    """Non-zero exit, one message, no traceback, the given words (case-insensitive) somewhere in it."""
    text = r.stdout + r.stderr
    assert r.returncode != 0, text
    assert "Traceback" not in text, text
    for w in words:
        assert w.lower() in text.lower(), f"{w!r} not in:\n{text}"
    return text
