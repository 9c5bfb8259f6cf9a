"""Talking to a board: the emulators (emulators.py: run a firmware to its end, or serve it as a serial
device), the device protocol (protocol.py framing, client.py retrying client), sessions and flash.
"""
from __future__ import annotations

import importlib
from typing import Any

# The package's public face: other packages import these names from here (loaded on first use,
# so importing the package costs nothing and layers never import each other in a cycle).
_EXPORTS = {
    "BoardSession": ".session",
    "DeviceClient": ".client",
    "emulator_command": ".emulators",
    "find_usb_port": ".session",
    "flash": ".flash",
    "installed_platform": ".flash",
    "open_session": ".session",
    "resolve_model": ".flash",
    "run_in_emulator": ".emulators",
    "serial_opener": ".emulators",
    "start_emulator": ".emulators",
    "stop_emulator": ".flash",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
