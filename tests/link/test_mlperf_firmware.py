"""The MLPerf Tiny "th_" firmware (lib/tinydeploy/td_mlperf.c) on qemu-m4, its UART on a pty as a USB serial
port: every command over pyserial, results equal to LiteRT's dequantized outputs to the printed precision,
m-lap-us over `infer 10 1` equal to 10 inferences' instructions (the device protocol's count) at the board
clock. The same firmware built for qemu-rv32 too, and `tinydeploy flash --protocol mlperf`."""
import re
from pathlib import Path

import numpy as np
import pytest
import serial
from device_helpers import cli, firmware_dir, public_model
from tools import require_tool

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.evaluation import evaluate
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.link.emulators import start_emulator
from tinydeploy.link.session import open_session
from tinydeploy.paths import cache_dir
from tinydeploy.target.arduino import export_arduino
from tinydeploy.target.arduino_build import SimavrPty, compile_example
from tinydeploy.target.boards import load_board
from tinydeploy.target.protocol_firmware import device_project, ensure_firmware, read_manifest

pytestmark = pytest.mark.slow
MODEL = public_model("kws_ref_model")  # MLPerf Tiny's kws01 model: a 490-byte int8 input, 12 outputs
DECIMALS = 6  # TD_MLPERF_DECIMALS
CHUNK = 31  # bytes per `db` command, as mlcommons/tiny's runner sends them


class Th:
    """A minimal th_ client: a command ends with '%', its answer with the line m-ready."""

    def __init__(self, url: str) -> None:
        self.port = serial.serial_for_url(url, 115200, timeout=20)

    def line(self) -> str:
        raw = self.port.readline()
        assert raw.endswith(b"\n"), f"no answer from the firmware (got {raw!r})"
        return raw.decode().rstrip("\r\n")

    def cmd(self, text: str) -> list[str]:
        self.port.write(f"{text}%".encode())
        lines = []
        while (ln := self.line()) != "m-ready":
            lines.append(ln)
        return lines

    def sync(self) -> None:
        """Skip the boot banner, whole, in part or not at all (what the pty kept of it before we opened it):
        `name` answers after it."""
        self.port.write(b"name%")
        seen = []
        while (ln := self.line()) != "m-name-dut-[tinydeploy]":
            seen.append(ln)
        assert all("m-init-done".endswith(ln) or "m-ready".endswith(ln) for ln in seen), seen
        assert self.line() == "m-ready"

    def load(self, data: bytes) -> list[list[str]]:
        answers = [self.cmd(f"db load {len(data)}")]
        for i in range(0, len(data), CHUNK):
            answers.append(self.cmd("db " + data[i:i + CHUNK].hex()))
        return answers


def one_input(seed: int) -> np.ndarray:
    return random_inputs(load_model(MODEL), 1, np.random.default_rng(seed))[0]  # [1, 490] int8


def lap(line: str) -> int:
    m = re.fullmatch(r"m-lap-us-(\d+)", line)
    assert m, line
    return int(m.group(1))


def results(line: str) -> np.ndarray:
    m = re.fullmatch(r"m-results-\[([^\]]+)\]", line)
    assert m, line
    values = m.group(1).split(",")
    assert all(re.fullmatch(rf"-?\d+\.\d{{{DECIMALS}}}", v) for v in values), values
    return np.array([float(v) for v in values])


def assert_litert(printed: np.ndarray, x: np.ndarray, model: Path = MODEL) -> None:
    """Equal to LiteRT's int8 outputs dequantized in float32 (as the device does), to the printed digits."""
    g = load_model(model)
    t = g.tensors[g.outputs[0]]
    q = reference_outputs(model, [x[None]])[0].reshape(-1)
    want = (q.astype(np.float32) - np.float32(t.zero_point)) * np.float32(t.scale)
    assert printed.shape == want.shape
    assert np.abs(printed - want.astype(np.float64)).max() <= 0.51 * 10.0 ** -DECIMALS, (printed, want)
    assert np.abs(want).max() > 0  # a real result, not all zeros


@pytest.fixture(scope="module")
def m4():
    proj = ensure_firmware(MODEL, "qemu-m4", cache_dir() / "test-device" / "kws_ref_model-qemu-m4-mlperf",
                           protocol="mlperf", mlperf_model="kws01")
    assert proj.model.options.input_outside_arena  # infer N W runs N + W times on one loaded input
    with start_emulator("qemu-m4", proj.elf, transport="pty") as emu:
        assert emu.url.startswith("/dev/pts/")
        th = Th(emu.url)
        th.sync()
        yield th
        th.port.close()


