"""Output folders are all or nothing: a write that fails midway leaves the previous output exactly as it was
and no temp folder behind; a successful write replaces the previous output completely (no stale file).
Covered for `convert` (compiler.write_library) and `export-platformio` (project.platformio)."""
from pathlib import Path

import pytest
from conftest import TEST_MODELS
from typer.testing import CliRunner

from tinydeploy.cli import app

MODEL = TEST_MODELS / "hello_world_int8.tflite"
COMMANDS = {"convert": ["convert", str(MODEL)], "export-platformio": ["export-platformio", str(MODEL)]}


def cli(command: str, out: Path, *extra: str):
    return CliRunner().invoke(app, COMMANDS[command] + ["-o", str(out), *extra])


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under folder (files with their bytes, folders as None)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in folder.rglob("*")}


def break_midway(command: str, monkeypatch) -> None:
    """The second half of the writing fails (after some files of the new output were written)."""
    def fail(*_a, **_k):
        raise OSError(28, "No space left on device (injected)")

    if command == "convert":  # after <prefix>.h/.c, while copying the runtime
        import tinydeploy.compile.compiler as target
        monkeypatch.setattr(target.shutil, "copytree", fail)
    else:  # after the runtime library, before the model library
        import tinydeploy.target.platformio as target
        monkeypatch.setattr(target, "write_model_library", fail)


@pytest.fixture
def previous(tmp_path):
    """A previous output of each command in tmp_path/work/out-<command>."""
    def make(command: str) -> Path:
        out = tmp_path / "work" / f"out-{command}"
        r = cli(command, out)
        assert r.exit_code == 0, r.output
        return out
    return make


@pytest.mark.parametrize("command", COMMANDS)
def test_failure_midway_keeps_previous_output(command, previous, monkeypatch):
    out = previous(command)
    before = snapshot(out)
    assert len([v for v in before.values() if v is not None]) > 5
    break_midway(command, monkeypatch)
    r = cli(command, out, "--name", "hello_world_int8")
    assert r.exit_code != 0 and "injected" in str(r.exception), r.output
    assert snapshot(out) == before  # not one byte changed
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temp or .old folder left


@pytest.mark.parametrize("command", COMMANDS)
def test_failure_midway_into_new_folder_leaves_nothing(command, tmp_path, monkeypatch):
    break_midway(command, monkeypatch)
    r = cli(command, tmp_path / "new" / "out")
    assert r.exit_code != 0
    assert list((tmp_path / "new").iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_success_replaces_previous_output_completely(command, previous, tmp_path):
    out = previous(command)
    runtime = out / "tinydeploy"
    stale = (runtime / "src" if (runtime / "src").is_dir() else runtime) / "td_stale_kernel.c"
    stale.write_text("int stale;\n")  # a file a previous version wrote, that this one does not
    edited = next(p for p in sorted(out.rglob("hello_world_int8.c")))
    edited.write_text("/* edited by hand */\n")
    r = cli(command, out)
    assert r.exit_code == 0, r.output
    fresh = tmp_path / "fresh" / "out"
    assert cli(command, fresh).exit_code == 0
    assert snapshot(out) == snapshot(fresh)  # exactly a fresh output: no stale file, no edit survives
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
