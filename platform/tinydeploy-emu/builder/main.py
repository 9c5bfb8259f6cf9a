# SCons build script of the tinydeploy-emu dev-platform: one cross compiler per architecture (Debian
# packages, no downloads), the board's startup code from support/<arch>/, memory sizes from the board
# JSON (those of the real part the emulated board stands in for), and `upload` = run in the emulator.
import os
import shutil
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
support = os.path.join(env.PioPlatform().get_dir(), "support")
arch = board.get("build.arch")
prefix = board.get("build.toolchain")
cpu = list(board.get("build.cpuflags", []))
mem = board.get("build.memory")
emu = board.get("emulator")

APT = {"arm": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "riscv": "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
       "xtensa": "gcc-xtensa-lx106", "avr": "gcc-avr avr-libc"}
if not shutil.which(prefix + "gcc"):
    sys.stderr.write("Error: %sgcc not found; install it: apt-get install %s\n" % (prefix, APT.get(arch, "")))
    env.Exit(1)

env.Replace(
    AR=prefix + "gcc-ar", AS=prefix + "as", CC=prefix + "gcc", CXX=prefix + "g++", GDB=prefix + "gdb",
    OBJCOPY=prefix + "objcopy", RANLIB=prefix + "gcc-ranlib", SIZETOOL=prefix + "size",
    PROGNAME="firmware", PROGSUFFIX=".elf")
if arch == "avr":  # gcc-ar is missing from Debian's gcc-avr
    env.Replace(AR=prefix + "ar", RANLIB=prefix + "ranlib")


def defsym(name, value):
    return "-Wl,--defsym=%s=%s" % (name, value)


common = ["-g", "-Wall", "-ffunction-sections", "-fdata-sections"]
env.Append(CPPPATH=[os.path.join(support, "common"), os.path.join(support, arch, "include")],
           CPPDEFINES=[("F_CPU", board.get("build.f_cpu")), "TD_EMULATED_BOARD"] + list(board.get("build.defines", [])),
           CXXFLAGS=["-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics"],
           LINKFLAGS=["-Wl,--gc-sections"])

if arch == "arm":
    env.Append(ASFLAGS=cpu, CCFLAGS=cpu + common + ["-O2"],
               LINKFLAGS=cpu + ["--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles",
                                "-T", os.path.join(support, "arm", "cortex-m.ld"),
                                defsym("__td_flash_origin", mem["flash_origin"]), defsym("__td_flash_size", mem["flash_size"]),
                                defsym("__td_ram_origin", mem["ram_origin"]), defsym("__td_ram_size", mem["ram_size"]),
                                defsym("__td_stack_size", mem["stack_size"])],
               LIBS=["m"])
elif arch == "riscv":  # picolibc: its crt0 and linker script, sized by --defsym
    env.Replace(LINK="$CC")  # no libstdc++ for picolibc here; the firmware needs none
    env.Append(ASFLAGS=cpu, CCFLAGS=cpu + common + ["-O2", "--specs=picolibc.specs"],
               LINKFLAGS=cpu + ["--specs=picolibc.specs", "--crt0=hosted",
                                defsym("__flash", mem["flash_origin"]), defsym("__flash_size", mem["flash_size"]),
                                defsym("__ram", mem["ram_origin"]), defsym("__ram_size", mem["ram_size"]),
                                defsym("__stack_size", mem["stack_size"])],
               LIBS=["m"])
elif arch == "xtensa":  # no libc for the LX106 here: a tiny freestanding one in support/xtensa/
    env.Append(ASFLAGS=cpu + ["-mtext-section-literals"],
               CCFLAGS=cpu + common + ["-O2", "-mtext-section-literals", "-fno-builtin-printf"],
               LINKFLAGS=cpu + ["-nostdlib", "-nostartfiles", "-T", os.path.join(support, "xtensa", "sim.ld"),
                                defsym("__td_flash_origin", mem["flash_origin"]), defsym("__td_flash_size", mem["flash_size"]),
                                defsym("__td_ram_origin", mem["ram_origin"]), defsym("__td_ram_size", mem["ram_size"]),
                                defsym("__td_stack_size", mem["stack_size"])],
               LIBS=["gcc"])
elif arch == "avr":  # avr-libc's own script; region lengths from the board (stack kept out of .data/.bss)
    env.Append(ASFLAGS=cpu, CCFLAGS=cpu + common + ["-Os"],
               LINKFLAGS=cpu + [defsym("__TEXT_REGION_LENGTH__", mem["flash_size"]),
                                defsym("__DATA_REGION_LENGTH__", int(mem["ram_size"]) - int(mem["stack_size"]))])
else:
    sys.stderr.write("Error: unknown build.arch %r in board %s\n" % (arch, env.subst("$BOARD")))
    env.Exit(1)

# The board's startup code goes into every build (firmware and `pio test`).
env.BuildSources(os.path.join("$BUILD_DIR", "support"), os.path.join(support, arch))

if emu["kind"] == "qemu":
    cmd = [emu["binary"], "-M", emu["machine"]] + (["-cpu", emu["cpu"]] if emu.get("cpu") else []) + \
        ["-nographic", "-monitor", "none"] + list(emu.get("args", [])) + ["$UPLOADERFLAGS", "-kernel", "$SOURCE"]
else:  # simavr: UART output on stderr; the firmware ends the run with cli + sleep
    cmd = [emu["binary"], "-m", emu["machine"], "-f", str(board.get("build.f_cpu")).rstrip("L"),
           "$UPLOADERFLAGS", "$SOURCE"]
env.Replace(UPLOADCMD=" ".join(cmd))

target_elf = env.BuildProgram()  # also defines `checkprogsize` (RAM/Flash usage vs the board JSON)
AlwaysBuild(env.Alias("upload", target_elf, env.VerboseAction("$UPLOADCMD", "Running $SOURCE in %s" % emu["binary"])))
Default([target_elf])
