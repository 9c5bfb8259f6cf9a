"""The MLPerf Tiny firmware on qemu-m4 (its UART on a pty, as a USB serial port), driven by our client the
way mlcommons/tiny's runner drives a board: name/profile, db load + 31-byte db chunks, infer, results.
Performance mode (`infer 10 1`, m-lap-us) and accuracy mode over a labelled set written by
export-mlperf-data and read back as the runner reads it (y_labels.csv without header, whole .bin files)."""
import csv
import os
import signal

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.mlperf_data import export_mlperf_data
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.link.emulators import serial_opener, start_emulator
from tinydeploy.link.mlperf_client import MlperfClient
from tinydeploy.paths import cache_dir
from tinydeploy.target.protocol_firmware import ensure_firmware

pytestmark = pytest.mark.slow
N = 30  # labelled samples in accuracy mode
DECIMALS = 6  # TD_MLPERF_DECIMALS: digits after the point in m-results


@pytest.fixture(scope="module")
def board():
    """One firmware build (digits, profile model ic01), one QEMU on a pty for the whole module."""
    proj = ensure_firmware(DIGITS, "qemu-m4", cache_dir() / "test-device" / "digits_cnn_int8-qemu-m4-mlperf",
                           protocol="mlperf", mlperf_model="ic01")
    with start_emulator("qemu-m4", proj.elf, transport="pty") as emu:
        client = MlperfClient(emu.url, opener=serial_opener, timeout=10.0)
        with client:
            client.wait_ready()
            yield emu, client


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("datasets")
    export_mlperf_data(f"{DIGITS_DATA}:x_float", out, "ic01", model=DIGITS, limit=N)
    with open(out / "ic01" / "y_labels.csv") as f:  # as the runner's DataSet reads it
        rows = list(csv.DictReader(f, fieldnames=["file", "classes", "class", "bytes_to_send", "stride"]))
    return [((out / "ic01" / r["file"]).read_bytes(), int(r["class"])) for r in rows]


def dequantized(q: np.ndarray) -> np.ndarray:
    """LiteRT's int8 outputs as floats, with the output tensor's scale and zero point (float32, as the device)."""
    g = load_model(DIGITS)
    t = g.tensors[g.outputs[0]]
    return (q.astype(np.float32) - np.float32(t.zero_point)) * np.float32(t.scale)


def reference(samples: list[bytes]) -> np.ndarray:
    x = np.stack([np.frombuffer(s, np.int8).reshape(1, 8, 8, 1) for s in samples])
    return dequantized(reference_outputs(DIGITS, [x])[0].reshape(len(samples), -1))


def test_identify_as_the_runner_does(board):
    _, c = board
    ident = c.identify()
    assert ident.name == "tinydeploy" and ident.model == "ic01" and ident.profile.startswith("tinydeploy-")


def test_performance_mode_infer_10_1(board, dataset):
    """`infer 10 1`: warm-up banner, two m-lap-us stamps around 10 inferences, results equal to LiteRT's;
    under QEMU's -icount the interval is ten times the one of `infer 1 0` (deterministic instruction counts)."""
    _, c = board
    data, _ = dataset[0]
    c.load(data)
    one = c.infer(1, 0)
    ten = c.infer(10, 1)
    assert ten.warmup_done and "m-infer-start-10" in ten.lines and "m-infer-done" in ten.lines
    assert one.elapsed_us > 0 and ten.start_us > one.end_us
    # a few µs of timer reading sit inside every interval once: 10 x (infer 1) is ~0.15 % more
    assert abs(ten.elapsed_us - 10 * one.elapsed_us) <= 0.005 * ten.elapsed_us, (one.elapsed_us, ten.elapsed_us)
    assert abs(c.infer(10, 1).elapsed_us - ten.elapsed_us) <= 2  # -icount: the same instructions each time
    ref = reference([data])[0]
    for res in (one.results, ten.results, c.results()):
        assert len(res) == 10 and np.abs(np.array(res) - ref).max() <= 0.5 * 10**-DECIMALS + 1e-9
    assert c.timestamp() >= ten.end_us


def test_accuracy_mode_matches_litert(board, dataset):
    """One `db load`, chunks and `infer 1 0` per file, as the runner's accuracy script: every result equals
    LiteRT's dequantized output to the printed precision, and top-1 accuracy equals LiteRT's."""
    _, c = board
    got = []
    for data, _ in dataset:
        c.load(data)
        got.append(c.infer(1, 0).results)
    got = np.array(got)
    ref = reference([d for d, _ in dataset])
    labels = np.array([y for _, y in dataset])
    assert got.shape == (N, 10)
    assert np.abs(got - ref).max() <= 0.5 * 10**-DECIMALS + 1e-9
    assert np.array_equal(got.argmax(1), ref.argmax(1))
    acc, ref_acc = (got.argmax(1) == labels).mean(), (ref.argmax(1) == labels).mean()
    assert acc == ref_acc and acc > 0.8


def test_errors_unknown_command_and_short_input(board, dataset):
    _, c = board
    lines = c.command("frobnicate", check=False)
    assert lines[-1] == "m-ready" and any(x.startswith("e-[") and "frobnicate" in x for x in lines)
    with pytest.raises(TinyDeployError, match="refused 'frobnicate'"):
        c.command("frobnicate")
    with pytest.raises(TinyDeployError, match="refused 'db'"):
        c.load(dataset[0][0][:10])  # db load must be the model's input bytes


def test_silent_board_times_out_with_one_message(board):
    """The emulator stopped (SIGSTOP): the client's wait ends in a TinyDeployError naming the command; the
    board answers again once continued."""
    emu, c = board
    os.kill(emu.proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(TinyDeployError, match=r"no reply to 'name%' .* within 1 s") as exc:
            c.command("name", timeout=1.0)
        assert "--protocol mlperf" in exc.value.hint
    finally:
        os.kill(emu.proc.pid, signal.SIGCONT)
    c.wait_ready(timeout=10.0)  # the pending `name%` answer, then m-ready
    assert c.identify().name == "tinydeploy"


def test_lap_us_match_the_device_protocol_instruction_counts(board, dataset):
    """m-lap-us at the board's clock against the instruction count of the same inputs through the device
    protocol firmware (what eval measures; the firmware other qemu-m4 digits tests use)."""
    from device_helpers import firmware_dir

    from tinydeploy.link.client import DeviceClient
    from tinydeploy.target import load_board

    _, c = board
    clock_hz = load_board("qemu-m4").clock_hz
    proj = ensure_firmware(DIGITS, "qemu-m4", firmware_dir(DIGITS, "qemu-m4"))
    with start_emulator("qemu-m4", proj.elf) as emu:
        dev = DeviceClient(emu.url, [10], expect_sha256=load_model(DIGITS).sha256)
        dev.connect()
        try:
            for data, _ in dataset[:3]:
                count = dev.run([data]).count
                c.load(data)
                us = c.infer(10, 1).elapsed_us / 10
                assert abs(us - count / clock_hz * 1e6) <= 0.005 * us, (us, count)
        finally:
            dev.close()
