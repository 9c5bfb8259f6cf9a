"""Every folder tinydeploy reads or writes, in one place.

Data folders (runtime C, sketches, board profiles, the emulated PlatformIO platform) sit beside the
package in a checkout. The cache (PlatformIO core, built firmware, compiled host runners) belongs to
one checkout or installation: two checkouts on one machine never share a PlatformIO core (each
registers its own emulated platform there) nor a firmware project. TINYDEPLOY_CACHE overrides it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent


def _data_dir(*parts: str) -> Path:
    """ROOT/parts in a checkout, else the same folder shipped inside the package."""
    here = ROOT.joinpath(*parts)
    return here if here.is_dir() else PACKAGE_DIR.joinpath(parts[-1])


RUNTIME_DIR = _data_dir("lib", "tinydeploy")
SKETCH_DIR = ROOT / "sketches"
DEVICE_SKETCH_DIR = SKETCH_DIR / "device"
PROFILES_DIR = _data_dir("board_profiles")
PLATFORM_DIR = ROOT / "platform" / "tinydeploy-emu"


def install_key() -> str:
    """A short name for this checkout/installation: folder name + hash of the package's path."""
    return f"{ROOT.name}-{hashlib.sha256(str(PACKAGE_DIR).encode()).hexdigest()[:10]}"


def cache_dir() -> Path:
    """TINYDEPLOY_CACHE, else ~/.cache/tinydeploy/<install key> (read at each call: tests set it late)."""
    env = os.environ.get("TINYDEPLOY_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tinydeploy" / install_key()


def pio_core_dir() -> Path:
    """TINYDEPLOY_PIO_CORE_DIR, else <cache>/pio-core: one private PlatformIO core per checkout."""
    env = os.environ.get("TINYDEPLOY_PIO_CORE_DIR")
    return Path(env) if env else cache_dir() / "pio-core"


def swap_in(tmp: Path, out: Path) -> None:
    """Put the finished folder tmp at out; an existing out is replaced whole, or kept if that fails."""
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Write an output folder all or nothing: yields a temp folder beside out, which replaces out when
    the block ends without error (an empty out is removed first) and is deleted when it raises."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        if out.exists() and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
