"""Projects for boards: PlatformIO projects and libraries, the emulated boards' dev-platform, fit check,
cross-compile checks for boards that can't be built offline.

Python API (reused by eval/monitor):
    build_firmware(model_path, board, out_dir, samples=None) -> Path        # firmware.elf, via `pio run`
    run_in_emulator(board, elf, timeout=60, check=True) -> str             # console text of the run
    check_firmware(model_path, board, out_dir, samples=None) -> FirmwareCheck  # + bit-exact comparison
    generate_project(...) -> Project, check_fit(compiled, board) -> FitReport, parse_output(text)
"""
from .build import FirmwareCheck, Project, build_firmware, check_firmware, generate_project, pio_build, run_project
from .emulator import PLATFORM_DIR, emulator_command, run_in_emulator
from .firmware import FirmwareRun, parse_output
from .fit import FitReport, check_fit, check_fit_graph

__all__ = ["FirmwareCheck", "FirmwareRun", "FitReport", "PLATFORM_DIR", "Project", "build_firmware",
           "check_firmware", "check_fit", "check_fit_graph", "emulator_command", "generate_project", "parse_output",
           "pio_build", "run_in_emulator", "run_project"]
