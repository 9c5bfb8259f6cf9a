"""The one way a test says it needs an external tool or an optional Python package.

    pytestmark = require_tool("simavr", "avr-gcc")        # a skipif marker, evaluated at setup

Without the tool the test skips with a reason naming the tool and how to install it; under CI=true
tests/conftest.py turns that skip into a failure. A marker (not a collection-time pytest.skip or
importorskip) so that the runtest hooks see it.
"""
from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

# tool -> the Debian package that installs it (scripts/setup.sh installs these)
APT = {
    "avr-gcc": "gcc-avr", "avr-size": "binutils-avr", "avr-nm": "binutils-avr", "simavr": "simavr",
    "arduino-builder": "arduino-builder", "tmux": "tmux", "ser2net": "ser2net",
}
SBIN = os.pathsep.join(("/usr/local/sbin", "/usr/sbin", "/sbin"))  # daemons (ser2net) live there


def missing_tools(*tools: str) -> list[str]:
    path = os.environ.get("PATH", "") + os.pathsep + SBIN
    return [t for t in tools if not shutil.which(t, path=path)]


def tool_reason(tools: list[str]) -> str:
    return "missing tool: " + ", ".join(f"{t} (apt-get install {APT.get(t, t)})" for t in tools)


def require_tool(*tools: str) -> pytest.MarkDecorator:
    """skipif marker: the test needs these programs on PATH."""
    miss = missing_tools(*tools)
    return pytest.mark.skipif(bool(miss), reason=tool_reason(miss))


def require_module(name: str, pip: str) -> pytest.MarkDecorator:
    """skipif marker: the test needs this Python package (pip: how to install it)."""
    miss = importlib.util.find_spec(name) is None
    return pytest.mark.skipif(miss, reason=f"missing Python package: {name} ({pip})")


def cli_in_process(*args, width: int = 200) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tinydeploy ARGS` run in this process (TensorFlow imported once per
    worker), the consoles `width` wide so that tables keep whole names."""
    import contextlib
    import io
    import sys

    from tinydeploy import cli as td

    out, err, argv, old = io.StringIO(), io.StringIO(), sys.argv, td.console.width
    sys.argv = ["tinydeploy", *map(str, args)]
    td.console.width = td.err_console.width = width
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            td.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv, td.console.width, td.err_console.width = argv, old, old
    return code, out.getvalue(), err.getvalue()
