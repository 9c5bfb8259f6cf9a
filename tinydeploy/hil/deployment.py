"""A model running on a board, as the HIL fixtures hand it to tests, and what it reports.

    d = board.deploy("model.tflite")      # a Deployment (see tinydeploy.hil.targets)
    r = d.run(x)                          # RunResult: outputs [N, *shape] per output, counts per invoke
    e = d.eval(X, y)                      # Evaluation: + the reference (--reference), agreement, accuracy, report
    d.stats()                             # Stats: stack peak, arena canary, invokes, arena bytes
    d.measure()                           # Measurement: what the baseline gate records
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..target import BoardProfile

if TYPE_CHECKING:
    from .targets import Target


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


def file_stamp(path: Path) -> tuple[int, int]:
    """(mtime in ns, size): tells a model file rewritten since it was deployed, without reading it."""
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


class Deployment:
    """A model running on a board (a BoardSession underneath); records the count of every invoke."""

    def __init__(self, session: Any, target: "Target", options: Any = None, oracle: Any = None) -> None:
        self.session = session
        self.target = target
        self.options = options        # the PlanOptions it was deployed with (None: the defaults)
        self.oracle = oracle          # the evaluate.Oracle its outputs are checked against (None: auto)
        self.file_sha256 = session.model.graph.sha256  # of the bytes it was compiled from
        self.file_stamp = file_stamp(session.model_path)
        self.counts: list[int] = []

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def model_path(self) -> Path:
        return self.session.model_path

    @property
    def name(self) -> str:
        return self.model_path.stem

    @property
    def compiled(self):
        """The CompiledModel on the board (compiled once, when it was deployed)."""
        return self.session.model

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
        """The reference's outputs of the model file for x: LiteRT BUILTIN_REF, or TFLM when LiteRT refuses the
        model (the plugin's --reference; evaluate.choose_reference)."""
        from ..errors import TinyDeployError
        from ..evaluate import choose_reference

        oracle = self.oracle or choose_reference(self.model_path)
        out = oracle.outputs(self.prepare(x))
        if out is None:
            raise TinyDeployError(f"no reference for {self.model_path.name}: {oracle.note}",
                                  "--reference auto, litert or tflm")
        return out

    def eval(self, x: Any, y: np.ndarray | None = None, reference: bool = True) -> Evaluation:
        """tinydeploy eval: outputs, counts, agreement with LiteRT, accuracy when labels are given."""
        from ..evaluate import evaluate

        r = evaluate(self.session, self.prepare(x), None if y is None else np.asarray(y).reshape(-1),
                     reference=(self.oracle or True) if reference else False)
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
