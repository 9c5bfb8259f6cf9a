"""Checks beyond the compilers: PlatformIO offline with the emulated platform, arduino-builder, libsimavr,
the Python packages, the test suite's tools, serial-port permissions, real-board platforms."""
from __future__ import annotations

import grp
import importlib.metadata
import os
import sys
import time
from pathlib import Path

from ..paths import PLATFORM_DIR
from ..target import BoardProfile
from .base import Check, apt_fix, diagnose, in_root, last_lines, pip_fix, run, which

PIO_VERSION = "6.2.0"
PIO_MAIN = r"""#include "td_emu_board.h"
struct Hello { const char *s; unsigned n; void say() const { td_board_write(s, n); } };
int main(void) { td_board_init(); Hello{"TD-DOCTOR-OK\n", 13}.say(); return 0; }
"""
SKETCH = "void setup() { Serial.begin(115200); Serial.println(F(\"ok\")); }\nvoid loop() {}\n"
SIMAVR_PROBE = r"""#include "sim_avr.h"
#include "parts/uart_pty.h"
int main(void) { /* what the PTY harness (tinydeploy/project/arduino_build.py) links against */
  void (*pty)(struct avr_t *, uart_pty_t *) = uart_pty_init;
  return avr_make_mcu_by_name("atmega2560") && pty ? 0 : 1;
}
"""
UDEV_RULES = Path("/etc/udev/rules.d/99-platformio-udev.rules")
UDEV_URL = "https://raw.githubusercontent.com/platformio/platformio-core/develop/platformio/assets/system/" \
           "99-platformio-udev.rules"
DOWNLOAD_SIGNS = ("HTTPClientError", "Installing", "ConnectionError", "Could not resolve", "InternetConnectionError")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def python_check(dists: tuple[str, ...], label: str, pins: dict[str, str] | None = None) -> Check:
    """The Python packages are installed in this Python (and pinned ones have their version)."""
    found = {d: _version(d) for d in dists}
    bad = [f"{d} missing" for d, v in found.items() if v is None] + \
        [f"{d} {found[d]} (want {want})" for d, want in (pins or {}).items() if found.get(d) not in (None, want)]
    if bad:
        return Check(label, False, "; ".join(bad), pip_fix())
    return Check(label, True, ", ".join(f"{d} {v}" for d, v in found.items()))


def pio_checks(boards: list[BoardProfile], tmp: Path, deadline: float) -> list[Check]:
    """`pio run` of a tiny C++ firmware per board with the private core dir, offline (before `deadline`,
    time.monotonic())."""
    from ..errors import TinyDeployError
    from ..target import pio_executable, prepare_core_dir, run_pio

    parts = [f"PlatformIO offline: pio run -e {b.id}" for b in boards]
    try:
        pio_executable()
        prepare_core_dir()
    except TinyDeployError as exc:
        return [Check(p, False, str(exc), pip_fix()) for p in parts]
    proj = tmp / "pio-project"
    (proj / "src").mkdir(parents=True, exist_ok=True)
    (proj / "src" / "main.cpp").write_text(PIO_MAIN)
    envs = [f"[env:{b.id}]\nplatform = symlink://{PLATFORM_DIR}\nboard = {b.id}\n" for b in boards]
    (proj / "platformio.ini").write_text("[platformio]\n\n" + "\n".join(envs))
    rows = []
    for part, b in zip(parts, boards):
        left = int(deadline - time.monotonic())
        if left < 5:
            rows.append(Check(part, False, "not run: the time for the doctor was up", "rerun tinydeploy doctor"))
            continue
        try:
            r = run_pio(["run", "-e", b.id], proj, timeout=min(45, left), check=False)
        except TinyDeployError as exc:
            rows.append(Check(part, False, str(exc), pip_fix()))
            continue
        if r.returncode == 0 and (proj / ".pio" / "build" / b.id / "firmware.elf").exists():
            rows.append(Check(part, True, "built a C++ firmware.elf with the tinydeploy-emu platform, offline"))
            continue
        pkgs = diagnose(r.output)
        if r.returncode == 124:
            detail, fix = "timed out (a download attempt?)", in_root("bash scripts/setup.sh")
        elif not pkgs and any(s in r.output for s in DOWNLOAD_SIGNS):
            detail, fix = "PlatformIO tried to download a package (offline only tinydeploy-emu works)", \
                in_root("bash scripts/setup.sh")   # seeds the private core dir
        else:
            detail, fix = last_lines(r.output, 2), apt_fix(*pkgs) if pkgs else in_root("bash scripts/setup.sh")
        rows.append(Check(part, False, detail, fix))
    return rows