def test_whole_protocol_on_qemu_m4(m4):
    th = m4
    assert th.cmd("name") == ["m-name-dut-[tinydeploy]"]
    assert th.cmd("profile") == ["m-profile-[tinydeploy-0.1.0]", "m-model-[kws01]"]
    assert th.cmd("bogus 1 2") == ["e-[Unknown command: bogus]"]
    assert th.cmd("infer 1 0")[0].startswith("e-[no input")  # before any db load
    x = one_input(11)
    data = x.tobytes()
    assert len(data) == 490
    answers = th.load(data)
    assert answers[0] == ["m-[Expecting 490 bytes]"]
    assert all(a == [] for a in answers[1:-1]) and answers[-1] == ["m-load-done"]  # 16 chunks, the last one short
    dump = th.cmd("db print")
    assert len(dump) == 62 and all(ln.startswith("m-buffer-") for ln in dump)
    assert bytes.fromhex("".join(ln.removeprefix("m-buffer-").replace("-", "") for ln in dump)) == data

    out = th.cmd("infer 10 1")
    assert out[:3] == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-10"]
    assert out[5] == "m-infer-done" and len(out) == 7
    t0, t1 = lap(out[3]), lap(out[4])
    assert_litert(results(out[6]), x)
    assert th.cmd("results") == [out[6]]  # the outputs stay until the next infer

    # m-lap-us: the instructions of 10 inferences at the board clock (25 MHz), the device protocol's count
    with open_session(MODEL, "qemu-m4", project_dir=firmware_dir(MODEL, "qemu-m4"), timeout=5.0) as s:
        count = int(evaluate(s, [x]).counts[0])
    clock = load_board("qemu-m4").clock_hz
    want_us = 10 * count * 1e6 / clock
    print(f"m-lap-us over infer 10: {t1 - t0} us; 10 x {count:,} instructions at {clock / 1e6:g} MHz: {want_us:.0f} us")
    assert abs((t1 - t0) - want_us) <= 2e-4 * want_us

    (ts,) = th.cmd("timestamp")
    assert lap(ts) >= t1


def test_errors_then_ready(m4):
    """Each wrong command gets one e-[...] line, then m-ready; the loaded input survives them."""
    th = m4
    x = one_input(12)
    th.load(x.tobytes())
    assert th.cmd("db load 12") == ["e-[db load N: N must be the model's input bytes, 490]"]
    assert th.cmd("db 123")[0].startswith("e-[odd number")
    assert th.cmd("db zz")[0].startswith("e-[not a hex digit")
    assert th.cmd("infer 0")[0].startswith("e-[infer N [W]")
    assert th.cmd("db " + "ab" * 50)[0].startswith("e-[")  # longer than the command line
    assert th.cmd("")  == []  # a lone '%' (the runner's flush): just m-ready
    out = th.cmd("infer 1 0")
    assert out[0] == "m-warmup-start-0" and out[-2] == "m-infer-done"
    assert_litert(results(out[-1]), x)


def test_portable_to_rv32():
    """The same board-main switch on RISC-V (rdinstret, ns16550): bit-exact results, laps that advance."""
    proj = ensure_firmware(MODEL, "qemu-rv32", cache_dir() / "test-device" / "kws_ref_model-qemu-rv32-mlperf",
                           protocol="mlperf", mlperf_model="kws01")
    x = one_input(13)
    with start_emulator("qemu-rv32", proj.elf, transport="pty") as emu:
        th = Th(emu.url)
        th.sync()
        assert th.cmd("profile")[1] == "m-model-[kws01]"
        assert th.load(x.tobytes())[-1] == ["m-load-done"]
        out = th.cmd("infer 2 1")
        assert lap(out[4]) > lap(out[3])
        assert_litert(results(out[-1]), x)
        th.port.close()


