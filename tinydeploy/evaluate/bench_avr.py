"""Per-layer cycle counts on simavr: the boards' libsimavr PTY runner plus a marker watch.

The runner executes one instruction per avr_run() step; when the step starts at the marker function's
first instruction it writes `M <cycles>` (the cycle count without the cycles spent inside the marker)
to its own file, like the QEMU plugin (bench_plugin.py). Interrupt handlers count toward the layer
they interrupt, as on the chip.

    with AvrMarks(elf, board, out, (lo, hi)) as url:   # /dev/pts/N speaking the device protocol
        ...
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from ..errors import TinyDeployError
from ..target import SIMAVR_START, BoardProfile, simavr_harness, simavr_main

HARNESS_C = (r"""
/* avr_marks FW.elf MCU HZ OUT MARK MARK_END: USART0 on a new PTY ("PTY /dev/pts/N"); cycle count at
 * each call of the marker function into OUT ("M <cycles>", without the marker's own cycles). */
""" + simavr_main(7) + r"""
  FILE *out = fopen(argv[4], "w");
  if (!avr || !out) return 2;
  const avr_flashaddr_t lo = strtoul(argv[5], 0, 0), hi = strtoul(argv[6], 0, 0);""" + SIMAVR_START + r"""  avr_cycle_count_t inside = 0;
  int st;
  do {
    const avr_flashaddr_t pc = avr->pc;
    const avr_cycle_count_t c0 = avr->cycle;
    const int running = avr->state == cpu_Running;
    if (running && pc == lo) {
      fprintf(out, "M %llu\n", (unsigned long long)(c0 - inside));
      fflush(out);
    }
    st = avr_run(avr);
    if (running && pc >= lo && pc < hi) inside += avr->cycle - c0;
  } while (st != cpu_Done && st != cpu_Crashed);
  uart_pty_stop(&pty);
  fclose(out);
  return st == cpu_Crashed;
}
""")


def harness() -> Path:
    """The marker runner, compiled once per source into the cache."""
    return simavr_harness(HARNESS_C, "avr_marks")


class AvrMarks:
    """The firmware in the marker runner; entering gives the PTY path the device protocol speaks on."""

    def __init__(self, elf: Path, b: BoardProfile, out: Path, mark: tuple[int, int]) -> None:
        self.cmd = [str(harness()), str(elf), b.emulator.machine, str(b.clock_hz), str(out),
                    str(mark[0]), str(mark[1])]
        self.log = out.with_suffix(".log")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(r"^PTY (/dev/\S+)$", self.log.read_text(errors="replace"), re.MULTILINE)
            if m:
                return m[1]
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.__exit__()
        raise TinyDeployError("the simavr marker runner did not start", self.log.read_text(errors="replace")[-600:])

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
