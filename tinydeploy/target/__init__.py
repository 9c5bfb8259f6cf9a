"""Boards and what is built for them: board profiles (boards.py), PlatformIO projects and libraries
(platformio.py, build.py), Arduino ZIPs (arduino*.py), the device-protocol firmware project
(protocol_firmware.py), the emulated dev-platform's board files (emu_platform.py), fit check, cross-compile
checks for boards that can't be built offline, and the host 'board' (host.py, host_device.py).
"""
from .. import public_face

# The package's public face: other packages import these names from here (tinydeploy.public_face).
__getattr__, __all__ = public_face(__name__, {
    "BoardProfile": ".boards",
    "FAMILIES": ".protocol_firmware",
    "FQBN": ".arduino_build",
    "HARDWARE": ".arduino_build",
    "HostDevice": ".host_device",
    "KERNEL_CHOICES": ".variants",
    "MANIFEST": ".protocol_firmware",
    "arch_of": ".boards",
    "board_options": ".variants",
    "build_firmware": ".build",
    "build_host": ".host",
    "build_host_device": ".host_device",
    "check_firmware": ".build",
    "check_kernels": ".variants",
    "check_fit": ".fit",
    "check_fit_graph": ".fit",
    "cross_compile": ".crosscheck",
    "default_core_dir": ".pio",
    "default_project_dir": ".protocol_firmware",
    "device_project": ".protocol_firmware",
    "elf_sha256": ".protocol_firmware",
    "ensure_firmware": ".protocol_firmware",
    "export_arduino": ".arduino",
    "family_of": ".protocol_firmware",
    "firmware_up_to_date": ".protocol_firmware",
    "free_port": ".host_device",
    "generate_project": ".build",
    "host_compiler": ".host",
    "invoke_stack_bytes": ".stack",
    "kernels_for": ".variants",
    "list_boards": ".boards",
    "load_board": ".boards",
    "pack_library": ".platformio",
    "parse_output": ".firmware",
    "pio_build": ".build",
    "pio_env": ".pio",
    "pio_executable": ".pio",
    "prepare_core_dir": ".pio",
    "run_project": ".build",
    "pty_harness": ".arduino_build",
    "run_pio": ".pio",
    "validate_platformio_ini": ".crosscheck",
    "write_json_atomic": ".protocol_firmware",
    "write_library_folder": ".platformio",
})
