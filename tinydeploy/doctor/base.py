"""What every doctor check shares: the result row, the fix lines, running a tool, naming a package from
an error message."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..paths import ROOT

LEVELS = ("required", "warning", "info")   # only a failed `required` row fails the doctor


@dataclass
class Check:
    """One row of the doctor's table."""
    part: str
    ok: bool
    detail: str
    fix: str = ""
    level: str = "required"

    @property
    def status(self) -> str:
        if self.ok:
            return "ok" if self.level != "info" else "info"
        return "missing" if self.level == "required" else "warn"

    def to_dict(self) -> dict:
        return asdict(self)


def apt_fix(*packages: str) -> str:
    """The apt line that installs these Debian packages (duplicates dropped, order kept)."""
    pkgs = list(dict.fromkeys(p for group in packages for p in group.split()))
    return f"sudo apt-get install -y {' '.join(pkgs)}" if pkgs else ""


def in_root(cmd: str) -> str:
    """A command that runs in the checkout (`cd ROOT && ...` unless we are there already)."""
    return cmd if Path.cwd().resolve() == ROOT.resolve() else f"cd {ROOT} && {cmd}"


def pip_fix() -> str:
    """The pip line for the Python parts (the pyproject extras, into this venv)."""
    venv_pip = Path(sys.executable).with_name("pip")
    if (ROOT / "pyproject.toml").exists() and Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return in_root(".venv/bin/pip install -e '.[test,boards]'")
    pip = str(venv_pip) if venv_pip.exists() else "pip"
    return f"{pip} install platformio==6.2.0 scons==4.11.1 pyserial==3.5 pytest pytest-xdist labgrid tflite-micro"


# Known failure messages -> the Debian package that ends them (checked in this order).
DIAGNOSES: list[tuple[str, str]] = [
    (r"cannot find -lstdc\+\+_nano", "libstdc++-arm-none-eabi-newlib"),
    (r"nano\.specs|nosys\.specs|cannot find -l(c_nano|g_nano|nosys)\b", "libnewlib-arm-none-eabi"),
    (r"picolibc\.(specs|ld)", "picolibc-riscv64-unknown-elf"),
    (r"avr/\w+\.h: No such file|cannot find (crtatmega|-lc\b.*avr|-latmega)", "avr-libc"),
    (r"sim_avr\.h|cannot find -lsimavr", "libsimavr-dev"),
    (r"unsupported machine type|machine .* not found", "qemu-system-arm qemu-system-misc"),
]
_HINT_RE = re.compile(r"apt-get install ((?:[a-z0-9][a-z0-9.+-]+ ?)+)")


def diagnose(output: str) -> list[str]:
    """Debian packages named by the known error messages in a tool's output ([] if none is known)."""
    pkgs = [pkg for pattern, pkg in DIAGNOSES if re.search(pattern, output)]
    hint = _HINT_RE.search(output)   # our own builder's "install it: apt-get install ..." message
    if hint and not pkgs:
        pkgs.append(hint[1].strip())
    return pkgs


@dataclass
class Ran:
    returncode: int
    output: str          # stdout + stderr
    timed_out: bool = False


def run(cmd: list[str], timeout: float = 30, cwd: str | Path | None = None, env: dict | None = None) -> Ran:
    """Run a command to its end (or the timeout); never raises for a missing tool or a failure."""
    try:
        r = subprocess.run(cmd, check=False, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout, text=True, errors="replace")
        return Ran(r.returncode, r.stdout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Ran(124, out, timed_out=True)
    except OSError as exc:
        return Ran(127, str(exc))


def which(tool: str) -> str | None:
    """A tool on PATH (daemons such as ser2net live in sbin, which a user's PATH may lack)."""
    return shutil.which(tool) or shutil.which(tool, path="/usr/local/sbin:/usr/sbin:/sbin")


_ERROR_RE = re.compile(r"error|cannot|not found|no such file|undefined reference|fatal", re.I)
_PATH_RE = re.compile(r"(?<![\w.])/(?:[^\s:/'\"]+/)+(?=[^\s:/'\"]+)")


def last_lines(text: str, n: int = 3, width: int = 300) -> str:
    """The last error lines of a tool's output (else its last lines), folders cut from the paths, for
    the detail column."""
    lines = [ln.strip() for ln in text.strip().splitlines()
             if ln.strip() and not ln.startswith(("=====", "-----", "*** "))]
    errors = [ln for ln in lines if _ERROR_RE.search(ln) and not re.search(r"\bFAILED\b|Error 1$", ln)]
    picked = (errors or lines)[-n:]
    return " | ".join(_PATH_RE.sub("", ln) for ln in picked)[-width:]
