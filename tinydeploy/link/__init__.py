"""Talking to a board: the emulators (emulators.py: run a firmware to its end, or serve it as a serial
device), the device protocol (protocol.py framing, client.py retrying client), sessions and flash.
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "BoardLost": ".recovery",
    "BoardSession": ".session",
    "DeviceClient": ".client",
    "emulator_command": ".emulators",
    "find_port": ".recovery",
    "find_usb_port": ".session",
    "flash": ".flashing",
    "installed_platform": ".flashing",
    "LinkDown": ".client",
    "open_session": ".session",
    "port_identity": ".recovery",
    "Recovery": ".recovery",
    "resolve_model": ".flashing",
    "run_in_emulator": ".emulators",
    "serial_opener": ".emulators",
    "SessionLost": ".client",
    "start_emulator": ".emulators",
    "stop_emulator": ".flashing",
})
