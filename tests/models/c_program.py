"""Build a C program against a converted model (its library written to work/lib) with the host compiler,
run it on float samples written to in.bin, return the bytes it wrote to out.bin."""
import subprocess
from pathlib import Path

import numpy as np

from tinydeploy.compile import write_library
from tinydeploy.target.host import WARN_FLAGS, host_compiler


def run_c_program(m, program: str, xs: np.ndarray, work: Path, flags=("-O2",), timeout: float = 300) -> bytes:
    p = m.prefix
    write_library(m, work / "lib")
    (work / "check.c").write_text(program.replace("@p@", p).replace("@P@", p.upper()))
    runtime = sorted((work / "lib" / "tinydeploy").glob("*.c"))
    cmd = [host_compiler(), *WARN_FLAGS, *flags, f"-I{work / 'lib'}", f"-I{work / 'lib' / 'tinydeploy'}",
           str(work / "check.c"), str(work / "lib" / f"{p}.c"), *map(str, runtime), "-o", str(work / "check"), "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    xs.astype(np.float32).tofile(work / "in.bin")
    r = subprocess.run([str(work / "check"), str(work / "in.bin"), str(work / "out.bin")], capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stderr
    return (work / "out.bin").read_bytes()