def test_export_platformio_mlperf_project(tmp_path):
    """export-platformio --mlperf-model M --board B: the libraries with the input outside the arena and
    OUT/mlperf-<board>/, the very project `flash --protocol mlperf` builds (same manifest key: same firmware)."""
    hello = public_model("hello_world_int8")
    r = cli("export-platformio", hello, "-o", tmp_path / "out", "--mlperf-model", "ic01", cwd=tmp_path)
    assert r.returncode == 1 and "--board" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    r = cli("export-platformio", hello, "-o", tmp_path / "out", "--mlperf-model", "ic01", "--board", "m4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    pdir = tmp_path / "out" / "mlperf-qemu-m4"
    assert "-DTD_PROTOCOL_MLPERF -DTD_MLPERF_MODEL=ic01" in (pdir / "platformio.ini").read_text()
    flashed = device_project(hello, "qemu-m4", tmp_path / "flash", protocol="mlperf", mlperf_model="ic01",
                             dry_run=True)
    assert read_manifest(pdir)["key"] == flashed.manifest["key"]
    header = (tmp_path / "out" / "hello_world_int8" / "src" / "hello_world_int8.h").read_text()
    assert "input=outside" in header  # the plan options the libraries were compiled with


@require_tool("arduino-builder", "simavr", "avr-gcc")
def test_arduino_mlperf_example_on_simavr(tmp_path):
    """export-arduino --mlperf-model: the <Lib>MLPerf example, built by arduino-builder for the Mega 2560 (AVR: our
    float printer, 64-bit laps from micros()), over simavr's pty; within the Serial example's fit."""
    hello = public_model("hello_world_int8")
    r = cli("export-arduino", hello, "-o", tmp_path / "hello.zip", "--mlperf-model", "ic01", cwd=tmp_path)
    assert r.returncode == 0 and "HelloWorldInt8MLPerf" in r.stdout, r.stdout + r.stderr
    lib = export_arduino(hello, tmp_path / "again.zip", mlperf_model="ic01")  # the same library, its fit
    build = compile_example(tmp_path / "hello.zip", "MLPerf", "mega2560", tmp_path / "work")
    assert build.flash_bytes <= lib.fit["serial"].flash_needed
    assert build.ram_bytes <= lib.fit["serial"].ram_needed - lib.board.stack_bytes
    x = np.array([[-77]], np.int8)
    with SimavrPty(build.elf, "mega2560", tmp_path) as pty:
        th = Th(pty.url)
        th.sync()
        assert th.cmd("profile")[1] == "m-model-[ic01]"
        assert th.load(x.tobytes()) == [["m-[Expecting 1 bytes]"], ["m-load-done"]]
        out = th.cmd("infer 3 1")
        assert lap(out[4]) > lap(out[3])
        assert_litert(results(out[-1]), x[0], hello)
        th.port.close()


def test_flash_cli_mlperf(tmp_path):
    """`tinydeploy flash --protocol mlperf` needs --mlperf-model (one clear error, nothing built); with it, the
    firmware runs and flash prints its pty, where the runner connects."""
    r = cli("flash", MODEL, "--board", "qemu-m4", "--protocol", "mlperf", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "--mlperf-model" in r.stderr and "kws01, vww01, ad01, ic01" in r.stderr
    assert not (tmp_path / "build").exists()
    r = cli("flash", MODEL, "--board", "qemu-m4", "--protocol", "mlperf", "--mlperf-model", "kws01", "--dry-run",
            cwd=tmp_path)
    assert r.returncode == 0 and "build/device/kws_ref_model-qemu-m4-mlperf" in r.stdout, r.stderr
    pdir = cache_dir() / "test-device" / "kws_ref_model-qemu-m4-mlperf"  # the m4 tests' firmware, reused
    r = cli("flash", MODEL, "--board", "qemu-m4", "--protocol", "mlperf", "--mlperf-model", "kws01",
            "--project-dir", pdir, cwd=tmp_path)
    try:
        assert r.returncode == 0, r.stderr
        m = re.search(r"runs the MLPerf Tiny firmware \(kws01\) \(pid \d+\); serial port: (/dev/pts/\d+)", r.stdout)
        assert m, r.stdout
        th = Th(m.group(1))
        th.sync()
        assert th.cmd("profile")[1] == "m-model-[kws01]"
        th.port.close()
    finally:
        stop = cli("flash", "--stop", "--project-dir", pdir, cwd=tmp_path)
    assert "stopped the emulator" in stop.stdout, stop.stdout + stop.stderr
    again = cli("flash", "--dry-run", "--project-dir", pdir, cwd=tmp_path)  # no MODEL: the project's manifest
    assert "reuse the MLPerf Tiny (kws01) firmware project" in again.stdout, again.stdout + again.stderr


def _autoencoder(path: Path) -> Path:
    """An ad01-like int8 autoencoder (FC 40 -> 8 -> 40, random weights): input and output of one size."""
    from tinydeploy.testing.builder import ModelBuilder, options

    rng = np.random.default_rng(19)
    b = ModelBuilder()
    x = b.tensor([1, 40], "int8", 0.05, 3)
    prev, depth = x, 40
    for units, out_scale, zp in ((8, 0.08, -5), (40, 0.06, 2)):
        w = b.tensor([units, depth], "int8", 0.01, 0, data=rng.integers(-127, 128, (units, depth)))
        y = b.tensor([1, units], "int8", out_scale, zp)
        b.op("FULLY_CONNECTED", [prev, w], [y], options("FullyConnectedOptions", fusedActivationFunction=0))
        prev, depth = y, units
    path.write_bytes(b.build([x], [prev]))
    return path


def test_ad01_reports_the_anomaly_score(tmp_path):
    """With the profile ad01, `results` prints one number as MLPerf's reference firmware does: the mean squared
    error between the dequantized output and input (the runner's AUC reads it), from LiteRT's output here."""
    model = _autoencoder(tmp_path / "ae.tflite")
    proj = ensure_firmware(model, "qemu-m4", tmp_path / "fw", protocol="mlperf", mlperf_model="ad01")
    g = load_model(model)
    tin, tout = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    with start_emulator("qemu-m4", proj.elf, transport="pty") as emu:
        th = Th(emu.url)
        th.sync()
        for seed in (1, 2, 3):
            x = random_inputs(g, 1, np.random.default_rng(seed))[0]
            th.load(x.tobytes())
            (score,) = results(th.cmd("infer 1 0")[-1])
            q = reference_outputs(model, [x])[0].reshape(-1).astype(np.float32)
            out = (q - np.float32(tout.zero_point)) * np.float32(tout.scale)
            inp = (x.reshape(-1).astype(np.float32) - np.float32(tin.zero_point)) * np.float32(tin.scale)
            want = float(np.mean((out - inp).astype(np.float64) ** 2))
            assert want > 0.01 and abs(score - want) <= 1e-5 * want + 0.51e-6, (score, want)
        th.port.close()