def arduino_check(b: BoardProfile, tmp: Path) -> Check:
    """arduino-builder compiles a minimal sketch with the flags tinydeploy uses (arduino_build.py)."""
    from ..target import FQBN, HARDWARE

    fqbn = FQBN[b.id]
    part = f"arduino-builder: sketch for {fqbn}"
    builder = which("arduino-builder")
    if not builder:
        return Check(part, False, "arduino-builder not found on PATH", apt_fix("arduino-builder arduino"))
    if not (HARDWARE / "arduino" / "avr" / "boards.txt").exists():
        return Check(part, False, f"no Arduino AVR core in {HARDWARE}", apt_fix("arduino"))
    sketch = tmp / f"doctor_{b.id}" / f"doctor_{b.id}.ino"
    (build := tmp / f"build-{b.id}").mkdir(parents=True, exist_ok=True)
    sketch.parent.mkdir(parents=True, exist_ok=True)
    sketch.write_text(SKETCH)
    (tmp / "libraries").mkdir(exist_ok=True)
    r = run([builder, "-compile", "-hardware", str(HARDWARE), "-tools", str(HARDWARE / "tools" / "avr"),
             "-libraries", str(tmp / "libraries"), "-fqbn", fqbn,
             "-prefs", "compiler.cpp.extra_flags=-DDECIMAL_DIG=9", "-prefs", "compiler.warning_level=all",
             "-build-path", str(build), str(sketch)], timeout=45)
    if r.returncode == 0 and (build / f"{sketch.name}.elf").exists():
        return Check(part, True, "compiled and linked a sketch (Arduino core, avr-gcc)")
    why = "timed out after 45 s" if r.timed_out else last_lines(r.output, 2)
    return Check(part, False, why, apt_fix(*(diagnose(r.output) or ["arduino arduino-builder gcc-avr avr-libc"])))


def libsimavr_check(tmp: Path) -> Check:
    """Link and run a program against libsimavr + libsimavrparts (the simavr PTY harness needs them)."""
    part = "libsimavr (simavr PTY harness)"
    if not which("gcc"):
        return Check(part, False, "gcc not found on PATH (it builds the harness)", apt_fix("gcc libsimavr-dev"))
    src, exe = tmp / "simavr_probe.c", tmp / "simavr_probe"
    src.write_text(SIMAVR_PROBE)
    r = run(["gcc", "-I/usr/include/simavr", str(src), "-o", str(exe), "-lsimavr", "-lsimavrparts",
             "-lpthread", "-lutil"], timeout=30)
    if r.returncode == 0:
        r = run([str(exe)], timeout=10)
        if r.returncode == 0:
            return Check(part, True, "linked and ran a program against libsimavr/libsimavrparts")
    return Check(part, False, last_lines(r.output, 2) or f"exit status {r.returncode}",
                 apt_fix(*(diagnose(r.output) or ["libsimavr-dev"])))


def tools_check(tools: dict[str, str]) -> Check:
    """Programs the test suite runs (tool -> Debian package)."""
    missing = [t for t in tools if not which(t)]
    if missing:
        return Check(f"test tools: {', '.join(tools)}", False, f"not found: {', '.join(missing)}",
                     apt_fix(*(tools[t] for t in missing)))
    return Check(f"test tools: {', '.join(tools)}", True, "all found")


def serial_checks() -> list[Check]:
    """Real boards: the user may open /dev/ttyUSB*/ttyACM* (dialout) and udev knows the boards (warnings)."""
    rows = []
    part = "serial ports: dialout group"
    if os.geteuid() == 0:
        rows.append(Check(part, True, "running as root: every serial port is accessible", level="warning"))
    else:
        try:
            g = grp.getgrnam("dialout")
        except KeyError:
            g = None
        user = os.environ.get("USER") or os.environ.get("LOGNAME") or ""
        if g and g.gr_gid in os.getgroups():
            rows.append(Check(part, True, "this session is in dialout", level="warning"))
        elif g and user in g.gr_mem:
            rows.append(Check(part, False, f"{user} is in dialout, but not this session", "log out and in again",
                              level="warning"))
        else:
            rows.append(Check(part, False, "not in the dialout group: real boards' serial ports are not "
                              "accessible", "sudo usermod -aG dialout $USER   # then log out and in",
                              level="warning"))
    if UDEV_RULES.exists():
        rows.append(Check("serial ports: PlatformIO udev rules", True, str(UDEV_RULES), level="warning"))
    else:
        try:
            import platformio
            asset = Path(platformio.__file__).parent / "assets" / "system" / UDEV_RULES.name
        except ImportError:
            asset = None
        get = f"sudo cp {asset} {UDEV_RULES.parent}/" if asset and asset.exists() else \
            f"curl -fsSL {UDEV_URL} | sudo tee {UDEV_RULES}"
        rows.append(Check("serial ports: PlatformIO udev rules", False,
                          f"{UDEV_RULES} is missing (uploads to real boards may fail)",
                          f"{get} && sudo udevadm control --reload-rules && sudo udevadm trigger", level="warning"))
    return rows


def network_check(boards: list[BoardProfile]) -> Check:
    """Real boards' PlatformIO platforms are downloaded once, when online (an information row)."""
    from ..link import installed_platform
    from ..target import default_core_dir

    plats = sorted({str(b.platformio.get("platform")) for b in boards if b.kind == "real" and b.platformio})
    missing = [p for p in plats if not installed_platform(p)]
    part = "real-board platforms (need the network once)"
    if not missing:
        return Check(part, True, f"installed: {', '.join(plats)}", level="info")
    venv_pio = Path(sys.executable).with_name("pio")
    pio = str(venv_pio) if venv_pio.exists() else "pio"
    fix = f"PLATFORMIO_CORE_DIR={default_core_dir()} {pio} pkg install -g " + \
        " ".join(f"-p platformio/{p}" for p in missing)
    return Check(part, True, f"not installed: {', '.join(missing)}; building for real boards downloads them "
                 "(and their toolchains) once, online; emulated boards need no network", fix, level="info")
