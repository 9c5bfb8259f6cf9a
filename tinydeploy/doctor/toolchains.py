"""Compiler and emulator checks: link a small C and C++ program per toolchain family with the flags the
boards use, then boot the C program for a moment in each board's emulator (it exits with status 42)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..paths import PLATFORM_DIR
from ..target import BoardProfile
from .base import Check, apt_fix, diagnose, last_lines, run, which


@dataclass(frozen=True)
class Family:
    name: str
    cc: str
    cxx: str
    apt: str             # the compiler and its C library
    cxx_apt: str = ""    # what C++ linking needs on top
    c_label: str = "C"
    cxx_label: str = "C++"


FAMILIES = {
    "arm": Family("arm", "arm-none-eabi-gcc", "arm-none-eabi-g++", "gcc-arm-none-eabi libnewlib-arm-none-eabi",
                  "libstdc++-arm-none-eabi-newlib", "C, --specs=nano.specs", "C++, --specs=nano.specs (new, virtual)"),
    "riscv": Family("riscv", "riscv64-unknown-elf-gcc", "riscv64-unknown-elf-g++",
                    "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf", "", "C, picolibc", "C++, picolibc"),
    "xtensa": Family("xtensa", "xtensa-lx106-elf-gcc", "xtensa-lx106-elf-g++", "gcc-xtensa-lx106"),
    "avr": Family("avr", "avr-gcc", "avr-g++", "gcc-avr avr-libc", "", "C, avr-libc"),
    "host": Family("host", "gcc", "g++", "gcc", "g++", "C (host)", "C++ (host, libstdc++)"),
}

EXIT_CODE = 42   # what every test program returns: proof that it ran
AVR_BANNER = "TD-DOCTOR-OK"

ARM_C = r"""
#include <stdint.h>
#include <string.h>
extern uint32_t _estack;
static char buf[8];
__attribute__((noreturn)) static void td_exit(int code) { /* semihosting SYS_EXIT_EXTENDED */
  volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
  register uint32_t r0 __asm__("r0") = 0x20, r1 __asm__("r1") = (uint32_t)block;
  __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {}
}
__attribute__((noreturn)) void Reset_Handler(void) {
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* FPU/MVE on, as the platform's startup does */
  __asm__ volatile("dsb; isb");
  memset(buf, 20, sizeof buf);                     /* newlib-nano's memset/strlen */
  td_exit(buf[1] + (int)strlen("ok") + 20);
}
__attribute__((section(".vectors"), used)) static const void *const vectors[2] = {&_estack, Reset_Handler};
"""
ARM_LD = """MEMORY { FLASH (rx) : ORIGIN = __td_flash_origin, LENGTH = 64K
         RAM (rwx) : ORIGIN = __td_ram_origin, LENGTH = 64K }
ENTRY(Reset_Handler)
SECTIONS { .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT > FLASH
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
  _estack = ORIGIN(RAM) + LENGTH(RAM); }
"""
RISCV_EXIT = r"""void _exit(int code) { /* SiFive test device: QEMU exits with `code` */
  *(volatile unsigned *)0x100000u = ((unsigned)code << 16) | 0x3333u; for (;;) {} }
