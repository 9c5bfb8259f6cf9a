"""What the HIL fixtures hand to tests: a board a worker holds (`Target`), a model on it (`Deployment`).

    t = LocalTarget("qemu-m4", build_dir=Path("build/hil"))
    d = t.deploy("model.tflite")          # build/reuse the protocol firmware, start QEMU, connect (HELLO)
    r = d.run(x)                          # RunResult: outputs [N, *shape] per output, counts per invoke
    e = d.eval(X, y)                      # Evaluation: + LiteRT reference, agreement, accuracy, report
    d.stats()                             # Stats: stack peak, arena canary, invokes, arena bytes
    t.close()

One model is on a board at a time, as on real hardware: deploying another model "reflashes" (for an
emulated board: the emulator restarts with the other firmware). Deploying the same model again reuses
the running board. Everything here works without pytest (the plugin only wires it into fixtures).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TinyDeployError
from ..target import BoardProfile, load_board


class Unavailable(TinyDeployError):
    """The board (or the model on it) cannot be tested here: a test skips with this message."""


@dataclass
class RunResult:
    outputs: list[np.ndarray]     # one [N, *shape] array per model output
    counts: np.ndarray            # per invoke, in `unit`
    unit: str
    clock_hz: int
    inputs: list[np.ndarray] = field(default_factory=list)

    @property
    def output(self) -> np.ndarray:
        return self.outputs[0]


@dataclass
class Measurement:
    """What the baseline gate records for a model on a board."""
    unit: str
    latency: int                  # mean counts per invoke over the measuring inputs (rounded)
    latency_max: int
    arena_bytes: int
    stack_peak_bytes: int
    samples: int
    sha256: str
    canary_ok: bool = True

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.stack_peak_bytes


class Evaluation:
    """tinydeploy.evaluate.evaluation.EvalResult plus its report (the same numbers `tinydeploy eval` prints)."""

    def __init__(self, result: Any) -> None:
        from ..evaluate import report_dict

        self.result = result
        self.report = report_dict(result)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)

    @property
    def bit_exact(self) -> bool:
        return bool(self.report["bit_exact"]["all"])

    @property
    def accuracy(self) -> float | None:
        return self.report.get("accuracy", {}).get("device")

    @property
    def host_accuracy(self) -> float | None:
        return self.report.get("accuracy", {}).get("host")

    @property
    def latency(self) -> dict:
        return self.report["latency"]


def model_sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Deployment:
    """A model running on a board (a BoardSession underneath); records the count of every invoke."""

    def __init__(self, session: Any, target: "Target") -> None:
        self.session = session
        self.target = target
        self.file_sha256 = model_sha(session.model_path)
        self.counts: list[int] = []

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def model_path(self) -> Path:
        return self.session.model_path

    @property
    def name(self) -> str:
        return self.model_path.stem

    @property
    def graph(self):
        return self.session.model.graph

    @property
    def hello(self):
        return self.session.hello

    @property
    def board(self) -> BoardProfile:
        return self.target.profile

    @property
    def unit(self) -> str:
        return self.session.hello.unit

    @property
    def clock_hz(self) -> int:
        return self.session.hello.clock_hz

    @property
    def arena_bytes(self) -> int:
        return self.session.hello.arena_bytes

    @property
    def url(self) -> str:
        return self.session.url

    def __repr__(self) -> str:
        return f"<Deployment {self.model_path.name} on {self.target.label} ({self.url})>"

    # -- inputs ---------------------------------------------------------------------------------------
    def random_inputs(self, n: int, seed: int = 0) -> list[np.ndarray]:
        """n seeded random samples over the full range of each input's dtype."""
        from ..evaluate import random_inputs

        return random_inputs(self.graph, n, np.random.default_rng(seed))

    def prepare(self, x: Any) -> list[np.ndarray]:
        """One array (or a list, one per input) -> [N, *shape] arrays; float32 is quantized."""
        from ..evaluate import prepare_inputs

        arrays = [x] if isinstance(x, np.ndarray) else list(x)
        return prepare_inputs(self.graph, arrays)

    # -- running ----------------------------------------------------------------------------------------
    def run(self, x: Any) -> RunResult:
        """Every sample of x on the board (one sample without a batch axis works too)."""
        from ..evaluate import output_arrays, sample_bytes

        xs = self.prepare(x)
        rows, counts = [], []
        for i in range(xs[0].shape[0]):
            r = self.session.client.run(sample_bytes(xs, i))
            rows.append(r.outputs)
            counts.append(r.count)
        self.counts += counts
        return RunResult(output_arrays(self.graph, rows), np.array(counts, np.int64), self.unit, self.clock_hz, xs)

    def reference(self, x: Any) -> list[np.ndarray]:
        """LiteRT BUILTIN_REF outputs of the model file for x (the oracle)."""
        from ..evaluate import reference_outputs

        return reference_outputs(self.model_path, self.prepare(x))

    def eval(self, x: Any, y: np.ndarray | None = None, reference: bool = True) -> Evaluation:
        """tinydeploy eval: outputs, counts, agreement with LiteRT, accuracy when labels are given."""
        from ..evaluate import evaluate

        r = evaluate(self.session, self.prepare(x), None if y is None else np.asarray(y).reshape(-1),
                     reference=reference)
        self.counts += [int(c) for c in r.counts]
        return Evaluation(r)

    def stats(self):
        """Stats from the board: stack_peak_bytes, canary_ok, invokes, arena_bytes."""
        return self.session.client.stats()

    def measure(self, n: int = 4, seed: int = 0) -> Measurement:
        """Latency and RAM on n seeded random inputs (the same inputs every time: comparable runs)."""
        r = self.run(self.random_inputs(n, seed))
        st = self.stats()
        return Measurement(self.unit, int(round(float(r.counts.mean()))), int(r.counts.max()), st.arena_bytes,
                           st.stack_peak_bytes, n, self.file_sha256, st.canary_ok)

    def alive(self) -> bool:
        started = self.session.started
        if started is None:
            return True
        if hasattr(started, "alive"):
            return started.alive()
        proc = getattr(started, "proc", None)
        return proc is not None and proc.poll() is None

    def close(self) -> None:
        self.session.close()


