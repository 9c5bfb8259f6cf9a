"""Two checkouts on one machine, each with its default cache (no TINYDEPLOY_CACHE): `tinydeploy eval`
on qemu-m4 from both at the same moment passes in both. Each checkout gets its own PlatformIO core
(where it registers its own emulated platform) and its own firmware projects."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

CHECKOUT = ["tinydeploy", "lib", "sketches", "platform", "board_profiles", "tests/data/models", "pyproject.toml"]


def make_checkout(dest):
    """A copy of the working tree's files that the tool uses (what a second clone would hold)."""
    for item in CHECKOUT:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__", ".pio"))
        else:
            shutil.copy2(src, dest / item)
    return dest


@pytest.mark.slow
def test_two_checkouts_eval_on_qemu_at_once(tmp_path):
    x = np.random.default_rng(5).integers(-128, 128, (4, 1, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    env = {k: v for k, v in os.environ.items() if k not in ("TINYDEPLOY_CACHE", "TINYDEPLOY_PIO_CORE_DIR")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "home-cache")   # one user cache for both, as on a lab PC
    procs = []
    for name in ("a", "b"):
        co = make_checkout(tmp_path / name)
        cmd = [sys.executable, "-m", "tinydeploy", "eval", "tests/data/models/hello_world_int8.tflite",
               "--board", "qemu-m4", "--inputs", str(tmp_path / "x.npy"), "--json", "report.json"]
        procs.append((co, subprocess.Popen(cmd, cwd=co, env={**env, "PYTHONPATH": str(co)}, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    for co, p in procs:
        out = p.communicate(timeout=600)[0]
        assert p.returncode == 0, f"{co.name}:\n{out}"
        report = json.loads((co / "report.json").read_text())
        assert report["samples"] == 4 and report["bit_exact"]["all"], report
    caches = sorted(p.name for p in (tmp_path / "home-cache" / "tinydeploy").iterdir())
    assert len(caches) == 2 and caches[0].startswith("a-") and caches[1].startswith("b-"), caches
    for c in caches:  # each checkout's core registered its own platform, pointing into that checkout
        assert (tmp_path / "home-cache" / "tinydeploy" / c / "pio-core" / "platforms").is_dir()
