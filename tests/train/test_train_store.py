"""Tuned parameters that survive a reset (lib/tinydeploy/td_train_store.c, <p>_train_save/_load of the Arduino
library's glue): the record format's checks on the host (round trip, CRC, another build, too small a store, a
board without hooks), and slow: on qemu-m4 the library trains, saves to the flash region the linker script
reserves, the machine resets (SYSRESETREQ: the image is reloaded, the RAM state is gone), loads, and the
parameters read over the device protocol equal the host-compiled step's after the same steps."""
import ctypes
import socket
import subprocess
import time
import zipfile

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401
from conftest import ROOT

from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.target import TrainFirmware, host_compiler
from tinydeploy.train import HostTrainer, export_arduino_train

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"
SPEC, LR, EPOCHS, N = "bias:all,fc:last", 0.02, 1, 4
LIB, P = "DigitsCnnInt8", "digits_cnn_int8"
OK, EMPTY, OTHER, CORRUPT, NO_ROOM, NO_STORE = 0, -1, -2, -3, -4, -5

HARNESS = r"""
#include <string.h>
#include "td_train_store.h"
#ifdef WITH_HOOKS
uint8_t store[4096];
uint32_t store_size = sizeof store;
uint32_t td_board_store_bytes(void) { return store_size; }
int td_board_store_write(uint32_t o, const void *d, uint32_t n) { memcpy(store + o, d, n); return 0; }
int td_board_store_read(uint32_t o, void *d, uint32_t n) { memcpy(d, store + o, n); return 0; }
#endif
int8_t w[10];
int32_t b[3];
float mw[10], mb[3], vb[3];
static const td_train_blob blobs[2] = {{w, 10, mw, 0, 10}, {b, 12, mb, vb, 3}};
int save(uint32_t build) { return td_train_store_save(blobs, 2, build); }
int load(uint32_t build) { return td_train_store_load(blobs, 2, build); }
uint32_t need(void) { return td_train_store_need(blobs, 2); }
"""


def _harness(tmp_path, hooks: bool) -> ctypes.CDLL:
    (tmp_path / "h.c").write_text(HARNESS)
    so = tmp_path / f"h{int(hooks)}.so"
    subprocess.run([host_compiler(), "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC",
                    *(["-DWITH_HOOKS"] if hooks else []), f"-I{RUNTIME_DIR}", str(tmp_path / "h.c"),
                    str(RUNTIME_DIR / "td_train_store.c"), "-o", str(so)], check=True)
    return ctypes.CDLL(str(so))


def _arrays(lib):
    def arr(name, ctype, n):
        return np.ctypeslib.as_array((ctype * n).in_dll(lib, name))
    return [arr("w", ctypes.c_int8, 10), arr("b", ctypes.c_int32, 3), arr("mw", ctypes.c_float, 10),
            arr("mb", ctypes.c_float, 3), arr("vb", ctypes.c_float, 3)]


def test_store_round_trip_and_checks(tmp_path):
    lib = _harness(tmp_path, hooks=True)
    parts = _arrays(lib)
    rng = np.random.default_rng(1)
    for a in parts:
        a[:] = rng.integers(-100, 100, a.size)
    saved = [a.copy() for a in parts]
    assert lib.load(7) == EMPTY  # nothing saved yet
    assert lib.need() == 16 + 10 + 40 + 12 + 12 + 12
    assert lib.save(7) == OK
    for a in parts:
        a[:] = 0
    assert lib.load(8) == OTHER and all(not a.any() for a in parts)  # another build: untouched
    store = np.ctypeslib.as_array((ctypes.c_uint8 * 4096).in_dll(lib, "store"))
    store[16 + 10 + 5] ^= 1
    assert lib.load(7) == CORRUPT and all(not a.any() for a in parts)
    store[16 + 10 + 5] ^= 1
    assert lib.load(7) == OK
    for a, want in zip(parts, saved):
        assert np.array_equal(a, want)
    ctypes.c_uint32.in_dll(lib, "store_size").value = lib.need() - 1
    assert lib.save(7) == NO_ROOM
    assert _harness(tmp_path, hooks=False).save(7) == NO_STORE  # a board without hooks links and says so


# ---- qemu-m4: train, save, reset, load ----

MENU = r"""
#include "train_data.h"
#define UART0 ((volatile uint32_t *)0x40004000u)
static void say(const char *s, int v) {
  char b[12];
  int i = 11, neg = v < 0;
  uint32_t u = neg ? (uint32_t)-v : (uint32_t)v;
  td_board_write((const uint8_t *)s, (uint16_t)strlen(s));
  b[i] = 0;
  do { b[--i] = (char)('0' + u % 10u); u /= 10u; } while (u);
  if (neg) b[--i] = '-';
  td_board_write((const uint8_t *)&b[i], (uint16_t)(11 - i));
  td_board_write((const uint8_t *)"\r\n", 2);
}
/* A byte from the UART, sleeping (WFI on the RX interrupt, as qemu_arm_device.c) rather than spinning. */
static uint8_t getc_wfi(void) {
  uint8_t c;
  __asm__ volatile("cpsid i" ::: "memory");
  *(volatile uint32_t *)0xE000E100u = 0xFFFFFFFFu;
  while (!(UART0[1] & 2u)) __asm__ volatile("wfi" ::: "memory");
  *(volatile uint32_t *)0xE000E180u = 0xFFFFFFFFu;
  c = (uint8_t)UART0[0];
  UART0[3] = 0xFu;
  *(volatile uint32_t *)0xE000E280u = 0xFFFFFFFFu;
  __asm__ volatile("cpsie i" ::: "memory");
  return c;
}
/* The Train sketch's steps on commands from the host: L load, T train the embedded epochs, S save,
 * R reset the machine (SYSRESETREQ), G serve the device protocol; H: READY (the host is listening). */
const td_device *td_model_setup(void) {
  const td_device *d = @P@_train_device_setup();
  uint32_t e, hits;
  UART0[2] = 3u | 8u;
  for (;;) {
    uint8_t c = getc_wfi();
    if (c == 'H') say("READY ", 0);
    if (c == 'L') say("LOAD ", @P@_train_load());
    if (c == 'S') say("SAVE ", @P@_train_save());
    if (c == 'T')
      for (e = 1; e <= TRAIN_EPOCHS; e++) say("EPOCH ", (int)(1000.0f * @P@_train_epoch(train_inputs, train_labels,
                                                                                  TRAIN_NUM_SAMPLES, TRAIN_LR, &hits)));
    if (c == 'R') *(volatile uint32_t *)0xE000ED0Cu = 0x05FA0004u;
    if (c == 'G') return d;
  }
}
"""