class Target:
    """A board held by this test process (one xdist worker): one deployment at a time."""

    label: str = "?"
    profile: BoardProfile
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
        if cur is not None and cur.model_path.resolve() == model.resolve() and cur.file_sha256 == model_sha(model) \
                and not self.needs_reset and cur.alive() and options is None:
            return cur
        self.release_deployment()
        self.check_fit(model, options)
        self.current = Deployment(self._open(model, options), self)
        self.needs_reset = False
        return self.current

    def reset(self) -> Deployment | None:
        """Restart the board with the same firmware (fresh memory and counters) and reconnect."""
        cur = self.current
        if cur is None:
            return None
        self.release_deployment()
        self.current = Deployment(self._open(cur.model_path, None), self)
        return self.current

    def check_fit(self, model: Path, options: Any) -> None:
        """Raise Unavailable when the model cannot fit the board (skip reason: what needs how much)."""
        from ..compile import PlanOptions, compile_graph, load_model
        from ..target import check_fit

        if self.profile.kind == "host":
            return
        m = compile_graph(load_model(model), options=options or PlanOptions(), source_name=model.name)
        rep = check_fit(m, self.profile)
        if not rep.fits:
            raise Unavailable(f"{model.name} does not fit {self.profile.id}: " + "; ".join(rep.lines()))

    def _open(self, model: Path, options: Any):
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

    def _open(self, model: Path, options: Any):
        from ..link import BoardSession, open_session

        b = self.profile
        if b.kind == "host" or (not b.emulated and self.port is None):
            return open_session(model, b.id, None, options, timeout=self.timeout)
        if self.port and b.emulated:  # an emulator that already runs the firmware
            return open_session(model, b.id, self.port, options, timeout=self.timeout)
        if not b.emulated:  # a real board: flash through PlatformIO, then talk to its port
            from ..link import flash

            flash(model, b.id, self.port, project_dir=self.project_dir(model), options=options)
            return open_session(model, b.id, self.port, options, timeout=self.timeout)
        # emulated: our own session, so each worker's emulator has its own log next to the firmware
        from ..compile import PlanOptions, compile_graph, load_model
        from ..link import DeviceClient, serial_opener, start_emulator
        from ..target import ensure_firmware

        m = compile_graph(load_model(model), options=options or PlanOptions(), source_name=model.name)
        proj = ensure_firmware(model, b, self.project_dir(model), options=options, compiled=m)
        emu = start_emulator(b, proj.elf.resolve(), log_path=proj.path / f"emulator-{self.worker}.log")
        try:
            client = DeviceClient(emu.url, [m.graph.tensors[t].nbytes for t in m.graph.outputs],
                                  baud=self.baud or b.baud, timeout=self.timeout, expect_sha256=m.graph.sha256,
                                  opener=serial_opener)
            hello = client.connect(wait=15.0)
        except BaseException:
            emu.stop()
            raise
        return BoardSession(client, hello, m, model, emu.url, b, emu, proj)


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


def wait_for(pred, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
