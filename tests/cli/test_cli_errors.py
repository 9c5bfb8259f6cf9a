"""Bad input gives one clear message, a non-zero exit, no traceback and no output folder."""
import subprocess
import sys

import numpy as np
import pytest
from conftest import TEST_MODELS

from tinydeploy.testing.builder import ModelBuilder, options


def tinydeploy(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def float_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4], "float32")
    w = b.tensor([3, 4], "float32", data=np.ones((3, 4), np.float32))
    y = b.tensor([1, 3], "float32")
    b.op("FULLY_CONNECTED", [x, w, -1], [y], options("FullyConnectedOptions"))
    return b.build([x], [y])


def unsupported_op_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4], "int8", 0.1, 0)
    y = b.tensor([1, 4], "int8", 0.1, 0)
    b.op("COS", [x], [y])
    return b.build([x], [y])


def assert_clean_failure(r, *words):
    assert r.returncode != 0
    assert "Traceback" not in r.stderr + r.stdout
    text = (r.stderr + r.stdout).lower()
    for w in words:
        assert w.lower() in text, text


@pytest.fixture
def bad_files(tmp_path):
    good = (TEST_MODELS / "hello_world_int8.tflite").read_bytes()
    files = {
        "truncated": good[: len(good) // 3],
        "random": np.random.default_rng(0).integers(0, 256, 4000).astype(np.uint8).tobytes(),
        "float": float_model(),
        "unsupported": unsupported_op_model(),
        "empty": b"",
    }
    for k, v in files.items():
        (tmp_path / f"{k}.tflite").write_bytes(v)
    return tmp_path


@pytest.mark.parametrize("kind,words", [
    ("truncated", ["corrupt"]), ("random", ["not a tensorflow lite model"]), ("empty", ["not a tensorflow lite"]),
    ("float", ["float32", "quantize"]), ("unsupported", ["COS", "not supported"]),
])
def test_convert_bad_model(bad_files, kind, words):
    out = bad_files / f"out_{kind}"
    r = tinydeploy("convert", bad_files / f"{kind}.tflite", "-o", out)
    assert_clean_failure(r, *words)
    assert not out.exists()
    assert [p.name for p in bad_files.iterdir() if p.name.startswith(".out")] == []


def test_missing_file(tmp_path):
    r = tinydeploy("convert", tmp_path / "nope.tflite", "-o", tmp_path / "o")
    assert_clean_failure(r, "not found")
    assert not (tmp_path / "o").exists()


def test_convert_refuses_folder_with_other_files(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    r = tinydeploy("convert", TEST_MODELS / "hello_world_int8.tflite", "-o", tmp_path)
    assert_clean_failure(r, "other files")
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_inspect_unsupported_exits_nonzero(bad_files):
    r = tinydeploy("inspect", bad_files / "unsupported.tflite")
    assert_clean_failure(r, "COS")


def test_run_wrong_input_dtype(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 1), np.float32))
    r = tinydeploy("run", TEST_MODELS / "hello_world_int8.tflite", "--input", tmp_path / "x.npy",
                   "--output", tmp_path / "y.npy")
    assert_clean_failure(r, "int8")
    assert not (tmp_path / "y.npy").exists()


def test_convert_and_run_ok(tmp_path):
    model = TEST_MODELS / "hello_world_int8.tflite"
    r = tinydeploy("convert", model, "-o", tmp_path / "lib")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "lib" / "hello_world_int8.h").exists()
    assert (tmp_path / "lib" / "tinydeploy" / "tinydeploy.h").exists()
    x = np.arange(-128, 128, dtype=np.int8).reshape(256, 1, 1)
    np.save(tmp_path / "x.npy", x)
    r = tinydeploy("run", model, "--board", "host", "--input", tmp_path / "x.npy", "--output",
                   tmp_path / "y.npy", "--sanitize")
    assert r.returncode == 0, r.stderr
    from tinydeploy.evaluate.reference import reference_outputs

    assert np.array_equal(np.load(tmp_path / "y.npy"), reference_outputs(model, [x])[0])
