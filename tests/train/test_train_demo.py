"""The on-device training demo (issue 17 item 4): the demo model is poor on the shifted domain, a short
run of benchmarks/train_demo.py recovers >= 90% of the float gain with the int8 step, the sparse update
fits 256 KB and the full update does not; on qemu-m4 (slow) the board trains bit for bit as the host
and its measured RAM fits."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile import parse_model
from tinydeploy.evaluate import reference_outputs
from tinydeploy.train.auto import full_update, memory

MODEL = ROOT / "models" / "train_demo_int8.tflite"
DATA = ROOT / "models" / "train_demo_data.npz"
BUDGET = 256 * 1024
SHORT = ["--update", "bias:all,op27:w", "--epochs", "2"]  # the 500 training samples twice


def bench(tmp_path, *args) -> dict:
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_demo.py"), *args, "--json", str(out)],
                       capture_output=True, text=True, timeout=600, check=False, env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(out.read_text())


def accuracy(x, y) -> float:
    return float(np.mean(reference_outputs(MODEL.read_bytes(), [x])[0].reshape(len(y), -1).argmax(1) == y))


def test_the_model_is_good_on_the_source_and_poor_on_the_target():
    d = np.load(DATA)
    assert accuracy(d["x_source"], d["y_source"]) >= 0.9
    assert accuracy(d["x_test"], d["y_test"]) <= 0.25
    assert {k: d[k].shape[0] for k in ("x_train", "x_val", "x_test")} == {"x_train": 500, "x_val": 97, "x_test": 300}


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    return bench(tmp_path_factory.mktemp("demo"), *SHORT)


def test_short_run_recovers_the_float_gain(short_run):
    r = short_run
    assert r["float_gain"] >= 0.10, r["float"]
    assert r["recovered"] >= 0.9, (r["float"], r["int8"])
    assert r["int8"]["before"] <= 0.25 and r["float"]["before"] <= 0.25


def test_sparse_fits_256kb_and_the_full_update_does_not(short_run):
    r = short_run
    g = parse_model(MODEL.read_bytes())
    assert r["sram_bytes"] == r["buffer_bytes"] + r["state_bytes"] <= BUDGET
    assert r["full_update_sram_bytes"] == sum(memory(g, full_update(g))) > BUDGET
    assert r["updated_params"] < 0.2 * sum(g.tensors[t].size for t in full_update(g).tensors(g))


@pytest.mark.slow
def test_qemu_m4_trains_as_the_host_within_256kb(tmp_path):
    short = ["--update", "bias:all,op27:w", "--train-samples", "6", "--epochs", "1"]
    board = bench(tmp_path, *short, "--board", "qemu-m4")
    host = bench(tmp_path, *short)
    assert board["int8"]["tuned_sha256"] == host["int8"]["tuned_sha256"]
    assert board["sram_measured_on_board"] and board["sram_bytes"] <= BUDGET
    assert board["int8"]["ram_items"]["stack peak (painted)"] > 0
    assert board["step_instructions"] > 1e6
