"""Generate a PlatformIO project for a model and a board, build it with a real `pio run`, run it.

    proj = generate_project("m.tflite", "qemu-m4", "out/")        # fit check, samples, reference outputs
    elf = build_firmware("m.tflite", "qemu-m4", "out/")           # + pio run -> Path(firmware.elf)
    text = run_in_emulator("qemu-m4", elf, timeout=60)            # OUT/CYCLES/DONE lines
    check_firmware("m.tflite", "qemu-m4", "out/")                 # all of it + bit-exact comparison
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..compile import CompiledModel, PlanOptions, compile_graph, load_model
from ..errors import TinyDeployError
from ..link import run_in_emulator
from ..paths import staged_folder
from .boards import BoardProfile, load_board
from .firmware import FirmwareRun, compare_outputs, load_samples, model_shim, parse_output, samples_header
from .fit import FitReport, check_fit, check_fit_graph
from .platformio import check_output_dir, write_project_tree


@dataclass
class Project:
    path: Path
    board: BoardProfile
    model: CompiledModel
    model_path: Path
    inputs: list[np.ndarray]
    expected: list[np.ndarray] | None
    fit: FitReport

    @property
    def env_name(self) -> str:
        return self.board.id

    @property
    def elf(self) -> Path:
        return self.path / ".pio" / "build" / self.env_name / "firmware.elf"


@dataclass
class FirmwareCheck:
    project: Project
    run: FirmwareRun
    outputs: list[np.ndarray]
    mismatches: list[str] = field(default_factory=list)

    @property
    def bit_exact(self) -> bool:
        return not self.mismatches and self.project.expected is not None


def generate_project(model_path: str | Path, board: str | BoardProfile, out_dir: str | Path,
                     samples=None, n_samples: int = 3, name: str | None = None, seed: int = 0,
                     fit_check: bool = True, with_reference: bool = True,
                     options: PlanOptions | None = None) -> Project:
    """Write a complete PlatformIO project (atomically: temp dir + rename). Nothing is compiled yet.
    `options` None: the board's defaults (its kernel variant, target.variants.board_options).

    Raises TinyDeployError before writing anything when the model does not fit the board.
    """
    from .variants import board_options

    b = load_board(board)
    model_path = Path(model_path)
    out = Path(out_dir)
    check_output_dir(out)
    g = load_model(model_path)
    if fit_check:   # lower bounds first: a model far too big fails before any code generation
        check_fit_graph(g, b, model_path.name, options).raise_if_too_big()
    m = compile_graph(g, prefix=name, options=options or board_options(b), source_name=model_path.name)
    report = check_fit(m, b)
    if fit_check:
        report.raise_if_too_big()
    inputs = load_samples(g, samples, n=n_samples, seed=seed)
    expected = None
    if with_reference:
        from ..evaluate import reference_outputs
        expected = reference_outputs(model_path, inputs)
    with staged_folder(out) as tmp:
        write_project_tree(tmp, m, b, samples_header(inputs, expected), model_shim(m))
    return Project(out, b, m, model_path, inputs, expected, report)


def pio_build(project: Project, timeout: int = 300) -> Path:
    """Real `pio run` for an emulated board; returns the firmware ELF. Failures keep the project dir."""
    from .pio import pio_run

    b = project.board
    if not b.emulated:
        raise TinyDeployError(f"{b.id} needs PlatformIO's {b.platformio.get('platform')} platform, which "
                              "cannot be installed offline", "its model and kernels are cross-compiled instead "
                              "(tinydeploy.project.crosscheck)")
    _check_toolchain(b)
    pio_run(project.path, b.id, timeout=timeout)
    if not project.elf.exists():
        raise TinyDeployError(f"pio run succeeded but {project.elf} is missing")
    return project.elf


def _check_toolchain(b: BoardProfile) -> None:
    tc = b.toolchain
    if tc and not shutil.which(tc.cc):
        raise TinyDeployError(f"{tc.cc} not found (the compiler for {b.id})", f"apt-get install {tc.apt}")
    if b.emulator and b.emulator.binary and not shutil.which(b.emulator.binary):
        raise TinyDeployError(f"{b.emulator.binary} not found (the emulator for {b.id})",
                              f"apt-get install {b.emulator.apt}")


def build_firmware(model_path: str | Path, board: str | BoardProfile, out_dir: str | Path,
                   samples=None, **kwargs) -> Path:
    """Generate the project and build it with `pio run`; returns Path(firmware.elf)."""
    return pio_build(generate_project(model_path, board, out_dir, samples=samples, **kwargs))


def run_project(project: Project, timeout: float = 60) -> FirmwareCheck:
    """Run the built firmware in the emulator and compare its outputs with the reference, byte for byte."""
    text = run_in_emulator(project.board, project.elf, timeout=timeout, check=False)
    run = parse_output(text)
    if not run.done:
        raise TinyDeployError(f"{project.board.id}: the firmware stopped before DONE",
                              f"its output ended with: {text[-600:]!r}")
    outs = run.output_arrays(project.model.graph)
    mismatches = compare_outputs(outs, project.expected) if project.expected is not None else []
    return FirmwareCheck(project, run, outs, mismatches)


def check_firmware(model_path: str | Path, board: str | BoardProfile, out_dir: str | Path, samples=None,
                   timeout: float = 60, **kwargs) -> FirmwareCheck:
    """generate_project + pio run + run in the emulator + bit-exact comparison with LiteRT."""
    project = generate_project(model_path, board, out_dir, samples=samples, **kwargs)
    pio_build(project)
    return run_project(project, timeout=timeout)


SOURCES_STAMP = ".tinydeploy-sources.json"


def _safe_dir(p: str | Path, what: str) -> Path:
    """An explicit, absolute folder that is not a filesystem root (guards every delete below)."""
    s = str(p).strip()
    if not s or s in (".", "/") or not Path(s).is_absolute():
        raise TinyDeployError(f"{what} must be an absolute folder (got {s!r})",
                              "set lib_dir/include_dir in platformio.ini")
    return Path(s)


def generate_sources(model_path: str | Path, include_dir: str | Path, lib_dir: str | Path,
                     samples=None, n_samples: int = 3, name: str | None = None) -> bool:
    """The generated parts of a project (include/td_*.h, lib/tinydeploy, lib/<model>) for a project that
    keeps its own platformio.ini and main.cpp (the repo's root platformio.ini: extra_scripts pre-step).

    Only the folders this function wrote before (listed in lib_dir/.tinydeploy-sources.json) are ever
    replaced; nothing else in lib_dir or include_dir is touched. Skips the work when the model, samples
    and runtime are unchanged; returns True if it wrote.
    """
    import hashlib

    from ..paths import RUNTIME_DIR
    from .platformio import write_model_library, write_runtime_library

    model_path = Path(model_path)
    include_dir, lib_dir = _safe_dir(include_dir, "include_dir"), _safe_dir(lib_dir, "lib_dir")
    digest = hashlib.sha256(model_path.read_bytes() + f"{n_samples}|{name}".encode())
    if isinstance(samples, (str, Path)):
        digest.update(Path(samples).read_bytes())
    elif samples is not None:
        digest.update(np.ascontiguousarray(samples).tobytes())
    for p in sorted(RUNTIME_DIR.rglob("*.[ch]")) + sorted(Path(__file__).parent.glob("*.py")):
        digest.update(p.read_bytes())
    stamp_path = lib_dir / SOURCES_STAMP
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    if stamp.get("digest") == digest.hexdigest() and (include_dir / "td_samples.h").exists():
        return False
    g = load_model(model_path)
    m = compile_graph(g, prefix=name, options=PlanOptions(), source_name=model_path.name)
    inputs = load_samples(g, samples, n=n_samples)
    from ..evaluate import reference_outputs
    expected = reference_outputs(model_path, inputs)
    include_dir.mkdir(parents=True, exist_ok=True)
    lib_dir.mkdir(parents=True, exist_ok=True)
    (include_dir / "td_model.h").write_text(model_shim(m))
    (include_dir / "td_samples.h").write_text(samples_header(inputs, expected))
    for old in stamp.get("libraries", []):   # only what we wrote last time, by exact name
        if old and "/" not in old and old not in (".", ".."):
            shutil.rmtree(lib_dir / old, ignore_errors=True)
    write_runtime_library(lib_dir / "tinydeploy")
    write_model_library(m, lib_dir / m.prefix)
    stamp_path.write_text(json.dumps({"digest": digest.hexdigest(), "libraries": ["tinydeploy", m.prefix]}))
    return True
