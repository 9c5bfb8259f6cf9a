"""Training on the board (qemu-m4, one firmware build): the digits CNN trained a few steps over the device
protocol reaches the host-compiled step's parameters and masters bit for bit; the tuned .tflite runs
bit-exactly in LiteRT and in our inference C; the board's RAM (training buffer, state, painted stack) is
reported; `tinydeploy train` end to end; clear errors for bad specs, models and boards."""
import ctypes
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile import compile_graph, load_model, parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import reference_outputs
from tinydeploy.target import build_host, load_board
from tinydeploy.train import HostTrainer, build_train_graph, generate_train_c, train_on_board

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"
SPEC, LR, MOMENTUM = "bias:all,fc:last", 0.02, 0.9
N_TRAIN, N_VAL = 10, 12


def tinydeploy(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def data():
    d = np.load(ROOT / "models" / "digits_test.npz")
    shifted = (d["y"] + 1) % 10  # a new task: the model must move
    return (d["x_int8"][:N_TRAIN], shifted[:N_TRAIN]), (d["x_int8"][200:200 + N_VAL], shifted[200:200 + N_VAL])


@pytest.fixture(scope="module")
def board_run(data, tmp_path_factory):
    """One training firmware build, one run: 10 steps with momentum, validation before and after."""
    proj = tmp_path_factory.mktemp("train-fw") / "digits-qemu-m4-train"
    (xs, ys), val = data
    r = train_on_board(DIGITS, "qemu-m4", xs, ys, SPEC, epochs=1, lr=LR, momentum=MOMENTUM, val=val,
                       project_dir=proj)
    return r, proj


@pytest.fixture(scope="module")
def host_run(data):
    """The same step compiled for the host (ctypes), after the same samples."""
    (xs, ys), _ = data
    g = load_model(DIGITS)
    tc = generate_train_c(build_train_graph(g, SPEC), g.name, momentum=MOMENTUM)
    host = HostTrainer(tc)
    top1 = getattr(host.lib, f"{tc.prefix}_train_top1")
    top1.restype = ctypes.c_int
    losses, hits = [], 0
    for x, y in zip(xs, ys):
        losses.append(host.step(x, int(y), LR))
        hits += int(top1() == y)
    yield tc, host.values(), host.masters(), losses, hits
    host.close()


@pytest.mark.slow
def test_board_reaches_the_host_step_bit_for_bit(board_run, host_run):
    """Parameters and float32 masters pulled back from the M4 equal the host's after the same 10 steps (the M4's
    FPU is IEEE single precision; both builds without fused multiply-add); losses and predictions too."""
    r, _ = board_run
    tc, values, masters, losses, hits = host_run
    assert set(r.params) == set(values) == set(tc.train.params)
    moved = 0
    for t, v in values.items():
        np.testing.assert_array_equal(r.params[t], v, err_msg=f"parameter {t}")
        np.testing.assert_array_equal(r.masters[t].view(np.int32), masters[t].view(np.int32), err_msg=f"master {t}")
        moved += int(np.any(v != tc.train.graph.tensors[t].data))
    assert moved == len(values)  # every updated tensor changed: the comparison is not of untouched copies
    (e,) = r.epochs
    assert e.samples == N_TRAIN and e.loss == float(np.mean(losses)) and e.accuracy == hits / N_TRAIN
    assert r.step_counts.shape == (N_TRAIN,) and r.step_counts.min() > 0 and r.unit == "instructions"


@pytest.mark.slow
def test_tuned_tflite_deploys_bit_exactly(board_run, data):
    """The tuned .tflite holds the board's parameters; LiteRT and our inference C agree on it bit for bit, and the
    board's validation accuracy (its inference path) before/after equals LiteRT's on the original/tuned model."""
    r, _ = board_run
    _, (xv, yv) = data
    g1 = parse_model(r.tuned, "tuned")
    for t, v in r.params.items():
        np.testing.assert_array_equal(g1.tensors[t].data, v)
    ref = reference_outputs(r.tuned, [xv])[0]
    ours = build_host([compile_graph(g1, "tuned")]).run(0, [xv])[0]
    np.testing.assert_array_equal(ours, ref)
    before = reference_outputs(DIGITS.read_bytes(), [xv])[0]
    assert r.val_before == float((before.reshape(N_VAL, -1).argmax(1) == yv).mean())
    assert r.epochs[-1].val_accuracy == float((ref.reshape(N_VAL, -1).argmax(1) == yv).mean())
    assert not np.array_equal(ref, before)


@pytest.mark.slow
def test_device_ram_is_reported(board_run, host_run):
    """Training buffer and state as the firmware reports them (= the generated step's), the input copy only when
    the backward reads the input, the canary, and the stack the protocol measured (painted)."""
    r, _ = board_run
    tc = host_run[0]
    items = dict(r.ram_items)
    assert items["training buffer"] == tc.buffer_bytes and items["masters, momentum, parameter copies"] == \
        tc.state_bytes
    assert "input copy" not in items  # bias:all,fc:last: the backward stops before the first conv
    assert 64 < items["stack peak (painted)"] < load_board("qemu-m4").stack_bytes
    assert r.ram_bytes == sum(items.values()) < r.board_ram_bytes == 256 * 1024
    assert r.to_dict()["ram"]["bytes"] == r.ram_bytes


@pytest.mark.slow
def test_cli_trains_and_writes_the_tuned_model(board_run, data, tmp_path):
    """`tinydeploy train` on 4 samples with the fixture's firmware (reused): exit 0, loss and RAM shown, the tuned
    .tflite and the JSON written."""
    _, proj = board_run
    (xs, ys), (xv, yv) = data
    np.savez(tmp_path / "train.npz", x=xs[:4], y=ys[:4])
    np.savez(tmp_path / "val.npz", x_int8=xv[:4], labels=yv[:4])
    out = tmp_path / "tuned.tflite"
    r = tinydeploy("train", DIGITS, "--board", "qemu-m4", "--data", tmp_path / "train.npz", "--val",
                   tmp_path / "val.npz", "--update", SPEC, "--epochs", 2, "--lr", LR, "--momentum", MOMENTUM,
                   "-o", out, "--project-dir", proj, "--json", tmp_path / "r.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "reused" in r.stderr
    assert "epoch 2" in r.stdout and "loss" in r.stdout and "RAM" in r.stdout and "stack peak" in r.stdout
    assert out.is_file() and not (tmp_path / "tuned.tflite.tmp").exists()
    assert parse_model(out.read_bytes()).sha256 != load_model(DIGITS).sha256
    assert '"epochs"' in (tmp_path / "r.json").read_text()


def test_cli_errors_are_one_message(tmp_path):
    """Bad spec, a model training refuses, a board too small (with the numbers), AVR (its frozen weights are read
    from flash, which the training kernels do not do): exit 1, no traceback, no output."""
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 28, 28, 1), np.int8), y=np.zeros(2, np.int64))
    out = tmp_path / "t.tflite"
    cases = [(DIGITS, "qemu-m4", "bias:all,fc:lats", ["update spec", "lats"]),
             (ROOT / "models" / "digits_cnn_float_io.tflite", "qemu-m4", SPEC, ["training needs int8"]),
             (DIGITS, "simavr-mega", SPEC, ["does not fit simavr-mega", "training buffer 5,120", "masters"]),
             (ROOT / "models" / "digits_mlp_int8.tflite", "simavr-mega", "fc:last", ["does not run on AVR"])]
    for model, board, spec, words in cases:
        r = tinydeploy("train", model, "--board", board, "--data", tmp_path / "d.npz", "--update", spec, "-o", out,
                       cwd=tmp_path)
        text = r.stdout + r.stderr
        assert r.returncode == 1 and "Traceback" not in text and "error:" in text, text
        assert all(w in text for w in words), text
        assert not out.exists() and not list(tmp_path.glob("build"))


