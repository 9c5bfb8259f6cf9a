"""The suite's CI rule (tests/conftest.py) in a fresh pytest: under CI=true a skip fails with its reason
unless the reason is on ALLOWED_CI_SKIPS; without CI it stays a skip; a tool missing from PATH
(tests/tools.py require_tool) turns the test red under CI with a reason naming the tool and its package."""
import shutil

import pytest
from boards_helpers import path_without
from conftest import ALLOWED_CI_SKIPS, ROOT
from tools import require_tool

pytest_plugins = ["pytester"]

SKIPS = f'''
import pytest

def test_plain_skip():
    pytest.skip("x is not here")

def test_allowed_skip():
    pytest.skip("{next(iter(ALLOWED_CI_SKIPS))}: no board on /dev/ttyUSB0")
'''

NEEDS_SIMAVR = '''
from tools import require_tool

@require_tool("simavr")
def test_in_simavr():
    pass
'''


@pytest.fixture
def suite(pytester):
    """A pytester folder with this repository's tests/conftest.py and tests/tools.py."""
    for name in ("conftest.py", "tools.py"):
        shutil.copy(ROOT / "tests" / name, pytester.path / name)
    return pytester


def run(pytester, monkeypatch, ci: bool, *args):
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:labgrid", "-rsfE", *args)


def test_skip_fails_under_ci_with_its_reason(suite, monkeypatch):
    suite.makepyfile(test_skips=SKIPS)
    r = run(suite, monkeypatch, True)
    r.assert_outcomes(failed=1, skipped=1)
    out = r.stdout.str()
    assert "FAILED test_skips.py::test_plain_skip" in out
    r.stdout.fnmatch_lines(["*skipped under CI=true, which allows no skip*:*x is not here"])
    r.stdout.fnmatch_lines(["SKIPPED*needs real hardware: no board on /dev/ttyUSB0*"])


def test_skip_stays_a_skip_without_ci(suite, monkeypatch):
    suite.makepyfile(test_skips=SKIPS)
    run(suite, monkeypatch, False).assert_outcomes(skipped=2)


@require_tool("simavr")  # on PATH here, so that hiding it is what makes the inner test red
def test_missing_tool_is_red_under_ci(suite, monkeypatch, tmp_path):
    suite.makepyfile(test_simavr=NEEDS_SIMAVR)
    assert run(suite, monkeypatch, True).ret == 0  # simavr is on PATH here
    monkeypatch.setenv("PATH", path_without(tmp_path, "simavr"))
    r = run(suite, monkeypatch, True)
    r.assert_outcomes(errors=1)  # a skipif marker acts at setup: a failed setup is an error
    assert "ERROR test_simavr.py::test_in_simavr" in r.stdout.str()
    r.stdout.fnmatch_lines(["*skipped under CI=true*: missing tool: simavr (apt-get install simavr)"])
    run(suite, monkeypatch, False).assert_outcomes(skipped=1)
