"""The repo's own platformio.ini, as a PlatformIO user finds it: in a fresh clone (a temp dir, never the
working tree), `python -m tinydeploy.pio prepare .pio-core` then plain `pio run -e qemu-m4` builds the
shipped demo offline (the extra_scripts pre-step generates the model sources into build/pio-demo/), and
`pio run -e qemu-m4 -t upload` runs it in QEMU: every embedded test image matches LiteRT."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from boards_helpers import ROOT, VENV_BIN, why_not_compilable

PIO = str(VENV_BIN / "pio")
OVERLAY = ["platformio.ini", "scripts", "platform", "sketches", "lib", "tinydeploy", "models", "board_profiles"]


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone():
    """git clone of the repo into a mktemp dir, plus the working tree's current (possibly uncommitted)
    versions of the files the build uses, so the test checks what is on disk."""
    tmp = Path(tempfile.mkdtemp(prefix="td-root-project-"))
    repo = tmp / "repo"
    try:
        _git("clone", "-q", "--no-hardlinks", str(ROOT), str(repo), cwd=tmp)
        for rel in _git("ls-files", "-co", "--exclude-standard", "--", *OVERLAY, cwd=ROOT).splitlines():
            src = ROOT / rel
            if src.is_file():
                (repo / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, repo / rel)
        yield repo
    finally:
        shutil.rmtree(tmp, ignore_errors=True)     # only the folder this fixture created


def _pio(repo, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORMIO_")}   # as a user runs it
    return subprocess.run(["timeout", str(timeout), PIO, *args], cwd=repo, env=env, capture_output=True, text=True)


@pytest.mark.slow
def test_root_platformio_ini_builds_and_runs_the_demo_offline(clone):
    repo = clone
    demo = repo / "models" / "digits_cnn_int8.tflite"
    n_samples = 4
    assert demo.is_file() and (repo / "models" / "digits_test.npz").is_file(), "the shipped demo model is missing"
    assert not why_not_compilable(demo), why_not_compilable(demo)
    status_before = _git("status", "--porcelain", cwd=repo)

    r = subprocess.run([sys.executable, "-m", "tinydeploy.pio", "prepare", ".pio-core"], cwd=repo,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "tool-scons seeded" in r.stdout, r.stderr
    assert (repo / ".pio-core" / "packages" / "tool-scons" / "scons.py").is_file()

    r = _pio(repo, "run", "-e", "qemu-m4")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "[SUCCESS]" in r.stdout and "tinydeploy: generated" in r.stdout
    assert "HTTPClientError" not in r.stdout + r.stderr
    installs = [x for x in r.stdout.splitlines() if "Installing" in x]     # only the local platform, no download
    assert all("Installing symlink://" in x for x in installs), installs
    assert '"enable_telemetry": false' in (repo / ".pio-core" / "appstate.json").read_text()
    gen = repo / "build" / "pio-demo"
    assert (gen / ".pio" / "qemu-m4" / "firmware.elf").is_file()
    assert (gen / "include" / "td_samples.h").is_file() and (gen / "lib" / "tinydeploy" / "library.json").is_file()
    assert (repo / ".pio-core" / "platforms").is_dir()                  # the project-local core dir was used

    r = _pio(repo, "run", "-e", "qemu-m4", "-t", "upload")               # run in QEMU
    assert r.returncode == 0, r.stdout[-3000:]
    assert "Compiling" not in r.stdout and "tinydeploy: generated" not in r.stdout   # nothing to redo
    for s in range(n_samples):                                           # custom_tinydeploy_n_samples
        assert f"sample_{s}:PASS" in r.stdout, r.stdout[-2000:]
    assert "FAIL" not in r.stdout and "\nDONE" in r.stdout

    # the pre-step wrote only below build/ (ignored by git): the clone is as it was
    assert _git("status", "--porcelain", cwd=repo) == status_before
