"""Emulated boards, end to end with real tools: tinydeploy writes a PlatformIO project, a real `pio run`
builds it with the tinydeploy-emu dev-platform (offline), the firmware runs in QEMU / simavr, and its
outputs equal LiteRT's (BUILTIN_REF) byte for byte. Plus `pio run -t upload`, `pio test`, the PlatformIO
libraries (`pio pkg pack`), the UART over a socket (pyserial), missing tools, and the Xtensa soft-float
and integer helpers."""
import os
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from boards_helpers import (  # noqa: F401
    MODELS,
    OUR_MODELS,
    ROOT,
    assert_clean_failure,
    compilable_model,
    float_io_model,
    path_without,
    pio_build_cache,
    tinydeploy,
)

from tinydeploy.errors import TinyDeployError
from tinydeploy.target import build_firmware, check_firmware, generate_project, parse_output, pio_build
from tinydeploy.target.pio import pio_env, pio_executable, pio_run, pio_test

HERE = Path(__file__).resolve().parent
XTENSA = ROOT / "platform" / "tinydeploy-emu" / "support" / "xtensa"

# Every shared model on every QEMU board (all fit), what fits the Mega's 8 KB SRAM on simavr, and our
# digits models where they exercise something more: real test images, float I/O on the Xtensa (soft-float
# helpers), int16 activations on RISC-V.
SHARED = ["hello_world", "kws", "resnet8"]
QEMU = ["qemu-m4", "qemu-m7", "qemu-m55", "qemu-rv32", "qemu-xtensa"]
MATRIX = [(b, m) for b in QEMU for m in SHARED] + [
    ("simavr-mega", "hello_world"), ("simavr-mega", "digits_mlp"), ("qemu-m4", "digits_cnn"),
    ("qemu-xtensa", "digits_cnn_float_io"), ("qemu-rv32", "digits_16x8"), ("qemu-m55", "digits_cnn")]
SAMPLE_KEYS = {"digits_cnn": "x_int8", "digits_mlp": "x_mlp_int8", "digits_cnn_float_io": "x_float"}

pytestmark = pytest.mark.usefixtures("pio_build_cache")  # imported fixture: one build cache per run


def _samples(model):
    key = SAMPLE_KEYS.get(model)
    return None if key is None else np.load(OUR_MODELS / "digits_test.npz")[key][:4]


@pytest.mark.slow
@pytest.mark.parametrize("board,model", MATRIX, ids=[f"{b}-{m}" for b, m in MATRIX])
def test_firmware_runs_bit_exact(board, model, tmp_path):
    path = compilable_model(model)
    check = check_firmware(path, board, tmp_path / "proj", samples=_samples(model))
    proj = check.project
    assert proj.elf.is_file() and (proj.path / "platformio.ini").is_file()            # generated, compiled
    n = proj.inputs[0].shape[0]
    assert check.run.done and sorted(check.run.cycles) == list(range(n))              # ran to the end
    assert all(c > 0 for c in check.run.cycles.values()) and check.run.cycle_unit
    assert check.mismatches == [] and check.bit_exact, check.mismatches               # bit-exact vs LiteRT
    for got, want in zip(check.outputs, proj.expected):
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    assert check.run.text.count("PASS") == n                                           # its own self-check too


@pytest.mark.slow
def test_float_io_model_on_xtensa_uses_the_soft_float_helpers(tmp_path):
    """QUANTIZE/DEQUANTIZE from/to float on the LX106, which has no FPU and whose Debian libgcc lacks
    __mulsf3, __floatsisf, ... (support/xtensa/softfloat.c provides them)."""
    model = float_io_model(tmp_path / "float_io.tflite")
    check = check_firmware(model, "qemu-xtensa", tmp_path / "proj", n_samples=4)
    assert check.bit_exact, check.mismatches
    assert check.outputs[0].dtype == np.float32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_serial(url: str, deadline: float) -> str:
    """pyserial on QEMU's UART (QEMU waits for this client before it starts the firmware)."""
    import serial

    while True:
        try:
            port = serial.serial_for_url(url, timeout=1)
            break
        except serial.SerialException:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    text = b""
    with port:   # byte by byte: QEMU closes the socket right after the firmware's last line
        while not text.endswith(b"DONE\n") and time.time() < deadline:
            text += port.read(1)
    return text.decode(errors="replace")


