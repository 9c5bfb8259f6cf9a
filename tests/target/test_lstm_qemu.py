"""The integer LSTM on the emulated Cortex-M4: TFLM's MNIST LSTM shape (tests/data/lstm/mnist20.tflite)
built with a real `pio run`, run in QEMU, outputs equal to LiteRT BUILTIN_REF byte for byte; the
inputs include ones that saturate the gates and run the cell into its limits."""
from pathlib import Path

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401  (fixture)

from tinydeploy.target import check_firmware

MODEL = Path(__file__).resolve().parents[1] / "data" / "lstm" / "mnist20.tflite"


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_lstm_bit_exact_on_qemu_m4(tmp_path):
    rng = np.random.default_rng(15)
    x = rng.integers(-128, 128, (6, 1, 28, 28)).astype(np.int8)
    x[3] = 127                      # every pixel at full scale: gates and cell far past calibration
    x[4] = -128
    x[5, :, 14:] = -128             # full scale for half the rows, then nothing
    x[5, :, :14] = 127
    check = check_firmware(MODEL, "qemu-m4", tmp_path / "proj", samples=x, timeout=120)
    assert check.run.done and sorted(check.run.cycles) == list(range(6))
    assert check.mismatches == [] and check.bit_exact, check.mismatches
    for got, want in zip(check.outputs, check.project.expected):
        assert got.tobytes() == want.tobytes()
    assert len({bytes(o) for o in check.project.expected[0]}) > 3        # the samples give different outputs
