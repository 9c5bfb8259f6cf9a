"""Build and run the Arduino library's examples with the real tools: arduino-builder, avr-gcc, simavr.

    elf = compile_example("hello.zip", "Check", "uno", work_dir)     # unzip it + TinyDeploy.zip, arduino-builder
    elf = compile_sketch(ino, ["a.zip", "b.zip", "TinyDeploy.zip"], "mega2560", work_dir)   # any sketch
    run = run_check(elf, "uno")                                      # simavr; OUT/CYCLES/PASS/STACK/DONE
    with SimavrPty(elf, "mega2560") as pty:                          # the Serial example on a real PTY
        DeviceClient(pty.url, sizes).run([...])
    avr_link_check("hello.zip", "mega2560", work_dir)                # every src/*.c (+ TinyDeploy.zip's):
                                                                     # avr-gcc -Werror + link

Everything is written below the work_dir the caller passes; nothing outside it is touched.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TinyDeployError
from ..paths import cache_dir
from .arduino_runtime import RUNTIME_LIB, RUNTIME_ZIP
from .boards import BoardProfile, load_board
from .firmware import FirmwareRun, parse_output

HARDWARE = Path("/usr/share/arduino/hardware")
FQBN = {"mega2560": "arduino:avr:mega:cpu=atmega2560", "uno": "arduino:avr:uno"}
SIMAVR_MCU = {"mega2560": "atmega2560", "uno": "atmega328p"}
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SIZE_RE = re.compile(r"Sketch uses (\d+) bytes.*?Global variables use (\d+) bytes", re.DOTALL)

def simavr_main(min_args: int) -> str:
    """The C every libsimavr runner starts with: headers, main(FW.elf MCU HZ ...) reading the firmware into
    `f` and making the MCU `avr` (SIMAVR_START then loads it with USART0 on a new PTY, "PTY /dev/pts/N")."""
    return rf"""