@pytest.mark.slow
def test_pio_upload_over_a_serial_socket_and_pio_test_on_qemu_m4(tmp_path):
    proj = generate_project(MODELS["hello_world"], "qemu-m4", tmp_path / "proj", n_samples=3)
    port = _free_port()
    ini = proj.path / "platformio.ini"          # QEMU's UART0 on a TCP socket, one flag per line
    ini.write_text(ini.read_text() + f"upload_flags =\n    -serial\n    tcp:127.0.0.1:{port},server=on,wait=on\n")
    pio_build(proj)
    # `pio run -t upload` = run in QEMU; the firmware's serial port is read with pyserial (socket://)
    up = subprocess.Popen(pio_executable() + ["run", "-e", "qemu-m4", "-t", "upload"], cwd=proj.path,
                          env=pio_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        text = _read_serial(f"socket://127.0.0.1:{port}", time.time() + 120)
        out, _ = up.communicate(timeout=120)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, out[-2000:]
    run = parse_output(text.replace("\r", ""))
    assert run.done and len(run.outputs) == 3 and "sample_2:PASS" in text
    assert [run.outputs[(s, 0)] for s in range(3)] == [bytes(x.tobytes()) for x in proj.expected[0]]
    t = pio_test(proj.path, "qemu-m4")          # custom runner: sample_<n>:PASS lines -> test cases
    assert "3 test cases: 3 succeeded" in t.output, t.tail()
    # the firmware really compares: one wrong expected byte makes `pio test` fail (exit 1)
    h = proj.path / "include" / "td_samples.h"
    text = h.read_text()
    head, tail = text.split("td_expected_outputs[TD_NUM_SAMPLES]", 1)
    i = tail.index("0x") + 2
    flipped = format(int(tail[i:i + 2], 16) ^ 1, "02x")
    h.write_text(head + "td_expected_outputs[TD_NUM_SAMPLES]" + tail[:i] + flipped + tail[i + 2:])
    bad = pio_test(proj.path, "qemu-m4", check=False)
    assert bad.returncode != 0 and "sample_0" in bad.output and "1 failed" in bad.output, bad.tail()


@pytest.mark.slow
def test_cli_build_on_an_emulated_board(tmp_path):
    r = tinydeploy("build", MODELS["hello_world"], "--board", "riscv", "-o", tmp_path / "p", "--n-samples", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    text = " ".join(r.stdout.split())
    assert "pio run built" in text and "outputs bit-exact with LiteRT" in text and "instret" in text


def test_missing_compiler_names_the_apt_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "arm-none-eabi-"))
    out = tmp_path / "proj"
    with pytest.raises(TinyDeployError) as e:
        build_firmware(MODELS["hello_world"], "qemu-m4", out)
    assert "arm-none-eabi-gcc not found" in e.value.message
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in e.value.hint
    assert (out / "platformio.ini").is_file()          # the project is written and kept


def test_missing_emulator_names_the_apt_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "qemu-system-"))
    with pytest.raises(TinyDeployError) as e:
        build_firmware(MODELS["hello_world"], "qemu-rv32", tmp_path / "proj")
    assert "qemu-system-riscv32 not found" in e.value.message and "apt-get install qemu-system-misc" in e.value.hint


def test_cli_missing_compiler(tmp_path):
    env = {**os.environ, "PATH": path_without(tmp_path, "avr-")}
    r = tinydeploy("build", MODELS["hello_world"], "--board", "simavr-mega", "-o", tmp_path / "p", env=env)
    assert_clean_failure(r, "avr-gcc not found", "apt-get install gcc-avr avr-libc")


@pytest.mark.slow
def test_plain_pio_run_without_the_compiler_says_what_to_install(tmp_path, monkeypatch):
    """A user running `pio run` in a generated project: the platform's builder checks the toolchain."""
    proj = generate_project(MODELS["hello_world"], "qemu-xtensa", tmp_path / "proj", with_reference=False)
    monkeypatch.setenv("PATH", path_without(tmp_path, "xtensa-"))
    r = pio_run(proj.path, "qemu-xtensa", check=False)
    assert r.returncode != 0
    assert "xtensa-lx106-elf-gcc not found; install it: apt-get install gcc-xtensa-lx106" in r.output


@pytest.mark.slow
def test_export_platformio_libraries_pack(tmp_path):
    out = tmp_path / "libs"
    r = tinydeploy("export-platformio", MODELS["kws"], "-o", out, "--pack")
    assert r.returncode == 0, r.stdout + r.stderr
    import json
    model_lib = json.loads((out / "kws_ref_model" / "library.json").read_text())
    runtime = json.loads((out / "tinydeploy" / "library.json").read_text())
    assert model_lib["name"] == "kws_ref_model" and model_lib["dependencies"][0]["name"] == "tinydeploy"
    for lib in (model_lib, runtime):
        assert lib["version"] and lib["keywords"] and lib["frameworks"] == "*" and lib["platforms"] == "*"
    packs = sorted((out / "packages").glob("*.tar.gz"))
    assert [p.name for p in packs] == ["kws_ref_model-1.0.0.tar.gz", f"tinydeploy-{runtime['version']}.tar.gz"]
    for p in packs:
        with tarfile.open(p) as tf:
            names = tf.getnames()
        assert "library.json" in names and any(n.startswith("src/") and n.endswith(".c") for n in names)
    # every kernel file in one src/ (as the Arduino IDE and PlatformIO compile it): no duplicate symbols
    srcs = sorted((out / "tinydeploy" / "src").glob("*.c"))
    objs = []
    for s in srcs:
        o = tmp_path / (s.stem + ".o")
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O1", "-c", str(s), "-o", str(o)],
                       check=True, capture_output=True)
        objs.append(str(o))
    r = subprocess.run(["arm-none-eabi-ld", "-r", "-o", str(tmp_path / "all.o")] + objs, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_bad_export_output_folder_is_refused(tmp_path):
    out = tmp_path / "not-ours"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    r = tinydeploy("export-platformio", MODELS["hello_world"], "-o", out)
    assert_clean_failure(r, "is not a tinydeploy project")
    assert (out / "precious.txt").read_text() == "keep me"


def test_xtensa_helpers_match_the_host(tmp_path):
    """support/xtensa/{softfloat,libgcc_extra}.c (Debian's lx106 libgcc lacks them) against the host's FPU
    and integer operators: random, near-equal-exponent, subnormal and special operands, bit for bit."""
    exe = tmp_path / "check"
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-DTD_HELPER(n)=td_##n", "-o", str(exe),
                    str(HERE / "xtensa_helpers_check.c"), str(XTENSA / "softfloat.c"), str(XTENSA / "libgcc_extra.c")],
                   check=True)
    r = subprocess.run([str(exe), "300000"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and ", 0 wrong" in r.stdout, r.stdout
