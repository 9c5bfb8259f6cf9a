"""The boards a HIL test process holds (`Target`) and how it puts a model on one (`deploy` -> Deployment).

    t = LocalTarget("qemu-m4", build_dir=Path("build/hil"))
    d = t.deploy("model.tflite")          # compile once, fit check, build/reuse the firmware, start QEMU, HELLO
    d.run(x)                              # see tinydeploy.hil.deployment
    t.close()

One model is on a board at a time, as on real hardware: deploying another model "reflashes" (for an
emulated board: the emulator restarts with the other firmware). Deploying the same model again reuses
the running board. A deployment compiles its model once; the CompiledModel goes to the fit check, the
firmware project and the session. Everything here works without pytest (the plugin only wires it into
fixtures); the labgrid places are LabgridTarget (tinydeploy.hil.labgrid_target).
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import TinyDeployError
from ..target import BoardProfile, load_board
from .deployment import Deployment, file_stamp


class Unavailable(TinyDeployError):
    """The board (or the model on it) cannot be tested here: a test skips with this message."""


class Target:
    """A board held by this test process (one xdist worker): one deployment at a time. A subclass says
    how a compiled model gets onto the board and connected (`_open`)."""

    label: str = "?"
    profile: BoardProfile
    kernels: str = "auto"  # --kernels of the plugin: the kernels a deploy without options compiles with
    patch: str = "off"     # --tinydeploy-patch: patch-based inference of the first stage (PlanOptions.patch)
    input_outside_arena: bool = False  # --tinydeploy-input-outside-arena (PlanOptions.input_outside_arena)
    reference: str = "auto"  # --reference of the plugin: what deployments are checked against (auto|litert|tflm|none)
    current: Deployment | None = None
    needs_reset: bool = False

    def unavailable(self) -> str | None:
        """Why this board cannot be used here (the tests skip with it), or None."""
        return None

    def matches(self, names: tuple[str, ...]) -> bool:
        """For @pytest.mark.board(...): does this board answer to one of these ids/aliases?"""
        return any(load_board(n).id == self.profile.id for n in names)

    def deploy(self, model: str | Path, options: Any = None) -> Deployment:
        model = Path(model)
        if not model.is_file():
            raise TinyDeployError(f"model {model} not found", "give the path of a .tflite file")
        cur = self.current
        if cur is not None and cur.model_path.resolve() == model.resolve() and cur.file_stamp == file_stamp(model) \
                and not self.needs_reset and cur.alive() and options is None:
            return cur
        self.release_deployment()
        from ..compile import PlanOptions, compile_graph, load_model
        from ..evaluate import choose_reference
        from ..target import board_options

        # None: the board's defaults, its kernel variant included (target.board_options)
        default = PlanOptions(patch=self.patch, input_outside_arena=self.input_outside_arena)
        chosen = options or board_options(self.profile, default, kernels=self.kernels)
        m = compile_graph(load_model(model), options=chosen, source_name=model.name)
        self.check_fit(model, m)
        oracle = choose_reference(model, self.reference)  # before the firmware is built
        self.current = Deployment(self._open(model, m), self, options, oracle)
        self.needs_reset = False
        return self.current

    def reset(self) -> Deployment | None:
        """Restart the board with the same firmware (fresh memory and counters) and reconnect."""
        cur = self.current
        if cur is None:
            return None
        self.release_deployment()
        self.current = Deployment(self._open(cur.model_path, cur.compiled), self, cur.options, cur.oracle)
        return self.current

    def check_fit(self, model: Path, m: Any) -> None:
        """Raise Unavailable when the compiled model cannot fit the board (skip reason: what needs how much)."""
        from ..target import check_fit

        if self.profile.kind == "host":
            return
        rep = check_fit(m, self.profile)
        if not rep.fits:
            raise Unavailable(f"{model.name} does not fit {self.profile.id}: " + "; ".join(rep.lines()))

    def _open(self, model: Path, m: Any):
        """The model's firmware on the board, connected: a BoardSession over `m` (the CompiledModel)."""
        raise NotImplementedError

    def release_deployment(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def close(self) -> None:
        self.release_deployment()


def _protocol_firmware_missing(b: BoardProfile) -> str | None:
    from ..paths import DEVICE_SKETCH_DIR as SKETCH_DIR
    from ..target import FAMILIES, family_of

    try:
        fam = family_of(b)
    except TinyDeployError as exc:
        return exc.message
    main = SKETCH_DIR / FAMILIES[fam][0]
    if not main.is_file():
        return f"no protocol firmware for {b.id} in this checkout ({main.name} is missing)"
    return None


class LocalTarget(Target):
    """A board reached from this machine: the host device, an emulator we start, or a real board on a port."""

    def __init__(self, board: str, port: str | None = None, baud: int | None = None,
                 build_dir: Path | None = None, timeout: float = 5.0, worker: str = "main") -> None:
        self.profile = load_board(board)
        self.label = self.profile.id
        self.port, self.baud, self.timeout, self.worker = port, baud, timeout, worker
        from ..paths import cache_dir

        self.build_dir = Path(build_dir) if build_dir else cache_dir() / "hil"
        self.current = None
        self.needs_reset = False

    def unavailable(self) -> str | None:
        b = self.profile
        if b.kind == "host":
            from ..target import host_compiler
            try:
                host_compiler()
            except TinyDeployError as exc:
                return exc.message
            return None
        if self.port and not b.emulated:
            if not self.port.startswith(("socket://", "rfc2217://")) and not os.path.exists(self.port):
                return f"serial port {self.port} does not exist (is the {b.id} plugged in?)"
            return None
        missing = _protocol_firmware_missing(b)
        if missing:
            return missing
        if b.emulated:
            if self.port:
                return None
            e = b.emulator
            if not shutil.which(e.binary):
                return f"{e.binary} is not installed (needed to emulate {b.id}): apt-get install {e.apt}"
            if b.toolchain and not shutil.which(b.toolchain.cc):
                return f"{b.toolchain.cc} is not installed (builds {b.id} firmware): apt-get install {b.toolchain.apt}"
            return None
        from ..link import find_usb_port, installed_platform

        plat = b.platformio.get("platform", "")
        if not installed_platform(plat):
            return f"PlatformIO platform {plat} is not installed (needed to flash {b.id})"
        try:
            self.port = find_usb_port(b)
        except TinyDeployError as exc:
            return exc.message
        return None

    def project_dir(self, model: Path) -> Path:
        return project_dir_for(self.build_dir, model, self.profile.id)

    def _open(self, model: Path, m: Any):
        """open_session with the compiled model: the host device, the emulator this worker starts (its log
        next to the firmware), an emulator already running on --port, or a real board flashed first."""
        from ..link import flash, open_session

        b = self.profile
        port = None if b.kind == "host" else self.port
        pdir = self.project_dir(model)
        if port and not b.emulated:  # a real board: flash through PlatformIO, then talk to its port
            flash(model, b.id, port, project_dir=pdir, options=m.options, compiled=m)
        return open_session(model, b.id, port, m.options, project_dir=pdir, timeout=self.timeout, compiled=m,
                            emulator_log=pdir / f"emulator-{self.worker}.log", baud=self.baud)


def project_dir_for(build_dir: Path, model: Path, board_id: str) -> Path:
    """<build dir>/<model stem>-<hash of its path>/<board>: one firmware project per model file and board."""
    return Path(build_dir) / f"{model.stem}-{hashlib.sha256(str(model.resolve()).encode()).hexdigest()[:8]}" / board_id


def parse_boards(spec: str | None) -> list[str]:
    """'qemu-m4,qemu-rv32' -> ['qemu-m4', 'qemu-rv32'] (labgrid:… entries kept as they are)."""
    return [s.strip() for s in (spec or "").split(",") if s.strip()]


class TargetPool:
    """The boards this process holds, by spec; closed at the end of the test session."""

    def __init__(self, make) -> None:
        self._make = make
        self.targets: dict[str, Target] = {}
        self.errors: dict[str, str] = {}

    def get(self, spec: str) -> Target:
        if spec in self.errors:
            raise Unavailable(self.errors[spec])
        t = self.targets.get(spec)
        if t is None:
            try:
                t = self._make(spec)
            except Unavailable as exc:
                self.errors[spec] = exc.message
                raise
            self.targets[spec] = t
        return t

    def close(self) -> None:
        for t in self.targets.values():
            try:
                t.close()
            except Exception:  # closing one board must not keep the others open
                pass
        self.targets.clear()
