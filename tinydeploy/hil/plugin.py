"""pytest plugin (entry point `pytest11: tinydeploy`): hardware-in-the-loop tests of compiled models.

    pytest --board qemu-m4 tests/hil                   # emulated Cortex-M4 (the default without --board)
    pytest --board qemu-m4,qemu-rv32,simavr-mega -n 3  # every test once per board, boards in parallel
    pytest --board nucleo_f446re --port /dev/ttyACM0   # a real board on the bench
    pytest --board labgrid:bench-* -n 2                # places of a labgrid farm, one per worker

Fixtures: `board` (the board this test runs on: .deploy(model), .reset(), .profile), `deployed`
(a factory: deployed("m.tflite") -> Deployment with .run(x), .eval(X, y), .stats(), .measure()),
`baseline` (.check(deployment): latency/RAM against baselines.json, --update-baseline rewrites).
Marker: @pytest.mark.board("qemu-m4", "qemu-rv32") runs a test only on those boards.

When no test asks for these fixtures, the plugin does nothing (no board is started, nothing imported
beyond this module).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SPEC_FIXTURE = "_tinydeploy_board_spec"
DEFAULT_BOARD = "qemu-m4"
_POOL = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    from ..target import KERNEL_CHOICES
    g = parser.getgroup("tinydeploy", "tinydeploy hardware-in-the-loop tests")
    g.addoption("--board", dest="td_board", default=None, metavar="B[,B2…]",
                help="board(s) the HIL tests run on: a board id (qemu-m4, qemu-rv32, simavr-mega, host, "
                     "nucleo_f446re, …) or labgrid:PLACE (a glob, or TAG=VALUE: any free matching place). "
                     "Several, comma-separated: every test runs on each. Default: $TINYDEPLOY_BOARD, the "
                     f"ini option tinydeploy_board, or {DEFAULT_BOARD}.")
    g.addoption("--port", dest="td_port", default=None, metavar="P",
                help="serial port of a real board (/dev/ttyUSB0), or of a board/emulator that already runs the "
                     "model's firmware (socket://host:port, rfc2217://host:port)")
    g.addoption("--baud", dest="td_baud", type=int, default=None, help="serial baud rate (default: the board's)")
    g.addoption("--tinydeploy-build-dir", dest="td_build_dir", default=None, metavar="DIR",
                help="where firmware projects are generated and built (default ~/.cache/tinydeploy/hil; "
                     "reused while model, tool version, plan options and sources match)")
    g.addoption("--tinydeploy-kernels", dest="td_kernels", choices=KERNEL_CHOICES, default="auto",
                help="kernel variant the models are compiled with: auto (the board profile's kernel_variant), "
                     "reference, arm-dsp, arm-mve, riscv or avr")
    g.addoption("--tinydeploy-patch", dest="td_patch", default="off", metavar="SPEC",
                help="patch-based inference of the first stage for the deployed models: off, auto or SPLIT:PHxPW")
    g.addoption("--tinydeploy-input-outside-arena", dest="td_input_outside", action="store_true",
                help="keep the deployed models' int8/int16 input in the caller's buffer, outside the arena (and let "
                     "--tinydeploy-patch tiles read it in place), as --input-outside-arena does")
    g.addoption("--reference", dest="td_reference", choices=("auto", "litert", "tflm", "none"), default="auto",
                help="what deployed models are checked against: auto (LiteRT BUILTIN_REF; TFLM's interpreter when "
                     "LiteRT refuses the model), litert, tflm or none")
    g.addoption("--update-baseline", dest="td_update_baseline", action="store_true",
                help="record the measured latency/RAM as the new baseline instead of comparing")
    g.addoption("--tinydeploy-baseline", dest="td_baseline", default=None, metavar="FILE",
                help="baseline file (default: the ini option tinydeploy_baseline, else baselines.json next to "
                     "each test file)")
    g.addoption("--latency-tolerance", dest="td_latency_tol", type=float, default=None, metavar="FRACTION",
                help="allowed latency growth over the baseline (default: 0, exact, for instruction counts, "
                     "which are deterministic; 0.02 for cycle counts, 0.25 for µs)")
    g.addoption("--ram-tolerance", dest="td_ram_tol", type=int, default=0, metavar="BYTES",
                help="allowed RAM growth over the baseline in bytes (default 0)")
    g.addoption("--board-unavailable", dest="td_unavailable", choices=("skip", "fail"), default=None,
                help="when a board, or a model on it, cannot be tested here: skip its tests with the reason "
                     "(default), or fail them (the default when $CI is set, so a CI run never passes by skipping)")
    g.addoption("--tinydeploy-timeout", dest="td_timeout", type=float, default=5.0,
                help="seconds to wait for one reply from the board (default 5)")
    g.addoption("--labgrid-coordinator", dest="td_lg_coordinator", default=None, metavar="HOST:PORT",
                help="labgrid coordinator for labgrid:… boards (default $LG_COORDINATOR, else 127.0.0.1:20408)")
    g.addoption("--labgrid-wait", dest="td_lg_wait", type=float, default=300.0, metavar="S",
                help="how long to wait for a free labgrid place (default 300 s)")
    g.addoption("--labgrid-env", dest="td_lg_env", default=None, metavar="FILE",
                help="labgrid environment file with the flashing drivers of real places (default $LG_ENV)")
    g.addoption("--tinydeploy-report", dest="td_report", default=None, metavar="FILE",
                help="write every HIL test's outcome and measurements as JSON (used by `tinydeploy test`)")
    parser.addini("tinydeploy_board", f"default board(s) for HIL tests (default {DEFAULT_BOARD})", default=None)
    parser.addini("tinydeploy_baseline", "baseline file, relative to the rootdir", default=None)


def board_specs(config: pytest.Config) -> list[str]:
    from .targets import parse_boards

    spec = config.getoption("td_board") or os.environ.get("TINYDEPLOY_BOARD") or \
        config.getini("tinydeploy_board") or DEFAULT_BOARD
    return parse_boards(spec)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "board(*ids): run this HIL test only on these boards (ids or aliases); "
                                       "on other boards it is skipped with the reason")
    _results.clear()
    if config.getoption("td_board"):  # a typo in --board is a usage error, not a pile of skips
        from ..errors import TinyDeployError
        from ..target import load_board

        for s in board_specs(config):
            if s.startswith("labgrid:"):
                continue
            try:
                load_board(s)
            except TinyDeployError as exc:
                raise pytest.UsageError(f"--board {s}: {exc}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if SPEC_FIXTURE in metafunc.fixturenames:
        specs = board_specs(metafunc.config)
        metafunc.parametrize(SPEC_FIXTURE, specs, ids=specs, indirect=True)


def _make_target(config: pytest.Config, spec: str):
    target = _new_target(config, spec)
    target.kernels = config.getoption("td_kernels")
    target.patch = config.getoption("td_patch")
    target.input_outside_arena = config.getoption("td_input_outside")
    target.reference = config.getoption("td_reference")
    return target


def _new_target(config: pytest.Config, spec: str):
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    build_dir = config.getoption("td_build_dir")
    if spec.startswith("labgrid:"):
        from .labgrid_target import LabgridTarget

        return LabgridTarget(spec[len("labgrid:"):], coordinator=config.getoption("td_lg_coordinator"),
                             build_dir=Path(build_dir) if build_dir else None,
                             timeout=config.getoption("td_timeout"), wait=config.getoption("td_lg_wait"),
                             worker=worker, env_file=config.getoption("td_lg_env"))
    from .targets import LocalTarget

    return LocalTarget(spec, port=config.getoption("td_port"), baud=config.getoption("td_baud"),
                       build_dir=Path(build_dir) if build_dir else None, timeout=config.getoption("td_timeout"),
                       worker=worker)


@pytest.fixture(scope="session")
def tinydeploy_pool(pytestconfig: pytest.Config):
    """The boards this process (xdist worker) holds; each is released at the end of the session."""
    from .targets import TargetPool

    pool = TargetPool(lambda spec: _make_target(pytestconfig, spec))
    pytestconfig.stash[_POOL] = pool
    yield pool
    pool.close()


@pytest.fixture
def _tinydeploy_board_spec(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", None) or board_specs(request.config)[0]


@pytest.fixture
def board(request: pytest.FixtureRequest, _tinydeploy_board_spec: str, tinydeploy_pool):
    """The board this test runs on (a Target): .deploy(model) -> Deployment, .reset(), .profile, .label."""
    from .targets import Unavailable

    spec = _tinydeploy_board_spec
    try:
        target = tinydeploy_pool.get(spec)
        why = target.unavailable()
    except Unavailable as exc:
        why = exc.message
    if why:
        tinydeploy_pool.errors[spec] = why
        _unavailable(request.config, f"board {spec} unavailable: {why}")
    marker = request.node.get_closest_marker("board")
    if marker and marker.args and not target.matches(tuple(marker.args)):
        pytest.skip(f"only for {', '.join(marker.args)}; this run's board is {target.label}")
    request.node.stash[_TARGET] = target
    if target.needs_reset and target.current is not None:
        target.reset()
        target.needs_reset = False
    return target


_TARGET = pytest.StashKey[object]()


@pytest.fixture
def deployed(request: pytest.FixtureRequest, board):
    """deployed(model_path, options=None) -> Deployment: the model's firmware on the board, connected."""
    from .targets import Unavailable

    def deploy(model_path, options=None):
        try:
            return board.deploy(model_path, options)
        except Unavailable as exc:
            _unavailable(request.config, exc.message)

    return deploy