@pytest.fixture(scope="module")
def store_firmware(tmp_path_factory):
    from tinydeploy.target.protocol_firmware import build_device_firmware, device_project

    d = np.load(ROOT / "models" / "digits_test.npz")
    xs, ys = d["x_int8"][:N], ((d["y"][:N] + 1) % 10).astype(np.int64)
    tmp = tmp_path_factory.mktemp("store")
    r = export_arduino_train(DIGITS, tmp / "d.zip", SPEC, board="nano33ble", data=(xs, ys), epochs=EPOCHS, lr=LR)
    with zipfile.ZipFile(tmp / "d.zip") as z:
        files = {n: z.read(n).decode() for n in z.namelist() if not n.endswith("/")}
    fw = r.build.firmware
    zfw = TrainFirmware(model=fw.model, source=files[f"{LIB}/src/{P}.c"], train_header=files[f"{LIB}/src/{P}_train.h"],
                        value_bytes=fw.value_bytes, counts=fw.counts, input_copy=fw.input_copy, build=fw.build)
    proj = device_project(DIGITS, "qemu-m4", tmp / "fw", train=zfw)
    (proj.path / "src" / "train_data.h").write_text(files[f"{LIB}/examples/{LIB}Train/train_data.h"])
    (proj.path / "src" / "td_glue.c").write_text(files[f"{LIB}/src/{P}_train_glue.c"] + "\n#include <string.h>\n"
                                                 + MENU.replace("@P@", P))
    proj.manifest["elf_sha256"] = None
    return r, xs, ys, build_device_firmware(proj)


def _hello(sock: socket.socket, buf: list[bytes], timeout: float = 60) -> None:
    """H until READY: output before the host listens (or during a reset) is lost."""
    deadline = time.monotonic() + timeout
    sock.settimeout(0.5)
    try:
        while b"READY " not in buf[0]:
            assert time.monotonic() < deadline, buf[0][-400:]
            sock.sendall(b"H")
            try:
                buf[0] += sock.recv(4096)
            except TimeoutError:
                pass
    finally:
        sock.settimeout(120)
    _expect(sock, buf, b"READY ")


def _expect(sock: socket.socket, buf: list[bytes], marker: bytes, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while marker not in buf[0] or b"\r\n" not in buf[0].partition(marker)[2]:  # the whole line
        assert time.monotonic() < deadline, buf[0][-400:]
        chunk = sock.recv(4096)
        assert chunk, buf[0][-400:]
        buf[0] += chunk
    _, _, buf[0] = buf[0].partition(marker)
    line, _, rest = buf[0].partition(b"\r\n")
    buf[0] = rest
    return (marker + line).decode()


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_tuned_parameters_survive_a_reset_on_qemu_m4(store_firmware):
    from tinydeploy.link import DeviceClient, serial_opener, start_emulator

    r, xs, ys, elf = store_firmware
    tg, g = r.build.tc.train, r.build.tc.model.graph
    host = HostTrainer(r.build.tc)
    try:
        for x, y in zip(xs, ys):
            host.step(x, int(y), LR)
        want_values, want_masters = host.values(), host.masters()
    finally:
        host.close()
    assert any(not np.array_equal(want_values[t], g.tensors[t].data) for t in tg.params)  # the steps moved them
    emu = start_emulator("qemu-m4", elf)
    try:
        port = int(emu.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
            buf = [b""]
            _hello(s, buf)
            s.sendall(b"L")
            assert _expect(s, buf, b"LOAD ") == f"LOAD {EMPTY}"  # a fresh flash holds no record
            s.sendall(b"T")
            assert _expect(s, buf, b"EPOCH ").startswith("EPOCH ")
            s.sendall(b"S")
            assert _expect(s, buf, b"SAVE ") == f"SAVE {OK}"
            s.sendall(b"R")  # the machine resets: .data (the parameters) comes back from the image
            time.sleep(0.2)
            _hello(s, buf)
            s.sendall(b"L")
            assert _expect(s, buf, b"LOAD ") == f"LOAD {OK}"
            s.sendall(b"G")
            _expect(s, buf, b"protocol v2")
        client = DeviceClient(emu.url, [], baud=115200, timeout=30.0, expect_sha256=g.sha256, opener=serial_opener)
        client.connect(wait=15.0)
        try:
            assert client.train_info().steps == 0  # the steps ran before the reset
            for i, t in enumerate(tg.params):
                raw = client.read_param(i, 0, g.tensors[t].nbytes)
                got = np.frombuffer(raw, g.tensors[t].data.dtype).reshape(g.tensors[t].shape)
                assert np.array_equal(got, want_values[t]), t
                masters = np.frombuffer(client.read_param(i, 1, 4 * tg.updated_count(t)), np.uint32)
                assert np.array_equal(masters, want_masters[t].view(np.uint32)), t
        finally:
            client.close()
    finally:
        emu.stop()
