"""Worst-case stack of <prefix>_invoke(), from gcc's call graph with stack usage (-fcallgraph-info=su)."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from ..compile import CompiledModel
from ..paths import RUNTIME_DIR

CORTEX_M4 = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]
_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?(\d+) bytes \((static|dynamic[^)]*)\)')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def invoke_stack_bytes(m: CompiledModel, compiler: list[str] | None = None) -> int | None:
    """Deepest call chain from the model's invoke function, in bytes; None without the toolchain."""
    cmd = compiler or CORTEX_M4
    if not shutil.which(cmd[0]):
        return None
    with tempfile.TemporaryDirectory(prefix="td-stack-") as tmp:
        t = Path(tmp)
        (t / f"{m.prefix}.h").write_text(m.header)
        (t / f"{m.prefix}.c").write_text(m.source)
        frames: dict[str, int] = {}
        calls: dict[str, set[str]] = {}
        for src in [t / f"{m.prefix}.c", *sorted(RUNTIME_DIR.glob("*.c"))]:
            obj = t / (src.stem + ".o")
            r = subprocess.run([*cmd, "-fcallgraph-info=su", f"-I{t}", f"-I{RUNTIME_DIR}", "-c", str(src), "-o",
                                str(obj)], capture_output=True, text=True, cwd=t)
            if r.returncode != 0:
                return None
            text = (t / (src.stem + ".ci")).read_text() if (t / (src.stem + ".ci")).exists() else ""
            for name, size, _ in _NODE.findall(text):
                frames[name] = max(frames.get(name, 0), int(size))
            for a, b in _EDGE.findall(text):
                calls.setdefault(a, set()).add(b)

    @lru_cache(maxsize=None)
    def depth(fn: str) -> int:
        return frames.get(fn, 0) + max((depth(c) for c in calls.get(fn, ()) if c != fn), default=0)

    return depth(f"{m.prefix}_invoke")