def _unavailable(config: pytest.Config, why: str) -> None:
    """Skip (the default) or fail (--board-unavailable fail, the default when $CI is set) with the reason."""
    __tracebackhide__ = True
    mode = config.getoption("td_unavailable") or \
        ("fail" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "skip")
    if mode == "fail":
        pytest.fail(f"{why} (--board-unavailable=skip to skip instead)", pytrace=False)
    pytest.skip(why)


class BaselineGate:
    """baseline.check(deployment[, key]): measure, then compare with (or, --update-baseline, record) the file."""

    def __init__(self, request: pytest.FixtureRequest, target) -> None:
        from .baseline import BaselineStore

        cfg = request.config
        path = cfg.getoption("td_baseline") or cfg.getini("tinydeploy_baseline")
        self.path = Path(path) if path else request.path.parent / "baselines.json"
        if not self.path.is_absolute():
            self.path = (Path(cfg.rootpath) / self.path) if not cfg.getoption("td_baseline") else self.path.resolve()
        self.store = BaselineStore(self.path)
        self.update = cfg.getoption("td_update_baseline")
        self.latency_tolerance = cfg.getoption("td_latency_tol")
        self.ram_tolerance = cfg.getoption("td_ram_tol")
        self.board_arg = cfg.getoption("td_board") or target.label
        self.target = target
        self.node = request.node

    def check(self, deployment, key: str | None = None, samples: int = 4):
        """Latency + RAM of the deployment on fixed seeded inputs vs the stored baseline; returns the Comparison."""
        __tracebackhide__ = True
        from .baseline import compare, entry_of

        key = key or deployment.name
        board_id = deployment.board.id
        m = deployment.measure(samples)
        old = self.store.get(board_id, key)
        if self.update:
            self.store.put(board_id, key, entry_of(m))
            c = compare(board_id, key, m, None)
            c.old, c.status, c.failures = old, "updated", []
            self._record(c)
            return c
        c = compare(board_id, key, m, old, self.latency_tolerance, self.ram_tolerance)
        self._record(c)
        if c.status == "missing" and deployment.board.kind == "host":
            pytest.skip(f"no baseline for {key} on host in {self.path}: the host's wall-clock µs on a shared PC "
                        "are not a regression signal (gates run on emulated and real boards)")
        if c.failures:
            raise AssertionError(c.message(self.path, self.board_arg))
        return c

    def _record(self, c) -> None:
        self.node.user_properties.append(("tinydeploy_baseline", {
            "board": c.board, "key": c.key, "status": c.status, "new": c.new, "old": c.old,
            "notes": c.notes}))


