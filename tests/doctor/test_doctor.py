"""`tinydeploy doctor`: the real checks pass on a set-up machine, and a missing part is named with its fix."""
import json
import os
import subprocess
import sys

import pytest
from boards_helpers import path_without

from tinydeploy.doctor import Report, plan
from tinydeploy.doctor.base import Check, diagnose
from tinydeploy.doctor.system import python_check


def doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinydeploy", "doctor", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def doctor_json(*args: str, env: dict | None = None) -> tuple[int, dict]:
    r = doctor(*args, "--json", env=env)
    assert "Traceback" not in r.stderr, r.stderr
    return r.returncode, json.loads(r.stdout)


def failed(report: dict) -> list[dict]:
    return [c for c in report["checks"] if not c["ok"] and c["level"] == "required"]


@pytest.mark.slow
def test_real_doctor_passes_here():
    """After scripts/setup.sh every part the emulated boards and the test suite need works, within 60 s."""
    rc, rep = doctor_json()
    bad = "\n".join(f"{c['part']}: {c['detail']} -> {c['fix']}" for c in failed(rep))
    assert rc == 0 and rep["ok"], f"doctor found missing parts:\n{bad}"
    parts = " ".join(c["part"] for c in rep["checks"])
    for needed in ("arm-none-eabi-g++", "riscv64-unknown-elf-gcc", "xtensa-lx106-elf-gcc", "avr-gcc",
                   "qemu-system-arm", "qemu-system-riscv32", "qemu-system-xtensa", "simavr", "PlatformIO",
                   "arduino-builder", "libsimavr", "dialout", "udev", "network"):
        assert needed in parts, f"{needed} is not checked: {parts}"
    assert rep["seconds"] < 60


def test_missing_compiler_is_named_with_its_package(tmp_path):
    """A PATH without riscv64-unknown-elf-*: the rv32 board fails and says what to install."""
    env = {**os.environ, "PATH": path_without(tmp_path, "riscv64-")}
    rc, rep = doctor_json("--board", "qemu-rv32", env=env)
    assert rc == 1 and rep["ok"] is False
    gcc = next(c for c in rep["checks"] if c["part"].startswith("riscv64-unknown-elf-gcc"))
    assert not gcc["ok"]
    assert "riscv64-unknown-elf-gcc not found" in gcc["detail"]
    assert "sudo apt-get install -y gcc-riscv64-unknown-elf" in gcc["fix"]
    assert any("gcc-riscv64-unknown-elf" in f for f in rep["fixes"])
    # the other parts the board needs are still checked
    assert any(c["part"].startswith("qemu-system-riscv32") and c["ok"] for c in rep["checks"])


def test_missing_cxx_library_is_named(tmp_path):
    """An arm-none-eabi-g++ whose link fails as on a machine without libstdc++-arm-none-eabi-newlib."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    gxx = fake / "arm-none-eabi-g++"
    gxx.write_text("#!/bin/sh\necho '/usr/lib/gcc/arm-none-eabi/12.2.1/../../../arm-none-eabi/bin/ld: "
                   "cannot find -lstdc++_nano: No such file or directory' >&2\n"
                   "echo 'collect2: error: ld returned 1 exit status' >&2\nexit 1\n")
    gxx.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    rc, rep = doctor_json("--board", "qemu-m4", env=env)
    assert rc == 1
    cxx = next(c for c in rep["checks"] if c["part"].startswith("arm-none-eabi-g++"))
    assert not cxx["ok"] and "-lstdc++_nano" in cxx["detail"]
    assert cxx["fix"] == "sudo apt-get install -y libstdc++-arm-none-eabi-newlib"
    c_row = next(c for c in rep["checks"] if c["part"].startswith("arm-none-eabi-gcc"))
    assert c_row["ok"], c_row          # only the C++ library is missing, not the C toolchain
    assert "sudo apt-get install -y libstdc++-arm-none-eabi-newlib" in rep["fixes"]


def test_table_names_the_missing_host_compiler(tmp_path):
    """The rich table (no --json): the host board without g++ exits 1 and prints the fix line."""
    env = {**os.environ, "PATH": path_without(tmp_path, "g++", "c++", "x86_64-linux-gnu-g++"), "COLUMNS": "200"}
    r = doctor("--board", "host", env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Traceback" not in out
    assert "g++ not found on PATH" in out and "missing" in out
    assert "sudo apt-get install -y gcc g++" in out
    ok = doctor("--board", "host")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "gcc: C (host)" in ok.stdout and "all needed parts work" in ok.stdout


@pytest.mark.parametrize("message, package", [
    ("arm-none-eabi/bin/ld: cannot find -lstdc++_nano: No such file or directory", "libstdc++-arm-none-eabi-newlib"),
    ("arm-none-eabi-gcc: fatal error: cannot read spec file 'nano.specs': No such file", "libnewlib-arm-none-eabi"),
    ("riscv64-unknown-elf-gcc: fatal error: cannot read spec file 'picolibc.specs'", "picolibc-riscv64-unknown-elf"),
    ("t.c:1:10: fatal error: avr/io.h: No such file or directory", "avr-libc"),
    ("probe.c:1:10: fatal error: sim_avr.h: No such file or directory", "libsimavr-dev"),
    ("Error: xtensa-lx106-elf-gcc not found; install it: apt-get install gcc-xtensa-lx106", "gcc-xtensa-lx106"),
])
def test_error_messages_name_their_package(message, package):
    assert diagnose(message) == [package]
    assert diagnose("all good") == []


def test_boards_map_to_their_checks():
    def names(*boards: str) -> list[str]:
        return [name for name, _ in plan(list(boards))[1]]

    assert names("qemu-m4") == ["platformio", "arm", "python"]
    assert names("esp32-c3") == ["riscv", "python", "serial"]          # real: cross-check + permissions
    assert names("esp32dev") == ["xtensa", "python", "serial"]
    assert names("uno") == ["arduino-uno", "avr", "libsimavr", "python", "serial"]
    assert names("simavr-mega") == ["platformio", "avr", "libsimavr", "python"]
    assert names("host") == ["host", "python"]
    default = names()
    for family in ("platformio", "arduino-uno", "arm", "riscv", "xtensa", "avr", "host", "libsimavr", "serial"):
        assert family in default


def test_warnings_and_information_never_fail():
    rows = [Check("a", True, ""), Check("udev", False, "missing", "sudo cp ...", level="warning"),
            Check("network", True, "", "pio pkg install", level="info")]
    assert Report([], rows, 0.0).ok
    rows.append(Check("gcc", False, "not found", "sudo apt-get install -y gcc"))
    rows.append(Check("g++", False, "not found", "sudo apt-get install -y g++ gcc"))
    rep = Report([], rows, 0.0)
    assert not rep.ok
    assert rep.fixes() == ["sudo apt-get install -y gcc g++"]


def test_python_packages_missing_or_off_their_pin():
    assert python_check(("pytest",), "py").ok
    off = python_check(("pytest",), "py", {"pytest": "0.0.1"})
    assert not off.ok and "(want 0.0.1)" in off.detail and "pip" in off.fix
    gone = python_check(("no-such-dist-td",), "py")
    assert not gone.ok and "no-such-dist-td missing" in gone.detail