def test_inference_firmware_refuses_training_requests():
    """Firmware without the training step NAKs TRAIN_INFO: one clear message, not a protocol error."""
    from tinydeploy.link import DeviceClient
    from tinydeploy.target import HostDevice, build_host_device

    m = compile_graph(load_model(TEST_MODELS / "hello_world_int8.tflite"))
    with HostDevice(build_host_device(m)) as dev:
        client = DeviceClient(dev.url, [1], expect_sha256=m.graph.sha256)
        client.connect()
        with pytest.raises(TinyDeployError, match="inference-only firmware"):
            client.train_info()
        client.close()


def test_host_device_trains_through_the_first_conv():
    """The training firmware on the host board (same glue and requests, a TCP port): updating the first conv's
    weights makes the backward read the input after the forward reused its bytes, so the glue keeps a copy; the
    parameters and masters pulled back equal HostTrainer's after the same steps."""
    d = np.load(ROOT / "models" / "digits_test.npz")
    xs, ys = d["x_int8"][:3], (d["y"][:3] + 1) % 10
    spec = "bias:all,conv:first"
    r = train_on_board(DIGITS, "host", xs, ys, spec, epochs=1, lr=LR)
    assert "input copy" in dict(r.ram_items)
    g = load_model(DIGITS)
    host = HostTrainer(generate_train_c(build_train_graph(g, spec), g.name))
    try:
        losses = [host.step(x, int(y), LR) for x, y in zip(xs, ys)]
        for t, v in host.values().items():
            np.testing.assert_array_equal(r.params[t], v)
            np.testing.assert_array_equal(r.masters[t].view(np.int32), host.masters()[t].view(np.int32))
        assert any(np.any(v != g.tensors[t].data) for t, v in host.values().items() if g.tensors[t].dtype == "int8")
    finally:
        host.close()
    assert r.epochs[0].loss == float(np.mean(losses))


