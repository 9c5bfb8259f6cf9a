"""Shared by the flash/eval/monitor tests: firmware projects in a cache folder (reused across runs when
their manifest matches: model, tool version, plan options and every firmware source)."""
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TEST_MODELS

from tinydeploy.paths import cache_dir

MODELS = ROOT / "models"
DIGITS = MODELS / "digits_cnn_int8.tflite"
DIGITS_DATA = MODELS / "digits_test.npz"
TD = [sys.executable, "-m", "tinydeploy"]


def firmware_dir(model: Path, board: str) -> Path:
    return cache_dir() / "test-device" / f"{model.stem}-{board}"


def public_model(name: str) -> Path:
    return TEST_MODELS / f"{name}.tflite"


def cli(*args: str, timeout: float = 300, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command line, as a user runs it."""
    return subprocess.run(TD + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, "COLUMNS": "200", **(env or {})})