@pytest.fixture
def baseline(request: pytest.FixtureRequest, board) -> BaselineGate:
    """Latency/RAM gate against baselines.json (see tinydeploy.hil.baseline)."""
    return BaselineGate(request, board)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    if SPEC_FIXTURE not in getattr(item, "fixturenames", ()):
        return
    rep = outcome.get_result()
    rep.user_properties.append(("tinydeploy_hil", True))
    target = item.stash.get(_TARGET, None)
    if target is None:
        return
    if rep.when == "call" and rep.failed and call.excinfo is not None \
            and not call.excinfo.errisinstance(AssertionError):
        target.needs_reset = True  # the link or the board misbehaved: start the next test from a reset
    cur = getattr(target, "current", None)
    if rep.when == "call" and cur is not None:
        rep.user_properties.append(("tinydeploy_device", {
            "board": target.label, "model": cur.model_path.name, "unit": cur.unit,
            "invokes": len(cur.counts), "arena_bytes": cur.arena_bytes, "device": cur.hello.name,
            "url": cur.url}))


_results: list[dict] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = [p for p in report.user_properties if p[0].startswith("tinydeploy_")]
    keep = (report.when == "call") or (report.when == "setup" and (report.skipped or report.failed))
    if not keep or not props:
        return
    msg = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        msg = report.longrepr[2]
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        msg = crash.message if crash is not None else str(report.longrepr)[-2000:]
    _results.append({"nodeid": report.nodeid, "outcome": report.outcome, "when": report.when,
                     "duration": round(report.duration, 3), "message": msg,
                     "properties": {k: v for k, v in props if k != "tinydeploy_hil"}})


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller prints the summary
        return
    rows = [r for r in _results if "tinydeploy_baseline" in r["properties"]]
    if rows:
        tr = terminalreporter
        tr.section("tinydeploy baselines")
        for r in rows:
            b = r["properties"]["tinydeploy_baseline"]
            new, old = b["new"], b["old"] or {}
            lat = f"{new['latency']:>13,} {new['unit']}"
            if old.get("latency"):
                lat += f" ({(new['latency'] / old['latency'] - 1) * 100:+.2f}%)"
            ram = f"RAM {new['ram_bytes']:>8,} B"
            if old.get("ram_bytes") is not None:
                ram += f" ({new['ram_bytes'] - old['ram_bytes']:+,} B)"
            tr.write_line(f"{b['status']:<9} {b['board']:<12} {b['key']:<20} {lat:<40} {ram}")
    path = config.getoption("td_report")
    if path:
        Path(path).write_text(json.dumps({"exitstatus": int(exitstatus), "tests": _results}, indent=2,
                                         ensure_ascii=False) + "\n")
