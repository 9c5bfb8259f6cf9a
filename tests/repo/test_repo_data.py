"""The repository stands alone: the test models are committed with their provenance and unchanged,
and nothing reads the sibling folder that the developers' workspace happens to have."""
import hashlib
import re
import subprocess

from conftest import ROOT, TEST_MODELS


def test_test_models_match_their_recorded_sha256():
    readme = (TEST_MODELS / "README.md").read_text()
    recorded = dict((name, sha) for sha, name in re.findall(r"^\s+([0-9a-f]{64})  (\S+)$", readme, re.M))
    on_disk = sorted(p.name for p in TEST_MODELS.glob("*.tflite"))
    assert sorted(recorded) == on_disk
    for name, sha in recorded.items():
        assert hashlib.sha256((TEST_MODELS / name).read_bytes()).hexdigest() == sha, name
        assert f"| {name} |" in readme, f"{name}: no provenance row"


def test_no_tracked_file_reads_outside_the_repository():
    sibling = "../" + "shared"          # split so that this file does not match itself
    pattern = rf'{re.escape(sibling)}|parent\s*/\s*["\']{"shared"}["\']'
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    for f in files:
        path = ROOT / f
        if path.suffix in {".py", ".sh", ".ini", ".toml", ".c", ".h", ".cpp", ".in"} or path.name == "Makefile":
            text = path.read_text(errors="replace")
            hits += [f"{f}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert not hits, hits
