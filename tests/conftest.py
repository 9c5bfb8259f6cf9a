"""Suite-wide rules: models from tests/data only, a fresh tinydeploy cache per run, and no skip under CI."""
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEST_MODELS = ROOT / "tests" / "data" / "models"  # public models with provenance (README there)

# Skips that CI may keep, each with why: a skip whose reason contains none of these fails under CI=true.
ALLOWED_CI_SKIPS = {
    "needs real hardware": "a real board on a serial port (--port); CI has none attached",
}


def pytest_configure(config):
    """One temporary TINYDEPLOY_CACHE for the whole run (xdist workers inherit it from the controller),
    so no test reuses firmware or host runners built by an earlier run or by another checkout."""
    if hasattr(config, "workerinput") or os.environ.get("TINYDEPLOY_CACHE"):
        return
    config._td_cache = tempfile.mkdtemp(prefix="td-test-cache-")
    os.environ["TINYDEPLOY_CACHE"] = config._td_cache


def pytest_unconfigure(config):
    cache = getattr(config, "_td_cache", None)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
        os.environ.pop("TINYDEPLOY_CACHE", None)


def ci_allows_skip(reason: str) -> bool:
    return any(key in reason for key in ALLOWED_CI_SKIPS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure (a missing tool or a compile regression must not pass as
    green), unless its reason is on ALLOWED_CI_SKIPS."""
    outcome = yield
    rep = outcome.get_result()
    if os.environ.get("CI") != "true" or not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    if ci_allows_skip(reason):
        return
    rep.outcome = "failed"
    rep.longrepr = f"skipped under CI=true, which allows no skip but those in tests/conftest.py: {reason}"