def test_live_view_shows_epochs_and_the_running_one():
    """The CLI's rich view: a row per finished epoch (before: validation only), a line for the running one."""
    import io

    from rich.console import Console

    from tinydeploy.cli.train import TrainView
    from tinydeploy.train.session import EpochStats

    view = TrainView("digits")
    view("epoch", EpochStats(0, 0, float("nan"), float("nan"), 0.25))
    view("epoch", EpochStats(1, 40, 1.2345, 0.5, 0.625, 3.0))
    view("sample", {"epoch": 2, "done": 7, "total": 40, "loss": 0.75, "accuracy": 0.5})
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(view.render())
    text = console.export_text()
    assert "before" in text and "25.00%" in text and "1.2345" in text and "62.50%" in text
    assert "epoch 2: 7/40  loss 0.7500" in text


def test_cli_update_auto_with_a_budget(data, tmp_path):
    """`tinydeploy train --update auto --budget 16KB` (host board): auto's choice printed as a spec within the
    budget, trained and written; --budget without auto, or auto without --budget, is one clear message."""
    (xs, ys), _ = data
    np.savez(tmp_path / "train.npz", x=xs, y=ys)
    out = tmp_path / "tuned.tflite"
    r = tinydeploy("train", DIGITS, "--board", "host", "--data", tmp_path / "train.npz", "--update", "auto",
                   "--budget", "16KB", "--epochs", 1, "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("update"))
    spec = line.split(": ", 1)[1].split(" (")[0]
    buffer, state = (int(v.replace(",", "")) for v in
                     __import__("re").search(r"training buffer ([\d,]+) B \+ state ([\d,]+) B", line).groups())
    assert buffer + state <= 16 * 1024 and spec.startswith("op"), line
    assert out.is_file() and parse_model(out.read_bytes()).sha256 != load_model(DIGITS).sha256
    for extra in (["--update", "bias:all", "--budget", "16KB"], ["--update", "auto"]):
        r = tinydeploy("train", DIGITS, "--board", "host", "--data", tmp_path / "train.npz", *extra, "-o",
                       tmp_path / "x.tflite", cwd=tmp_path)
        assert r.returncode == 1 and "--budget" in r.stderr and "Traceback" not in r.stderr, r.stderr
