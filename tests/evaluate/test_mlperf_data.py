"""export-mlperf-data: the MLPerf Tiny runner's dataset layout (one .bin per sample, y_labels.csv without a
header), read back the way mlcommons/tiny's runner reads it (csv.DictReader with fixed field names)."""
import csv
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS

from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.mlperf_data import export_mlperf_data

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"
DATA = ROOT / "models" / "digits_test.npz"
FIELDS = ["file", "classes", "class", "bytes_to_send", "stride"]  # the runner's datasets.py


def runner_read(folder):
    """[(row, bytes)] as the runner's DataSet: every line of y_labels.csv is a sample, file read whole."""
    with open(folder / "y_labels.csv") as f:
        rows = list(csv.DictReader(f, fieldnames=FIELDS))
    return [(r, (folder / r["file"]).read_bytes()) for r in rows]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "tinydeploy", "export-mlperf-data", *map(str, args)],
                          check=False, capture_output=True, text=True, timeout=120)


def test_float_samples_quantized_with_the_model_input_scale(tmp_path):
    """x_float through the digits model's input quantization gives the shipped x_int8 bytes; labels come
    from y in the same .npz; classes from the model's 10 outputs."""
    d = np.load(DATA)
    r = export_mlperf_data(f"{DATA}:x_float", tmp_path, "kws01", model=DIGITS, limit=25)
    assert r.folder == tmp_path / "kws01" and r.quantized and r.samples == 25 and r.sample_bytes == 64
    got = runner_read(r.folder)
    assert len(got) == 25
    for i, (row, data) in enumerate(got):
        assert data == d["x_int8"][i].tobytes()
        assert int(row["class"]) == d["y"][i] and int(row["classes"]) == 10
        assert int(row["bytes_to_send"]) == int(row["stride"]) == 64 == len(data)
    assert sorted(p.name for p in r.folder.iterdir()) == sorted([row["file"] for row, _ in got] + ["y_labels.csv"])


def test_integer_samples_without_a_model_and_the_folder_guessed(tmp_path):
    """490-byte int8 samples are kws01's input (49x10x1); bytes kept as they are; explicit --labels."""
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (6, 49, 10, 1)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(6) % 4)
    r = export_mlperf_data(tmp_path / "x.npy", tmp_path / "datasets", labels=tmp_path / "y.npy")
    assert r.mlperf_model == "kws01" and not r.quantized
    got = runner_read(tmp_path / "datasets" / "kws01")
    assert [data for _, data in got] == [s.tobytes() for s in x]
    assert [int(row["class"]) for row, _ in got] == [0, 1, 2, 3, 0, 1]


def test_folder_of_images_labels_from_class_folders(tmp_path):
    from PIL import Image

    d = np.load(DATA)
    for i in range(8):
        sub = tmp_path / "imgs" / ["cat", "dog"][i % 2]
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray((d["x_float"][i, :, :, 0] * 255).round().astype(np.uint8), "L").save(sub / f"{i}.png")
    r = export_mlperf_data(tmp_path / "imgs", tmp_path / "out", "vww01", model=DIGITS)
    got = runner_read(tmp_path / "out" / "vww01")
    assert r.classes == 2 and r.labelled and len(got) == 8
    for row, data in got:
        assert row["file"].endswith(("_cat.bin", "_dog.bin")) and len(data) == 64
        assert int(row["class"]) == (0 if row["file"].endswith("_cat.bin") else 1)


def test_unlabelled_samples_get_class_minus_one(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 640), np.int8))
    r = export_mlperf_data(tmp_path / "x.npy", tmp_path)
    assert r.mlperf_model == "ad01" and not r.labelled
    assert [(row["class"], row["classes"]) for row, _ in runner_read(tmp_path / "ad01")] == [("-1", "2")] * 3


@pytest.mark.parametrize("args, message", [
    ([f"{DATA}:x_float", "--mlperf-model", "kws01"], "pass --model MODEL.tflite"),
    ([f"{DATA}:x_int8"], "which MLPerf Tiny benchmark is a 64-element input"),
    ([f"{DATA}:x_int8", "--mlperf-model", "kws02"], "unknown MLPerf Tiny model 'kws02'"),
    ([str(DATA), "--mlperf-model", "kws01"], "which array of"),
    ([f"{DATA}:x_int8", "--mlperf-model", "ic01", "--model", TEST_MODELS / "kws_ref_model.tflite"],
     "is not [N, 1, 49, 10, 1]"),
])
def test_errors_are_one_message_and_write_nothing(tmp_path, args, message):
    p = cli(*args, "-o", tmp_path / "ds")
    assert p.returncode == 1 and message in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "ds").exists() or not any((tmp_path / "ds").iterdir())


def test_existing_folder_kept_unless_force(tmp_path):
    (tmp_path / "kws01").mkdir()
    (tmp_path / "kws01" / "official.bin").write_bytes(b"x")
    p = cli(f"{DATA}:x_int8", "--mlperf-model", "kws01", "-o", tmp_path, "-n", "4")
    assert p.returncode == 1 and "already exists" in p.stderr and "--force" in p.stderr
    assert [f.name for f in (tmp_path / "kws01").iterdir()] == ["official.bin"]
    p = cli(f"{DATA}:x_int8", "--mlperf-model", "kws01", "-o", tmp_path, "-n", "4", "--force")
    assert p.returncode == 0, p.stderr
    assert "4 samples of 64 bytes int8" in p.stdout
    assert len(runner_read(tmp_path / "kws01")) == 4 and not (tmp_path / "kws01" / "official.bin").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["kws01"]  # no temp folder left beside it


def test_label_count_must_match(tmp_path):
    np.save(tmp_path / "y.npy", np.zeros(5, np.int64))
    with pytest.raises(TinyDeployError, match="360 samples but 5 labels"):
        export_mlperf_data(f"{DATA}:x_int8", tmp_path, "kws01", labels=tmp_path / "y.npy")
    assert not (tmp_path / "kws01").exists()
