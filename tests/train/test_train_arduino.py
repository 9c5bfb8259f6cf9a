"""export-arduino --train (tinydeploy/train/arduino.py): the library carries the training step and the example
<Lib>Train. No 32-bit Arduino core builds offline here, so: every source of both ZIPs compiles warning-free
with arm-none-eabi-gcc for nano33ble (Cortex-M4F) and pico (Cortex-M0+); slow: the library's step, glue and
epoch loop (the sketch's logic: embedded samples, then the device protocol) run on qemu-m4 and match the
host-compiled step bit for bit, and `tinydeploy train --port` trains through the library's glue. Refusals:
AVR, a board too small (with the numbers), --name."""
import ctypes
import socket
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401
from conftest import ROOT, TEST_MODELS
from tools import require_tool

from tinydeploy.errors import TinyDeployError
from tinydeploy.target import TrainFirmware, load_board
from tinydeploy.testing.builder import single_fc
from tinydeploy.train import HostTrainer, export_arduino_train, train_on_board

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"
SPEC, LR, EPOCHS, N = "bias:all,fc:last", 0.02, 2, 6
LIB, P = "DigitsCnnInt8", "digits_cnn_int8"


@pytest.fixture(scope="module")
def data():
    d = np.load(ROOT / "models" / "digits_test.npz")
    return d["x_int8"][:N], ((d["y"][:N] + 1) % 10).astype(np.int64), d["x_int8"][50:53], (d["y"][50:53] + 3) % 10


@pytest.fixture(scope="module")
def exported(data, tmp_path_factory):
    xs, ys, _, _ = data
    out = tmp_path_factory.mktemp("ard-train") / "digits.zip"
    r = export_arduino_train(DIGITS, out, SPEC, board="nano33ble", data=(xs, ys), epochs=EPOCHS, lr=LR)
    with zipfile.ZipFile(out) as z:
        files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    with zipfile.ZipFile(r.lib.runtime_path) as z:
        runtime = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    return r, files, runtime


def test_zip_carries_the_training_step_and_the_train_example(exported, data):
    r, files, _ = exported
    xs, ys, _, _ = data
    assert sorted(f for f in files if "/examples/" in f) == [
        f"{LIB}/examples/{LIB}Train/{LIB}Train.ino", f"{LIB}/examples/{LIB}Train/train_data.h"]
    assert not any(f.endswith("_device_glue.c") for f in files)
    src = files[f"{LIB}/src/{P}.c"].decode()
    assert f"float {P}_train_step(" in src and f"{P}_train_storage[DIGITS_CNN_INT8_TRAIN_BUFFER_BYTES + 16u]" in src
    glue = files[f"{LIB}/src/{P}_train_glue.c"].decode()
    assert f"const td_device *{P}_train_device_setup(void)" in glue and "td_model_setup" not in glue
    assert f"td_train.build = {r.build.firmware.build & 0xFFFFFFFF}UL" in glue
    data_h = files[f"{LIB}/examples/{LIB}Train/train_data.h"].decode()
    assert f"#define TRAIN_NUM_SAMPLES {N}u" in data_h and f"#define TRAIN_EPOCHS {EPOCHS}u" in data_h
    labels = data_h.split("train_labels[")[1].split("{")[1].split("}")[0]
    assert [int(v) for v in labels.split(",")] == ys.tolist()
    inputs = data_h.split("train_inputs[")[1].split("{")[1].split("}")[0]
    assert np.array([int(v) for v in inputs.split(",")], np.int8).tolist() == xs.ravel().tolist()
    ino = files[f"{LIB}/examples/{LIB}Train/{LIB}Train.ino"].decode()
    assert f"{P}_train_epoch(train_inputs" in ino and "td_device_feed" in ino and "@" not in ino
    props = files[f"{LIB}/library.properties"].decode()
    assert "update bias:all,fc:last" in props and f"{LIB}Train" in props
    assert dict(r.ram_items)["training buffer"] == r.build.tc.buffer_bytes and r.ram_bytes < 256 * 1024


