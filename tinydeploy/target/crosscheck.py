"""Checks for real boards whose PlatformIO platform can't be installed offline.

1. validate_platformio_ini(): PlatformIO's own ProjectConfig parses the generated platformio.ini and
   evaluates every option (a bad value raises); unknown options (warnings) count as errors too.
2. cross_compile(): the generated model + every runtime kernel, compiled with the nearest real
   toolchain (the profile's [toolchain]) and -Wall -Wextra -Werror -std=c99 (-std=gnu99 on AVR, where
   the weights go to flash through __memx).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..compile import CompiledModel
from ..errors import TinyDeployError
from ..paths import PLATFORM_DIR, RUNTIME_DIR, cache_dir
from .boards import BoardProfile, arch_of, load_board
from .platformio import runtime_files

WARN_FLAGS = ["-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections"]
# C standard per architecture: strict C99, except on AVR where the Arduino IDE and PlatformIO compile in
# GNU mode, which puts the weights in flash (TD_WEIGHTS_MEM = __memx, see tinydeploy.h): check that code.
STD = {"avr": "-std=gnu99"}


def validate_platformio_ini(path: str | Path) -> list[str]:
    """Errors and warnings PlatformIO reports for the file (empty list: valid)."""
    from platformio.project.config import ProjectConfig

    problems: list[str] = []
    try:
        cfg = ProjectConfig(str(path), parse_extra=False)
        cfg.validate(silent=True)
        cfg.as_tuple()          # evaluates every option: bad values raise here
        problems += list(cfg.warnings)
        for env in cfg.envs():
            for opt in ("platform", "board"):
                if not cfg.get(f"env:{env}", opt, None):
                    problems.append(f"[env:{env}] has no `{opt}`")
    except Exception as exc:  # noqa: BLE001 - PlatformIO raises many types; report them all
        problems.append(f"{type(exc).__name__}: {exc}")
    return problems


@dataclass
class CrossCompileResult:
    board: BoardProfile
    cc: str
    flags: list[str]
    files: list[str] = field(default_factory=list)
    model_text_bytes: int = 0          # .text + .rodata + .data of the model object
    runtime_text_bytes: int = 0        # the same for all kernels (before --gc-sections)

    def summary(self) -> str:
        return (f"{len(self.files)} files compiled warning-free with {self.cc} {' '.join(self.flags)}: "
                f"model {self.model_text_bytes:,} B, kernels {self.runtime_text_bytes:,} B (before gc)")


def _sizes(size_tool: str, objs: list[Path]) -> int:
    if not shutil.which(size_tool) or not objs:
        return 0
    r = subprocess.run([size_tool, "-B", "-d"] + [str(o) for o in objs], capture_output=True, text=True)
    total = 0
    for line in r.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            total += int(parts[0]) + int(parts[1])
    return total


def cross_compile(m: CompiledModel, board: str | BoardProfile, jobs: int = 4) -> CrossCompileResult:
    """Compile the model and every runtime .c for the board; raises TinyDeployError on any warning."""
    b = load_board(board)
    tc = b.toolchain
    if tc is None:
        raise TinyDeployError(f"board {b.id} names no toolchain", "add [toolchain] to its profile")
    if not shutil.which(tc.cc):
        raise TinyDeployError(f"{tc.cc} not found (needed to cross-compile for {b.id})", f"apt-get install {tc.apt}")
    arch = arch_of(b)
    flags = list(tc.cflags)
    extra: list[str] = [STD.get(arch, "-std=c99")]
    if arch == "riscv":
        extra += ["--specs=picolibc.specs"]
    elif arch == "xtensa":  # no libc for the LX106 here: the platform's freestanding headers
        extra += ["-mtext-section-literals", "-I", str(PLATFORM_DIR / "support" / "xtensa" / "include")]
    with tempfile.TemporaryDirectory(prefix="td-cross-") as tmp:
        work = Path(tmp)
        (work / f"{m.prefix}.c").write_text(m.source)
        (work / f"{m.prefix}.h").write_text(m.header)
        files = runtime_files()  # lib/tinydeploy/ and its variant folders (arm/): what a library ships
        runtime = [p for p in files if p.suffix == ".c"]
        # The kernels do not depend on the model: a clean compile is remembered (per toolchain, flags
        # and runtime contents) and only the model is compiled again.
        digest = hashlib.sha256(" ".join([tc.cc] + flags + extra + WARN_FLAGS).encode())
        for p in files:
            digest.update(p.name.encode() + p.read_bytes())
        stamp = cache_dir() / "crosscheck" / f"{b.id}-{digest.hexdigest()[:20]}"
        sources = [work / f"{m.prefix}.c"] + ([] if stamp.exists() else runtime)

        def compile_one(src: Path) -> tuple[Path, subprocess.CompletedProcess]:
            obj = work / (src.stem + ".o")
            cmd = [tc.cc] + flags + extra + WARN_FLAGS + ["-I", str(work), "-I", str(RUNTIME_DIR),
                                                          "-c", str(src), "-o", str(obj)]
            return obj, subprocess.run(cmd, capture_output=True, text=True, errors="replace")

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(compile_one, sources))
        failed = [(src, r) for src, (_, r) in zip(sources, results) if r.returncode != 0]
        if failed:
            src, r = failed[0]
            raise TinyDeployError(f"{tc.cc} failed on {src.name} for {b.id} "
                                  f"({len(failed)} of {len(sources)} files)",
                                  (r.stderr or r.stdout).strip()[-1500:])
        size_tool = tc.cc[:-3] + "size"
        objs = [o for o, _ in results]
        res = CrossCompileResult(b, tc.cc, flags + extra + WARN_FLAGS, [f"{m.prefix}.c"] + [s.name for s in runtime])
        res.model_text_bytes = _sizes(size_tool, objs[:1])
        if stamp.exists():
            res.runtime_text_bytes = int(stamp.read_text() or 0)
        else:
            res.runtime_text_bytes = _sizes(size_tool, objs[1:])
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(str(res.runtime_text_bytes))
    return res
