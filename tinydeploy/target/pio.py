"""PlatformIO without network: a private core dir with `tool-scons` seeded from the `scons` pip package.

Every `pio` call goes through `run_pio()`: it sets PLATFORMIO_CORE_DIR and the no-telemetry/no-update
settings and wraps the command in `timeout`, so a step that would try to download fails fast and
clearly instead of hanging for a minute.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import TinyDeployError
from ..paths import pio_core_dir

SCONS_PKG_VERSION = "4.41101.0"   # what platformio 6.2.0 asks for (`~4.41101.0`)


def default_core_dir() -> Path:
    """The PlatformIO core of generated projects: one per checkout (see tinydeploy.paths)."""
    return pio_core_dir()


def pio_executable() -> list[str]:
    """`pio` next to this Python (the venv), else on PATH."""
    exe = Path(sys.executable).with_name("pio")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("pio") or shutil.which("platformio")
    if not found:
        raise TinyDeployError("PlatformIO is not installed",
                              "install it into the venv: pip install platformio==6.2.0 scons==4.11.1")
    return [found]


def _required_scons_spec() -> str:
    try:
        from platformio.dependencies import get_core_dependencies
        return str(get_core_dependencies().get("tool-scons", f"~{SCONS_PKG_VERSION}"))
    except Exception:  # noqa: BLE001 - older/newer pio: fall back to the known spec
        return f"~{SCONS_PKG_VERSION}"


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def prepare_core_dir(core_dir: str | Path | None = None) -> Path:
    """Create the private core dir and seed tool-scons from the installed SCons (idempotent, locked).

    Only ever writes (and replaces) <core>/packages/tool-scons.
    """
    core = Path(core_dir) if core_dir else default_core_dir()
    try:
        import SCons
    except ImportError:
        raise TinyDeployError("the scons Python package is missing (PlatformIO needs it offline)",
                              "pip install scons==4.11.1 into the tinydeploy venv") from None
    _offline_settings(core)
    version = SCons.__version__
    spec = _required_scons_spec()
    pkg_version = spec.lstrip("~^=>< ") or SCONS_PKG_VERSION
    dest = core / "packages" / "tool-scons"
    stamp = dest / ".tinydeploy-seed"
    want = f"{version} {pkg_version}"
    if stamp.exists() and stamp.read_text() == want:
        return core
    with _lock(core / ".tinydeploy.lock"):
        if stamp.exists() and stamp.read_text() == want:
            return core
        tmp = dest.with_name(".tool-scons.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / f"scons-local-{version}").mkdir(parents=True)
        shutil.copytree(Path(SCons.__file__).parent, tmp / f"scons-local-{version}" / "SCons",
                        ignore=shutil.ignore_patterns("__pycache__"))
        (tmp / "scons.py").write_text(
            "import os, sys\n"
            f"sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'scons-local-{version}'))\n"
            "from SCons.Script.Main import main\nsys.exit(main())\n")
        (tmp / "package.json").write_text(json.dumps({"name": "tool-scons", "version": pkg_version, "system": "*"}))
        (tmp / ".piopm").write_text(json.dumps({
            "type": "tool", "name": "tool-scons", "version": pkg_version,
            "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None, "uri": None}}))
        (tmp / ".tinydeploy-seed").write_text(want)
        shutil.rmtree(dest, ignore_errors=True)
        os.replace(tmp, dest)
    return core


OFFLINE_SETTINGS = {"enable_telemetry": False, "check_platformio_interval": 3650}


def _offline_settings(core: Path) -> None:
    """Store no-telemetry / no-update-check in the core dir's appstate.json, so that a plain `pio run`
    (the repo's root platformio.ini, without the environment pio_env() sets) never reaches for the network."""
    path = core / "appstate.json"
    try:
        state = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError):
        state = {}
    if all(state.get("settings", {}).get(k) == v for k, v in OFFLINE_SETTINGS.items()):
        return
    with _lock(core / ".tinydeploy.lock"):
        state.setdefault("settings", {}).update(OFFLINE_SETTINGS)
        tmp = path.with_name(".appstate.json.tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)


def pio_env(core_dir: str | Path | None = None) -> dict[str, str]:
    """Environment for `pio`: private core dir, no telemetry, no update checks, no progress bars."""
    core = prepare_core_dir(core_dir)
    env = dict(os.environ)
    env.update(PLATFORMIO_CORE_DIR=str(core), PLATFORMIO_SETTING_ENABLE_TELEMETRY="no",
               PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL="3650",
               PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD="0",
               PLATFORMIO_DISABLE_PROGRESSBAR="true", PLATFORMIO_NO_ANSI="true")
    venv_bin = str(Path(sys.executable).parent)   # SCons and the toolchain helpers run with this Python
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    return env


@dataclass
class PioResult:
    args: list[str]
    returncode: int
    output: str

    def tail(self, n: int = 25) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-n:])


def run_pio(args: list[str], project_dir: str | Path, timeout: int = 300, check: bool = True,
            core_dir: str | Path | None = None, what: str = "pio") -> PioResult:
    """Run `pio ARGS` in project_dir under `timeout`; on failure raise with the last lines of its output."""
    cmd = pio_executable() + args
    if shutil.which("timeout"):
        cmd = ["timeout", "-k", "5", str(timeout)] + cmd
    r = subprocess.run(cmd, cwd=project_dir, env=pio_env(core_dir), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, errors="replace")
    res = PioResult(args, r.returncode, r.stdout)
    if check and r.returncode != 0:
        why = f"timed out after {timeout} s" if r.returncode == 124 else f"exit status {r.returncode}"
        hint = f"the project is kept in {project_dir}; last lines of the output:\n{res.tail()}"
        if "HTTPClientError" in r.stdout or "Installing" in r.stdout:
            hint += ("\nPlatformIO tried to download a package: only the tinydeploy-emu platform works "
                     "offline (real boards need network once)")
        raise TinyDeployError(f"`pio {' '.join(args)}` failed ({why})", hint)
    return res


def pio_run(project_dir: str | Path, env_name: str | None = None, targets: list[str] | None = None,
            timeout: int = 300, check: bool = True, verbose: bool = False) -> PioResult:
    """`pio run [-e ENV] [-t T ...]` in the project."""
    args = ["run"] + (["-e", env_name] if env_name else []) + \
        [x for t in (targets or []) for x in ("-t", t)] + (["-v"] if verbose else [])
    return run_pio(args, project_dir, timeout=timeout, check=check)


def pio_test(project_dir: str | Path, env_name: str | None = None, timeout: int = 300,
             check: bool = True) -> PioResult:
    """`pio test [-e ENV]` (custom runner from the tinydeploy-emu platform)."""
    return run_pio(["test"] + (["-e", env_name] if env_name else []), project_dir, timeout=timeout, check=check)