#include <stdio.h>
#include <stdlib.h>
#include "sim_avr.h"
#include "sim_elf.h"
#include "parts/uart_pty.h"
int main(int argc, char **argv) {{
  elf_firmware_t f = {{0}};
  if (argc < {min_args} || elf_read_firmware(argv[1], &f)) return 2;
  f.frequency = strtoul(argv[3], 0, 0);
  avr_t *avr = avr_make_mcu_by_name(argv[2]);"""


SIMAVR_START = r"""
  avr_init(avr);
  avr_load_firmware(avr, &f);
  static uart_pty_t pty;
  uart_pty_init(avr, &pty);
  uart_pty_connect(&pty, '0');
  printf("PTY %s\n", pty.pty.slavename);
  fflush(stdout);
"""

PTY_HARNESS = (r"""
/* avr_uart_pty FW.elf MCU HZ: runs the firmware in libsimavr with USART0 on a new PTY ("PTY /dev/pts/N"). */
""" + simavr_main(4) + r"""
  if (!avr) return 2;""" + SIMAVR_START + r"""  int st;
  do st = avr_run(avr); while (st != cpu_Done && st != cpu_Crashed);
  uart_pty_stop(&pty);
  return st == cpu_Crashed;
}
""")


def _board(board: str | BoardProfile) -> BoardProfile:
    b = load_board(board)
    if b.id not in FQBN:
        raise TinyDeployError(f"no Arduino build recipe for board {b.id}", f"use one of: {', '.join(FQBN)}")
    return b


def _need(tool: str, apt: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise TinyDeployError(f"{tool} not found", f"apt-get install {apt}")
    return path


@dataclass
class SketchBuild:
    elf: Path
    flash_bytes: int       # "Sketch uses N bytes" (program storage)
    ram_bytes: int         # "Global variables use N bytes" (.data + .bss)
    log: str = field(repr=False, default="")


def install_zip(zip_path: str | Path, sketchbook: Path) -> Path:
    """Unzip into sketchbook/libraries/ like the IDE's "Add .ZIP Library"; returns the library folder."""
    libs = sketchbook / "libraries"
    libs.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        tops = {n.split("/")[0] for n in z.namelist()}
        if len(tops) != 1:
            raise TinyDeployError(f"{zip_path} must hold exactly one top folder (has {sorted(tops)})")
        top = tops.pop()
        if (libs / top).exists():
            raise TinyDeployError(f"library {top} is already installed in {libs}")
        z.extractall(libs)
    return libs / top


def _install(zips: list[str | Path], sketchbook: Path) -> list[Path]:
    """Install each ZIP unless its library folder is there already; returns the library folders."""
    libs = []
    for z in zips:
        lib = sketchbook / "libraries" / zipfile.ZipFile(z).namelist()[0].split("/")[0]
        libs.append(lib if lib.exists() else install_zip(z, sketchbook))
    return libs


def compile_example(zip_path: str | Path, example: str, board: str | BoardProfile, work_dir: str | Path,
                    cache_dir: str | Path | None = None, timeout: float = 300,
                    runtime_zip: str | Path | None = None) -> SketchBuild:
    """Install the model ZIP and the runtime's (default: the TinyDeploy.zip beside it) into
    work_dir/sketchbook and compile examples/<Lib><example> with arduino-builder."""
    runtime_zip = Path(runtime_zip) if runtime_zip else Path(zip_path).parent / RUNTIME_ZIP
    if not runtime_zip.is_file():
        raise TinyDeployError(f"the runtime library's ZIP {runtime_zip} is missing",
                              "export-arduino writes it beside the model's ZIP")
    work = Path(work_dir)
    lib = _install([zip_path, runtime_zip], work / "sketchbook")[0]
    ino = lib / "examples" / f"{lib.name}{example}" / f"{lib.name}{example}.ino"
    if not ino.is_file():
        raise TinyDeployError(f"the library has no example {lib.name}{example}")
    return compile_sketch(ino, [], board, work, cache_dir, timeout, build_name=f"build-{example}")


def compile_sketch(ino: str | Path, zips: list[str | Path], board: str | BoardProfile, work_dir: str | Path,
                   cache_dir: str | Path | None = None, timeout: float = 300,
                   build_name: str = "build") -> SketchBuild:
    """Install the ZIPs into work_dir/sketchbook (those not there yet) and compile the sketch `ino`
    with arduino-builder into work_dir/<build_name>-<board>."""
    b = _board(board)
    builder = _need("arduino-builder", "arduino-builder arduino")
    work = Path(work_dir)
    sketchbook = work / "sketchbook"
    _install(list(zips), sketchbook)
    ino = Path(ino)
    build = work / f"{build_name}-{b.id}"
    build.mkdir(parents=True, exist_ok=True)
    cmd = [builder, "-compile", "-hardware", str(HARDWARE), "-tools", str(HARDWARE / "tools" / "avr"),
           "-libraries", str(sketchbook / "libraries"), "-fqbn", FQBN[b.id],
           "-prefs", "compiler.cpp.extra_flags=-DDECIMAL_DIG=9",     # Debian's core needs it (WString.cpp)
           "-prefs", "compiler.warning_level=all", "-build-path", str(build.resolve())]
    if cache_dir:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        cmd += ["-build-cache", str(Path(cache_dir).resolve())]
    r = subprocess.run(cmd + [str(ino)], capture_output=True, text=True, timeout=timeout)
    log = r.stdout + r.stderr
    elf = build / f"{ino.name}.elf"
    if r.returncode or not elf.exists():
        raise TinyDeployError(f"arduino-builder failed for {ino.name} ({FQBN[b.id]})", log[-3000:])
    m = _SIZE_RE.search(log)
    return SketchBuild(elf, int(m[1]) if m else 0, int(m[2]) if m else 0, log)


def clean_simavr_log(log: str) -> str:
    """simavr prints the UART on stderr in colour, a line at a time, CR and LF shown as '.'; long lines
    come in pieces without the dots. Returns the plain text."""
    text, lines = "", []
    for raw in log.splitlines():
        raw = re.sub(r"^(\x1b\[0m)+", "", raw)     # the colour reset ends up at the next line's start
        if not raw.startswith("\x1b["):   # simavr's own messages (Loaded ..., sleeping ...)
            continue
        piece = ANSI_RE.sub("", raw)
        if piece.endswith("."):
            lines.append(text + re.sub(r"\.{1,2}$", "", piece))
            text = ""
        else:
            text += piece
    return "\n".join(lines + ([text] if text else [])) + "\n"


@dataclass
class CheckRun:
    """Parsed output of the Check example."""
    run: FirmwareRun
    passed: list[int]
    failed: list[str]
    stack: int | None
    done: tuple[int, int] | None
    text: str


def parse_check(text: str) -> CheckRun:
    run = parse_output(text)
    passed = [int(m[1]) for m in re.finditer(r"^PASS (\d+) \d+ us$", text, re.MULTILINE)]
    failed = re.findall(r"^FAIL .*$", text, re.MULTILINE)
    stack = re.search(r"^STACK (\d+)$", text, re.MULTILINE)
    done = re.search(r"^DONE (\d+)/(\d+)$", text, re.MULTILINE)
    return CheckRun(run, passed, failed, int(stack[1]) if stack else None,
                    (int(done[1]), int(done[2])) if done else None, text)


def run_check(elf: str | Path, board: str | BoardProfile, timeout: float = 120) -> CheckRun:
    """Run the Check example's ELF in simavr until it sleeps with interrupts off."""
    b = _board(board)
    simavr = _need("simavr", "simavr")
    cmd = [simavr, "-m", SIMAVR_MCU[b.id], "-f", str(b.clock_hz), str(elf)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        raise TinyDeployError(f"simavr did not finish within {timeout:g} s",
                              f"output so far: {clean_simavr_log(err)[-600:]!r}") from None
    text = clean_simavr_log(r.stderr)
    res = parse_check(text)
    if r.returncode or res.done is None:
        raise TinyDeployError(f"the Check example stopped before DONE (simavr status {r.returncode})",
                              f"output: {r.stderr[-800:]!r}")
    return res


def simavr_harness(source: str, name: str) -> Path:
    """A libsimavr runner built from C `source`, compiled once per source (gcc -lsimavr -lsimavrparts) into
    the cache as `name`."""
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    exe = cache_dir() / "simavr-harness" / key / name
    if exe.exists():
        return exe
    cc = _need("gcc", "gcc")
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        raise TinyDeployError("libsimavr headers not found", "apt-get install libsimavr-dev")
    exe.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="td-simavr-", dir=exe.parent) as tmp:
        src, out = Path(tmp) / f"{name}.c", Path(tmp) / name
        src.write_text(source)
        r = subprocess.run([cc, "-O2", "-o", str(out), str(src), "-I/usr/include/simavr", "-lsimavr",
                            "-lsimavrparts", "-lpthread", "-lutil"], capture_output=True, text=True)
        if r.returncode:
            raise TinyDeployError(f"building the simavr harness {name} failed:\n{r.stderr[-2000:]}",
                                  "apt-get install libsimavr-dev")
        os.replace(out, exe)
    return exe


def pty_harness() -> Path:
    """The libsimavr PTY runner (the firmware with USART0 on a PTY)."""
    return simavr_harness(PTY_HARNESS, "avr_uart_pty")


class SimavrPty:
    """The firmware running in libsimavr with its USART0 on a PTY; `url` is the /dev/pts/N path."""

    def __init__(self, elf: str | Path, board: str | BoardProfile, log_dir: str | Path) -> None:
        self.b = _board(board)
        self.elf, self.log = Path(elf), Path(log_dir) / f"simavr-pty-{os.getpid()}-{id(self)}.log"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, wait: float = 10) -> SimavrPty:
        exe = pty_harness()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(exe), str(self.elf), SIMAVR_MCU[self.b.id], str(self.b.clock_hz)],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            m = re.search(r"^PTY (/dev/\S+)$", self.log.read_text(errors="replace"), re.MULTILINE)
            if m:
                self.url = m[1]
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        text = self.log.read_text(errors="replace")
        self.stop()
        raise TinyDeployError("the simavr PTY harness did not start", text[-600:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> SimavrPty:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


LINK_MAIN = r"""
/* Link check: every library file together, with the board hooks the Serial sketch provides. */
#include <stdint.h>
#include "td_board.h"
#include "td_device.h"
@INCLUDES@
static volatile uint8_t sink;
uint32_t td_board_counter(void) { return 0; }
void td_board_write(const uint8_t *data, uint16_t n) { while (n--) sink = *data++; }
const uint8_t *td_board_stack_low(void) { return 0; }
const uint8_t *td_board_stack_high(void) { return 0; }
int main(void) {
  int r = 0;
@CALLS@
  return r;
}
"""


def _unpack_sources(zip_paths: list[Path], work: Path) -> tuple[list[Path], list[str]]:
    """Each ZIP's src/*.[ch] into work/libs/<Lib>/; returns the src folders and the model prefixes (the
    libraries that depend on TinyDeploy, in order)."""
    dirs, prefixes = [], []
    for zp in zip_paths:
        with zipfile.ZipFile(zp) as z:
            props = z.read(next(n for n in z.namelist() if n.endswith("/library.properties"))).decode()
            top = z.namelist()[0].split("/")[0]
            d = work / "libs" / top
            d.mkdir(parents=True, exist_ok=True)
            for n in z.namelist():
                if re.match(r"[^/]+/src/[^/]+\.[ch]$", n):
                    (d / Path(n).name).write_bytes(z.read(n))
        dirs.append(d)
        if re.search(rf"^depends=.*\b{RUNTIME_LIB}\b", props, re.MULTILINE):
            prefixes.append(re.search(r"^includes=(\w+)\.h", props, re.MULTILINE)[1])
    return dirs, prefixes


def avr_link_check(zip_path: str | Path | list[str | Path], board: str | BoardProfile, work_dir: str | Path,
                   cflags: tuple[str, ...] = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-Os")) -> list[str]:
    """Compile every src/*.c of the ZIPs with avr-gcc as C (-Werror) and link them all into one program
    (duplicate or missing symbols fail) that sets up and invokes every model. One model ZIP: the
    TinyDeploy.zip beside it joins; a list: exactly those ZIPs (several models + the runtime). Boards with
    less flash than all kernels need (uno) link with --gc-sections, which still catches duplicates.
    Returns the compiled file names."""
    b = load_board(board)
    cc = _need("avr-gcc", "gcc-avr avr-libc")
    work = Path(work_dir)
    zips = [Path(z) for z in zip_path] if isinstance(zip_path, list) else [Path(zip_path),
                                                                           Path(zip_path).parent / RUNTIME_ZIP]
    dirs, prefixes = _unpack_sources(zips, work)
    obj_dir = work / "obj"
    obj_dir.mkdir(parents=True, exist_ok=True)
    main = LINK_MAIN.replace("@INCLUDES@", "\n".join(
        [f'#include "{p}.h"\nconst td_device *{p}_device_setup(void);' for p in prefixes]))
    (work / "link_main.c").write_text(main.replace("@CALLS@", "\n".join(
        f"  td_device_feed({p}_device_setup(), sink);\n  r |= {p}_invoke();" for p in prefixes)))
    mcu = [f for f in b.cflags if f.startswith(("-mmcu=", "-DF_CPU"))] or ["-mmcu=atmega2560"]
    gc = [] if b.flash_budget > 128 * 1024 else ["-ffunction-sections", "-fdata-sections"]
    srcs_c = [p for d in dirs for p in sorted(d.glob("*.c"))] + [work / "link_main.c"]
    objs = [str(obj_dir / f"{src.parent.name}-{src.name}.o") for src in srcs_c]
    includes = [f for d in dirs for f in ("-I", str(d))]

    def compile_one(src: Path, obj: str) -> subprocess.CompletedProcess:
        return subprocess.run([cc, *mcu, *cflags, *gc, *includes, "-c", str(src), "-o", obj],
                              capture_output=True, text=True)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(compile_one, srcs_c, objs))
    for src, r in zip(srcs_c, results):
        if r.returncode:
            raise TinyDeployError(f"avr-gcc rejects {src.name}", r.stderr[-2000:])
    r = subprocess.run([cc, *mcu, *(["-Wl,--gc-sections"] if gc else []), *objs, "-o", str(work / "link_check.elf")],
                       capture_output=True, text=True)
    if r.returncode:
        raise TinyDeployError("linking the library's files together failed", r.stderr[-2000:])
    return [src.name for src in srcs_c[:-1]]