"""
RISCV_C = "#include <string.h>\n" + RISCV_EXIT + \
    "static char buf[8];\nint main(void) { memset(buf, 20, sizeof buf); return buf[1] + (int)strlen(\"ok\") + 20; }\n"
XTENSA_C = "static volatile int k = 21;\nint main(void) { return k * 2; }  /* startup.S: exit(main()) */\n"
AVR_C = r"""
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
int main(void) { /* USART0 (simavr shows it on stderr), then cli + sleep: simavr stops */
  const char *s = "@BANNER@\n";
  UBRR0L = 16; UCSR0A = _BV(U2X0); UCSR0B = _BV(TXEN0); UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  while (*s) { loop_until_bit_is_set(UCSR0A, UDRE0); UDR0 = *s++; }
  loop_until_bit_is_set(UCSR0A, TXC0);
  cli(); set_sleep_mode(SLEEP_MODE_PWR_DOWN); sleep_enable(); for (;;) sleep_cpu();
}
""".replace("@BANNER@", AVR_BANNER)
HOST_C = "#include <string.h>\nint main(void) { return (int)strlen(\"0123456789\") * 4 + 2; }\n"
# C++ that needs the C++ runtime library: new/delete and a vtable (the ARM link of -lstdc++_nano)
CXX_RUNTIME = r"""
struct Shape { virtual ~Shape() {} virtual int area() const { return 0; } };
struct Square : Shape { int s; explicit Square(int v) : s(v) {} int area() const override { return s * s; } };
int main() { Shape *p = new Square(6); int a = p->area(); delete p; return a + 6; }
"""
HOST_CXX = "#include <vector>\n#include <numeric>\n" \
    "int main() { std::vector<int> v(6, 7); return std::accumulate(v.begin(), v.end(), 0); }\n"
# C++ for the freestanding targets (no libstdc++ there): a class and a static constructor
CXX_PLAIN = r"""
struct Counter { int n; explicit Counter(int v) : n(v) {} Counter &add(int v) { n += v; return *this; } };
static Counter counter(40);
int main() { return counter.add(2).n; }
"""


def family_of(b: BoardProfile) -> str:
    """Which toolchain family builds (emulated) or cross-checks (real) this board."""
    if b.kind == "host":
        return "host"
    cc = b.toolchain.cc if b.toolchain else ""
    for name, fam in FAMILIES.items():
        if name != "host" and cc == fam.cc:
            return name
    from ..target import arch_of
    return arch_of(b)


def _mem(b: BoardProfile, kind: str, default: int) -> str:
    regions = b.regions(kind)
    return hex(regions[0].origin if regions and regions[0].origin is not None else default)


def _c_cmd(fam: Family, b: BoardProfile, tmp: Path, cxx: bool) -> list[list[str]]:
    """The commands that build the test program (the last one writes tmp/<name>.elf)."""
    flags = list(b.cflags)
    stem = f"{b.id}-{'cxx' if cxx else 'c'}"
    elf = str(tmp / f"{stem}.elf")
    src = tmp / (stem + (".cpp" if cxx else ".c"))
    nocxx = ["-fno-exceptions", "-fno-rtti"] if cxx else []
    tool = fam.cxx if cxx else fam.cc
    if fam.name == "arm":
        if cxx:   # newlib's crt0 and default script: what matters is that -lstdc++_nano links
            src.write_text(CXX_RUNTIME)
            return [[tool, *flags, "-Os", *nocxx, "--specs=nano.specs", "--specs=nosys.specs", str(src), "-o", elf]]
        src.write_text(ARM_C)
        (tmp / "arm.ld").write_text(ARM_LD)
        return [[tool, *flags, "-O2", "--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles",
                 "-T", str(tmp / "arm.ld"), f"-Wl,--defsym=__td_flash_origin={_mem(b, 'flash', 0)}",
                 f"-Wl,--defsym=__td_ram_origin={_mem(b, 'ram', 0x20000000)}", str(src), "-o", elf]]
    if fam.name == "riscv":   # as the platform builds: picolibc's crt0 and script, C++ linked by gcc
        link = [fam.cc, *flags, "--specs=picolibc.specs", "--crt0=hosted",
                f"-Wl,--defsym=__flash={_mem(b, 'flash', 0x80000000)}", "-Wl,--defsym=__flash_size=0x100000",
                f"-Wl,--defsym=__ram={_mem(b, 'ram', 0x80200000)}", "-Wl,--defsym=__ram_size=0x40000",
                "-Wl,--defsym=__stack_size=4096"]
        if not cxx:
            src.write_text(RISCV_C)
            return [link + ["-O2", str(src), "-o", elf]]
        src.write_text('extern "C" ' + RISCV_EXIT + CXX_PLAIN)
        obj = str(tmp / f"{stem}.o")
        return [[tool, *flags, "-O2", *nocxx, "--specs=picolibc.specs", "-c", str(src), "-o", obj],
                link + [obj, "-o", elf]]
    if fam.name == "xtensa":  # freestanding, the platform's startup code and link script
        sup = PLATFORM_DIR / "support" / "xtensa"
        src.write_text(('extern "C" int main();\n' + CXX_PLAIN) if cxx else XTENSA_C)
        defs = [f"-Wl,--defsym={k}={v}" for k, v in (
            ("__td_flash_origin", _mem(b, "flash", 0x50000000)), ("__td_flash_size", "0x100000"),
            ("__td_ram_origin", _mem(b, "ram", 0x60000000)), ("__td_ram_size", "0x10000"),
            ("__td_stack_size", "4096"))]
        return [[tool, *flags, "-mtext-section-literals", "-O2", *nocxx, "-nostdlib", "-nostartfiles",
                 "-T", str(sup / "sim.ld"), *defs, str(sup / "startup.S"), str(src), "-lgcc", "-o", elf]]
    if fam.name == "avr":
        src.write_text(CXX_PLAIN if cxx else AVR_C)
        return [[tool, *(flags or ["-mmcu=atmega2560"]), "-Os", *nocxx, str(src), "-o", elf]]
    src.write_text(HOST_CXX if cxx else HOST_C)     # host: built and run here
    return [[tool, "-O2", str(src), "-o", elf]]


def _build(fam: Family, boards: list[BoardProfile], tmp: Path, cxx: bool) -> tuple[Check, dict[str, Path]]:
    """Build the test program with each board's flags (once per distinct flags and memory map); the row
    fails at the first board that does not build. Returns the row and board id -> ELF."""
    tool = fam.cxx if cxx else fam.cc
    part = f"{tool}: {fam.cxx_label if cxx else fam.c_label}"
    apt = " ".join(x for x in (fam.apt, fam.cxx_apt if cxx else "") if x)
    if not which(tool):
        return Check(part, False, f"{tool} not found on PATH", apt_fix(apt)), {}
    elfs: dict[str, Path] = {}
    built: dict[tuple, Path] = {}
    for b in boards:
        key = (b.cflags, _mem(b, "flash", 0), _mem(b, "ram", 0))
        if key in built:
            elfs[b.id] = built[key]
            continue
        for cmd in _c_cmd(fam, b, tmp, cxx):
            r = run(cmd, timeout=30)
            if r.returncode:
                return Check(part, False, f"{Path(cmd[0]).name} failed for {b.id}: {last_lines(r.output, 2)}",
                             apt_fix(*(diagnose(r.output) or [apt]))), elfs
        elfs[b.id] = built[key] = Path(cmd[-1])
    if fam.name == "host":   # run it: the compiler's output must work here
        r = run([str(elfs["host"])], timeout=10)
        if r.returncode != EXIT_CODE:
            return Check(part, False, f"the program built but returned {r.returncode}: {last_lines(r.output)}",
                         apt_fix(apt)), {}
        return Check(part, True, "compiled, linked and ran"), elfs
    return Check(part, True, f"compiled and linked with the flags of {', '.join(b.id for b in boards)}"), elfs


def _boot(b: BoardProfile, elf: Path | None) -> Check:
    """Start the board's emulator with its real flags on the tiny program; it must exit by itself."""
    from ..link import emulator_command

    e = b.emulator
    part = f"{e.binary} -{'m' if e.kind == 'simavr' else 'M'} {e.machine} ({b.id})"
    if not which(e.binary):
        return Check(part, False, f"{e.binary} not found on PATH", apt_fix(e.apt))
    if elf is None:   # no cross compiler: at least check that it starts
        r = run([e.binary, "--version"] if e.kind == "qemu" else [e.binary, "--list-cores"], timeout=10)
        return Check(part, r.returncode == 0, "found; not booted (its compiler is missing, see above)"
                     if r.returncode == 0 else last_lines(r.output), "" if r.returncode == 0 else apt_fix(e.apt))
    r = run(emulator_command(b, elf), timeout=10)
    if e.kind == "simavr":
        ok = r.returncode == 0 and AVR_BANNER in r.output
    else:
        ok = r.returncode == EXIT_CODE
    if ok:
        return Check(part, True, "booted a test program; it exited by itself")
    why = "did not exit within 10 s" if r.timed_out else f"exit status {r.returncode}"
    return Check(part, False, f"{why}: {last_lines(r.output)}", apt_fix(*(diagnose(r.output) or [e.apt])))


def family_checks(name: str, boards: list[BoardProfile], tmp: Path) -> list[Check]:
    """The family's C and C++ rows (every board's flags), then one boot row per emulator machine."""
    fam = FAMILIES[name]
    c_row, elfs = _build(fam, boards, tmp, cxx=False)
    rows = [c_row, _build(fam, boards, tmp, cxx=True)[0]]
    seen: set[tuple[str, str]] = set()
    for b in boards:
        if b.emulated and b.emulator and (b.emulator.binary, b.emulator.machine) not in seen:
            seen.add((b.emulator.binary, b.emulator.machine))
            rows.append(_boot(b, elfs.get(b.id)))
    return rows