@require_tool("arm-none-eabi-gcc")
@pytest.mark.parametrize("board", ["nano33ble", "pico"])
def test_every_source_compiles_warning_free_for_32_bit_boards(exported, board, tmp_path):
    """The Arduino IDE compiles every .c of both libraries: so do we, with the board's nearest toolchain."""
    _, files, runtime = exported
    for name, body in {**files, **runtime}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(body)
    tc = load_board(board).toolchain
    sources = sorted(str(p) for p in tmp_path.rglob("src/*.c"))
    assert any(s.endswith(f"{P}_train_glue.c") for s in sources) and any(s.endswith("td_train.c") for s in sources)
    r = subprocess.run([tc.cc, *tc.cflags, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                        f"-I{tmp_path / LIB / 'src'}", f"-I{tmp_path / 'TinyDeploy' / 'src'}", *sources],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-3000:]


def test_refusals(tmp_path, data):
    xs, ys, _, _ = data
    with pytest.raises(TinyDeployError, match="mega2560: training does not run on AVR"):
        export_arduino_train(TEST_MODELS / "hello_world_int8.tflite", tmp_path / "m.zip", "bias:all", board="mega2560")
    big = tmp_path / "big.tflite"
    big.write_bytes(single_fc(4096, 64, 3))  # fc:last: 262,144 float32 masters = 1 MB
    with pytest.raises(TinyDeployError, match=r"does not fit pico: it needs [\d,]+ B of RAM, the board has 2"):
        export_arduino_train(big, tmp_path / "big.zip", "fc:last", board="pico")
    with pytest.raises(TinyDeployError, match="--name"):
        export_arduino_train(DIGITS, tmp_path / "m.zip", "bias:all", board="nano33ble", name="other")
    with pytest.raises(TinyDeployError, match="class indices"):
        export_arduino_train(DIGITS, tmp_path / "m.zip", "bias:all", board="nano33ble", data=(xs, ys + 10))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tflite"]  # nothing written


