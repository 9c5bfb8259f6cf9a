"""A clone that stands alone (no sibling folders, its own venv, its own cache) sets itself up with the
README's set-up script (apt step skipped: the packages are the machine's) and runs the smoke path:
convert, run on the host, eval on the emulated Cortex-M4, each bit-exact with LiteRT. It catches a
file that is used but not committed and an install step that is missing from pyproject/setup.sh."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.evaluate.reference import reference_outputs

MODEL = "tests/data/models/hello_world_int8.tflite"


def _run(cmd, cwd, env, timeout=600):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.mark.slow
def test_fresh_clone_sets_up_and_runs_the_smoke_path(tmp_path):
    repo = tmp_path / "x"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True, timeout=120)
    venv_bin = os.path.dirname(sys.executable)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TINYDEPLOY_CACHE", "TINYDEPLOY_PIO_CORE_DIR", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin),
               XDG_CACHE_HOME=str(tmp_path / "cache"), TD_SKIP_APT="1", TD_EXTRAS="test,boards",
               PYTHON=getattr(sys, "_base_executable", "python3"))
    _run(["bash", "scripts/setup.sh"], repo, env, timeout=1200)
    td = str(repo / ".venv" / "bin" / "tinydeploy")

    _run([td, "convert", MODEL, "-o", "out"], repo, env)
    assert (repo / "out" / "hello_world_int8.c").is_file()

    x = np.random.default_rng(7).integers(-128, 128, (6, 1, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    ref = reference_outputs(repo / MODEL, [x])[0]
    _run([td, "run", MODEL, "--board", "host", "-i", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")],
         repo, env)
    assert np.load(tmp_path / "y.npy").tobytes() == ref.tobytes()

    _run([td, "eval", MODEL, "--board", "qemu-m4", "--inputs", str(tmp_path / "x.npy"), "--json", "r.json"],
         repo, env)
    report = json.loads((repo / "r.json").read_text())
    assert report["samples"] == 6 and report["bit_exact"]["all"], report
