"""`eval` on emulated boards: bit-exact with LiteRT on the shared models, deterministic instruction counts,
the digits demo model's on-device accuracy equal to the host's."""
import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, firmware_dir, public_model

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.evaluation import evaluate, report_dict
from tinydeploy.link.session import open_session

pytestmark = pytest.mark.slow


def run_eval(model, board, xs, labels=None):
    with open_session(model, board, project_dir=firmware_dir(model, board), timeout=5.0) as s:
        assert s.started is not None and s.url.startswith(("socket://", "/dev/pts/"))
        return evaluate(s, xs, labels), s.hello


@pytest.mark.parametrize("name,n", [("hello_world_int8", 20), ("kws_ref_model", 20), ("resnet8_int8", 12)])
def test_qemu_m4_bit_exact_and_deterministic(name, n):
    model = public_model(name)
    g = load_model(model)
    xs = random_inputs(g, n, np.random.default_rng(7))
    r, hello = run_eval(model, "qemu-m4", xs)
    rep = report_dict(r)
    assert rep["bit_exact"]["all"], rep["bit_exact"]
    assert hello.unit == "instructions" and hello.sha256 == g.sha256
    assert (r.counts > 0).all() and r.canary_ok and 0 < r.stack_peak_bytes < 8192
    assert r.arena_bytes == hello.arena_bytes
    # a fresh emulator (a second run of the same firmware): the same count for the same input
    again, _ = run_eval(model, "qemu-m4", [x[:3] for x in xs])
    assert again.counts.tolist() == r.counts[:3].tolist()
    assert again.agree.all()


def test_qemu_m4_same_input_same_count():
    """Within one run too: one input repeated gives one count, whatever the link timing."""
    model = public_model("kws_ref_model")
    x = random_inputs(load_model(model), 1, np.random.default_rng(3))[0]
    r, _ = run_eval(model, "qemu-m4", [np.repeat(x, 4, axis=0)])
    assert len(set(r.counts.tolist())) == 1 and r.agree.all()


def test_digits_on_device_accuracy_equals_host():
    data = np.load(DIGITS_DATA)
    r, _ = run_eval(DIGITS, "qemu-m4", [data["x_int8"]], data["y"])
    rep = report_dict(r)
    assert rep["bit_exact"]["all"]
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"] > 0.95
    assert rep["samples"] == 360 and sum(map(sum, rep["confusion"])) == 360


@pytest.mark.parametrize("board", ["qemu-rv32", "qemu-m55"])
def test_other_qemu_boards(board):
    """rv32: rdinstret (exact); m55 (mps3-an547): another UART address and a 32 MHz SysTick."""
    model = public_model("hello_world_int8")
    g = load_model(model)
    xs = random_inputs(g, 10, np.random.default_rng(1))
    r, hello = run_eval(model, board, xs)
    assert r.agree.all() and hello.unit == "instructions" and r.canary_ok
    assert 1000 < r.counts.min() < 20000  # a 3-layer MLP: thousands of instructions, not ticks
    again, _ = run_eval(model, board, [x[:2] for x in xs])
    assert again.counts.tolist() == r.counts[:2].tolist()


def test_simavr_mega_cycles_deterministic_and_digits_mlp():
    """ATmega2560 in simavr over a real PTY: CPU cycles (Timer1) per invoke, same on every run."""
    from device_helpers import MODELS

    model = MODELS / "digits_mlp_int8.tflite"
    data = np.load(DIGITS_DATA)
    xs, ys = [data["x_mlp_int8"][:24]], data["y"][:24]
    r, hello = run_eval(model, "simavr-mega", xs, ys)
    rep = report_dict(r)
    assert rep["bit_exact"]["all"] and rep["accuracy"]["device"] == rep["accuracy"]["host"]
    assert hello.unit == "cycles" and hello.clock_hz == 16_000_000 and "mean_us" in rep["latency"]
    assert r.canary_ok and 0 < r.stack_peak_bytes < 512
    again, _ = run_eval(model, "simavr-mega", [x[:3] for x in xs])
    assert again.counts.tolist() == r.counts[:3].tolist()


def test_stateful_lstm_every_sample_from_a_fresh_state():
    """A model with state (an integer LSTM): the device clears its state before every INVOKE, as the
    reference does per sample, so every sample is bit-exact, not only the first."""
    model = public_model("hello_world_int8").parents[1] / "lstm" / "mnist20.tflite"
    xs = random_inputs(load_model(model), 6, np.random.default_rng(11))
    r, _ = run_eval(model, "qemu-m4", xs)
    assert r.agree.all(), r.agree.tolist()
    again, _ = run_eval(model, "qemu-m4", [x[::-1] for x in xs])  # another order: the same outputs
    assert again.agree.all()


def test_eval_with_patch_based_inference_on_qemu_m4(tmp_path):
    """--patch on eval: the firmware runs the patched plan (smaller arena), bit-exact with LiteRT."""
    from device_helpers import cli
    import json

    data = np.load(DIGITS_DATA)
    np.savez(tmp_path / "x.npz", x=data["x_int8"][:12])
    runs = {}
    for patch in ("off", "auto"):
        r = cli("eval", DIGITS, "--board", "qemu-m4", "--inputs", f"{tmp_path / 'x.npz'}:x", "--patch", patch,
                "--json", tmp_path / f"{patch}.json", "--project-dir", tmp_path / patch)
        assert r.returncode == 0, r.stderr
        runs[patch] = json.loads((tmp_path / f"{patch}.json").read_text())
        assert runs[patch]["bit_exact"]["all"]
    assert runs["auto"]["memory"]["arena_bytes"] < runs["off"]["memory"]["arena_bytes"]
    assert "patch=auto" in (tmp_path / "auto").joinpath("lib").rglob("digits_cnn_int8.c").__next__().read_text()