def test_cli_train_export_and_refusal(tmp_path, data):
    xs, ys, _, _ = data
    np.savez(tmp_path / "train.npz", x_int8=xs, y=ys)
    cmd = [sys.executable, "-m", "tinydeploy", "export-arduino", str(DIGITS), "--train", "bias:all",
           "--train-data", str(tmp_path / "train.npz")]
    ok = subprocess.run(cmd + ["--board", "nano33ble", "-o", str(tmp_path / "ok.zip")], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert f"example {LIB}Train ({N} embedded samples" in ok.stdout and "fit train  RAM" in ok.stdout
    bad = subprocess.run(cmd + ["--board", "uno", "-o", str(tmp_path / "uno.zip")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    assert "does not fit uno: it needs" in bad.stderr and not (tmp_path / "uno.zip").exists()


# ---- the library's C on qemu-m4 (one firmware build) ----

SETUP = r"""
#include <string.h>
#include "train_data.h"
#define UART0 ((volatile uint32_t *)0x40004000u)
static void put_u32(uint32_t v, int hex) {
  char b[12]; int i = 11; b[i] = 0;
  do { b[--i] = "0123456789abcdef"[v % (hex ? 16u : 10u)]; v /= hex ? 16u : 10u; } while (v);
  td_board_write((const uint8_t *)&b[i], (uint16_t)(11 - i));
}
/* The Train sketch's setup() on qemu-m4: the library's device setup, a byte from the host (the sketch's
 * `while (!Serial)`), the embedded epochs (loss as float32 bits), then main() serves the protocol. */
const td_device *td_model_setup(void) {
  const td_device *d = @P@_train_device_setup();
  uint32_t e, hits, bits;
  UART0[2] = 3u;
  while (!(UART0[1] & 2u)) {
  }
  (void)UART0[0];
  for (e = 1; e <= TRAIN_EPOCHS; e++) {
    float loss = @P@_train_epoch(train_inputs, train_labels, TRAIN_NUM_SAMPLES, TRAIN_LR, &hits);
    memcpy(&bits, &loss, 4);
    td_board_write((const uint8_t *)"EPOCH ", 6); put_u32(e, 0); td_board_write((const uint8_t *)" ", 1);
    put_u32(bits, 1); td_board_write((const uint8_t *)" ", 1); put_u32(hits, 0);
    td_board_write((const uint8_t *)"\r\n", 2);
  }
  return d;
}
"""


@pytest.fixture(scope="module")
def library_firmware(exported, tmp_path_factory):
    """The training firmware for qemu-m4 with the ZIP's <p>.c, <p>_train.h and <p>_train_glue.c in place of
    the generated ones, and the sketch's setup (SETUP) as td_model_setup()."""
    from tinydeploy.target.protocol_firmware import build_device_firmware, device_project

    r, files, _ = exported
    fw = r.build.firmware
    zfw = TrainFirmware(model=fw.model, source=files[f"{LIB}/src/{P}.c"].decode(),
                        train_header=files[f"{LIB}/src/{P}_train.h"].decode(), value_bytes=fw.value_bytes,
                        counts=fw.counts, input_copy=fw.input_copy, build=fw.build)
    proj = device_project(DIGITS, "qemu-m4", tmp_path_factory.mktemp("ard-train-fw") / "fw", train=zfw)
    src = proj.path / "src"
    (src / "train_data.h").write_bytes(files[f"{LIB}/examples/{LIB}Train/train_data.h"])
    (src / "td_glue.c").write_text(files[f"{LIB}/src/{P}_train_glue.c"].decode() + SETUP.replace("@P@", P))
    proj.manifest["elf_sha256"] = None
    return build_device_firmware(proj)


def host_steps(r, trainer, xs, ys):
    top1 = getattr(trainer.lib, f"{P}_train_top1")
    top1.restype = ctypes.c_int
    total, hits = np.float32(0), 0
    for x, y in zip(xs, ys):
        total = np.float32(total + np.float32(trainer.step(x, int(y), LR)))
        hits += int(top1() == y)
    return float(np.float32(total / np.float32(len(ys)))), hits


def _read_until(sock: socket.socket, marker: bytes, timeout: float = 120) -> bytes:
    buf, deadline = b"", time.monotonic() + timeout
    while marker not in buf:
        assert time.monotonic() < deadline, buf[-500:]
        chunk = sock.recv(4096)
        assert chunk, buf[-500:]
        buf += chunk
    return buf


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_library_trains_on_qemu_m4_like_the_host_step(exported, library_firmware, data):
    from tinydeploy.link import start_emulator

    r, _, _ = exported
    xs, ys, xs2, ys2 = data
    host = HostTrainer(r.build.tc)
    try:
        want = [host_steps(r, host, xs, ys) for _ in range(EPOCHS)]
        emu = start_emulator("qemu-m4", library_firmware)
        try:
            port = int(emu.url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
                s.sendall(b"\n")  # the sketch's `while (!Serial)`: go
                text = _read_until(s, b"protocol v2").decode(errors="replace")
            got = [line.split()[1:] for line in text.splitlines() if line.startswith("EPOCH ")]
            assert [(int(e), struct.unpack("<f", struct.pack("<I", int(b, 16)))[0], int(h)) for e, b, h in got] == \
                [(e + 1, loss, hits) for e, (loss, hits) in enumerate(want)]
            # `tinydeploy train --port` through the library's glue: three more steps over the protocol
            tr = train_on_board(DIGITS, None, xs2, ys2, SPEC, epochs=1, lr=LR, port=emu.url, build=r.build)
        finally:
            emu.stop()
        host_steps(r, host, xs2, ys2)
        values, masters = host.values(), host.masters()
        assert tr.params.keys() == values.keys()
        for t in values:
            assert np.array_equal(tr.params[t], values[t]), t
            assert np.array_equal(tr.masters[t].view(np.uint32), masters[t].view(np.uint32)), t
        assert [e.samples for e in tr.epochs] == [3]
    finally:
        host.close()
