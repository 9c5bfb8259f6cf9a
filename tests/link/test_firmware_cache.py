"""The protocol firmware is reused only while the generated project is the same: a change in codegen
(here, one comment more in the generated model C) regenerates the project and rebuilds the firmware,
through the library call and through `tinydeploy eval` (a subprocess, as a user runs it)."""
import json

import numpy as np
import pytest
from conftest import TEST_MODELS
from device_helpers import cli

import tinydeploy.compile.compiler as compiler
from tinydeploy.target.protocol_firmware import MANIFEST, ensure_firmware

MODEL = TEST_MODELS / "hello_world_int8.tflite"


def _model_object(project):
    """The object file of the generated model C, as PlatformIO's build left it."""
    (obj,) = project.glob(".pio/build/qemu-m4/lib*/hello_world_int8/hello_world_int8.o")
    return obj


@pytest.mark.slow
def test_codegen_change_rebuilds_the_firmware(tmp_path, monkeypatch):
    pdir = tmp_path / "fw"
    first = ensure_firmware(MODEL, "qemu-m4", pdir)
    assert not first.reused and first.elf.is_file()
    again = ensure_firmware(MODEL, "qemu-m4", pdir)
    assert again.reused and again.manifest["key"] == first.manifest["key"]

    obj = _model_object(pdir)
    built_at = obj.stat().st_mtime_ns
    original = compiler.source_text
    monkeypatch.setattr(compiler, "source_text", lambda *a: original(*a) + "/* codegen changed */\n")
    changed = ensure_firmware(MODEL, "qemu-m4", pdir)
    assert not changed.reused
    assert changed.manifest["key"] != first.manifest["key"]
    assert "codegen changed" in (pdir / "lib" / changed.model.prefix / "src" / f"{changed.model.prefix}.c").read_text()
    assert _model_object(pdir).stat().st_mtime_ns > built_at  # pio run compiled the new C


@pytest.mark.slow
def test_eval_rebuilds_after_a_codegen_change(tmp_path):
    """Two evals in one project folder: the second, with a codegen change injected through a
    sitecustomize module, must rebuild (the manifest's key and firmware change) and stay bit-exact."""
    x = np.random.default_rng(0).integers(-128, 128, (3, 1, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    proj = tmp_path / "proj"
    args = ("eval", MODEL, "--board", "qemu-m4", "--inputs", tmp_path / "x.npy", "--project-dir", proj)
    r = cli(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    before = json.loads((proj / MANIFEST).read_text())
    built_at = _model_object(proj).stat().st_mtime_ns

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import tinydeploy.compile.compiler as c\n"
        "_orig = c.source_text\n"
        "c.source_text = lambda *a: _orig(*a) + '/* codegen changed */\\n'\n")
    r = cli(*args, env={"PYTHONPATH": str(hook)})
    assert r.returncode == 0, r.stdout + r.stderr
    after = json.loads((proj / MANIFEST).read_text())
    assert after["key"]["project_sha256"] != before["key"]["project_sha256"]
    assert "codegen changed" in next(proj.glob("lib/*/src/hello_world_int8.c")).read_text()
    assert _model_object(proj).stat().st_mtime_ns > built_at
