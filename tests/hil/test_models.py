"""Example hardware-in-the-loop suite: copy this folder next to your models and run

    pytest tests/hil                                   # on qemu-m4 (the default board)
    pytest tests/hil --board qemu-m4,qemu-rv32,simavr-mega -n 3
    pytest tests/hil --board nucleo_f446re --port /dev/ttyACM0
    pytest tests/hil --update-baseline                 # after an intended latency/RAM change

Every test gets the model's firmware flashed on the board (built once, reused while nothing changed),
streams inputs over the serial protocol and checks what came back. Models that do not fit a board are
skipped with the reason (what needs how many bytes).
"""
from pathlib import Path

import numpy as np
import pytest

from tinydeploy.hil import assert_bit_exact, assert_latency, assert_ram

HERE = Path(__file__).resolve().parent
REPO_MODELS = HERE.parent.parent / "models"
TEST_MODELS = HERE.parent / "data" / "models"

# model file -> (random samples for the bit-exact check, latency budget in ms per inference at the
# board's clock; on QEMU the count is instructions, taken as one per cycle; None = only the baseline)
MODELS = {
    TEST_MODELS / "hello_world_int8.tflite": (16, 10),
    TEST_MODELS / "kws_ref_model.tflite": (6, 2000),
    TEST_MODELS / "resnet8_int8.tflite": (3, 5000),
    REPO_MODELS / "digits_cnn_int8.tflite": (8, 1000),
}
DIGITS = REPO_MODELS / "digits_cnn_int8.tflite"
DIGITS_DATA = REPO_MODELS / "digits_test.npz"



@pytest.fixture(scope="module", params=list(MODELS), ids=lambda p: p.stem)
def model(request):
    """A module-scoped parameter: pytest runs every test of one model before the next model, so a
    board is flashed once per model (and xdist workers get runs of one model's tests)."""
    return request.param


def test_bit_exact(deployed, model):
    """The board's outputs are byte-for-byte LiteRT BUILTIN_REF's, on seeded random inputs."""
    d = deployed(model)
    x = d.random_inputs(MODELS[model][0], seed=1)
    assert_bit_exact(d.run(x), d.reference(x), what=f"{model.stem} on {d.board.id}")


def test_latency_and_ram_baseline(deployed, baseline, model):
    """Not slower, not bigger than tests/hil/baselines.json (refresh with --update-baseline)."""
    baseline.check(deployed(model))


def test_budgets(deployed, model):
    """Hard limits: a latency budget per inference, and arena + peak stack within the board's RAM budget."""
    d = deployed(model)
    r = d.run(d.random_inputs(1, seed=2))
    budget_ms = MODELS[model][1]
    if budget_ms is not None and d.unit == "µs":
        assert_latency(r, max_us=budget_ms * 1000)
    elif budget_ms is not None:
        assert_latency(r, max_cycles=budget_ms * 1e-3 * d.clock_hz)
    assert_ram(d, max_bytes=d.board.ram_budget or None, max_stack=d.board.stack_bytes or None)


def test_digits_accuracy_on_device(deployed):
    """On real (test-set) data: device accuracy equals the host's (LiteRT), every output identical."""
    data = np.load(DIGITS_DATA)
    d = deployed(DIGITS)
    n = 30 if d.board.id == "simavr-mega" else 120  # simavr runs ~0.4 s per digit: fewer there
    e = d.eval(data["x_int8"][:n], data["y"][:n])
    assert_bit_exact(e.outputs, e.reference)
    assert e.accuracy == e.host_accuracy > 0.9, e.report["accuracy"]


@pytest.mark.board("qemu-m4", "qemu-m7", "qemu-m55", "qemu-rv32")
def test_deterministic_instruction_counts(board):
    """On QEMU (-icount) the same input always costs the same number of instructions, even after a reset."""
    d = board.deploy(TEST_MODELS / "kws_ref_model.tflite")
    x = d.random_inputs(1, seed=3)
    first = d.run(np.repeat(x[0], 2, axis=0)).counts
    d = board.reset()
    again = d.run(x).counts
    assert d.unit == "instructions"
    assert len(set(first.tolist() + again.tolist())) == 1, (first, again)
