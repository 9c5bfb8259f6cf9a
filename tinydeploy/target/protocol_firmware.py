"""Protocol firmware projects: a PlatformIO project whose src/ is the device glue + a board main.

Where `tinydeploy build` writes a project that runs embedded samples (sketches/platformio/main.cpp),
this writes one that speaks the device protocol (lib/tinydeploy/td_device.h) over the UART, so that
`tinydeploy eval/monitor` can stream inputs to it. It reuses the project generation pieces
(runtime/model libraries, platformio.ini, fit check) and only writes src/ itself:

    src/td_glue.c        td_model_setup() for the model (sketches/device/td_model_glue.c.in)
    src/td_board.h       what a board main provides (sketches/device/td_board.h)
    src/<board main>     sketches/device/qemu_arm_device.c, qemu_riscv_device.c, avr_device.c or
                         arduino_device.cpp (real boards, Arduino framework)
    .tinydeploy-flash.json   manifest: what was built (model hash, tool version, plan options, sources)

    proj = device_project("m.tflite", "qemu-m4", "build/m-qemu-m4")   # generate, or reuse when unchanged
    elf = build_device_firmware(proj)                                  # pio run (skipped when up to date)

protocol="mlperf" builds the same board main with -DTD_PROTOCOL_MLPERF: the MLPerf Tiny "th_" protocol
(lib/tinydeploy/td_mlperf.h) that mlcommons/tiny's runner speaks, with mlperf_model (kws01, vww01, ad01,
ic01) as its profile's model. The model's integer input is then kept outside the arena
(PlanOptions.input_outside_arena): `infer N W` runs N + W inferences on one loaded input.

    proj = device_project("kws.tflite", "qemu-m4", protocol="mlperf", mlperf_model="kws01")

train=TrainFirmware (made by tinydeploy/train's session) builds the training flavour: the model library
holds the generated training step (<p>_train_step, one planned buffer), src/td_glue.c is
sketches/device/td_train_glue.c.in, which also serves the TRAIN / GET_PARAM requests
(lib/tinydeploy/td_train_device.h); compiled with -ffp-contract=off, as the host build of the step.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import __version__
from ..compile import CompiledModel, PlanOptions, compile_graph
from ..errors import TinyDeployError
from ..paths import DEVICE_SKETCH_DIR as SKETCH_DIR
from ..paths import swap_in
from .boards import BoardProfile, load_board

MANIFEST = ".tinydeploy-flash.json"
PROTOCOLS = ("device", "mlperf")
MLPERF_MODELS = ("kws01", "vww01", "ad01", "ic01")  # MLPerf Tiny's benchmarks, as the runner names them
# Per architecture: board main, counter unit (TD_UNIT_*), what the count means.
FAMILIES = {
    "arm": ("qemu_arm_device.c", 1, "instructions (SysTick, -icount shift=0)"),
    "riscv": ("qemu_riscv_device.c", 1, "instructions (rdinstret, exact)"),
    "avr": ("avr_device.c", 0, "cycles (Timer1 clk/1)"),
    "arduino": ("arduino_device.cpp", 2, "microseconds (micros())"),
}


@dataclass
class TrainFirmware:
    """The generated training step as the firmware links it (filled by tinydeploy.train)."""

    model: CompiledModel  # the inference part (saved activations as extra outputs, writable parameters)
    source: str  # <p>.c: the model and <p>_train_step
    train_header: str  # <p>_train.h
    value_bytes: list[int]  # per updated parameter: bytes of its quantized values
    counts: list[int]  # per updated parameter: float32 masters
    input_copy: bool  # the backward reads the model input: the glue keeps a copy of the sample
    build: int  # 32-bit hash of model, update and momentum: TRAIN_INFO reports it

    @property
    def input_bytes(self) -> int:
        g = self.model.graph
        return g.tensors[g.inputs[0]].nbytes


@dataclass
class DeviceProject:
    path: Path
    board: BoardProfile
    model: CompiledModel
    model_path: Path
    manifest: dict = field(default_factory=dict)
    reused: bool = False
    protocol: str = "device"  # PROTOCOLS
    mlperf_model: str | None = None
    train: TrainFirmware | None = None

    @property
    def elf(self) -> Path:
        return self.path / ".pio" / "build" / self.board.id / "firmware.elf"

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST


def glue_source(m: CompiledModel, board: str) -> str:
    """td_model_setup() for model m: fills the td_device descriptor the protocol serves."""
    text = (SKETCH_DIR / "td_model_glue.c.in").read_text()
    name = f"{board} {m.prefix}"[:70].replace('"', "'")
    return text.replace("@UPREFIX@", m.prefix.upper()).replace("@PREFIX@", m.prefix).replace("@NAME@", name)


def train_glue_source(t: TrainFirmware, board: str) -> str:
    """td_model_setup() for the training flavour (sketches/device/td_train_glue.c.in)."""
    m = t.model
    subs = {"@UPREFIX@": m.prefix.upper(), "@PREFIX@": m.prefix, "@NAME@": f"{board} {m.prefix}"[:70].replace('"', "'"),
            "@N_PARAMS@": str(len(t.counts)), "@VALUE_BYTES@": ", ".join(f"{n}u" for n in t.value_bytes),
            "@COUNTS@": ", ".join(f"{n}u" for n in t.counts), "@INPUT_COPY@": "1" if t.input_copy else "0",
            "@INPUT_BYTES@": str(t.input_bytes), "@BUILD@": str(t.build & 0xFFFFFFFF)}
    text = (SKETCH_DIR / "td_train_glue.c.in").read_text()
    for k, v in subs.items():
        text = text.replace(k, v)
    return text


def family_of(b: BoardProfile) -> str:
    """arm / riscv / avr for the emulated boards, arduino for real boards with the Arduino framework."""
    from .boards import arch_of

    if b.kind == "host":
        raise TinyDeployError("the host board needs no firmware project", "use --board host with eval/monitor")
    if b.emulated:
        arch = arch_of(b)
        if arch not in FAMILIES:
            raise TinyDeployError(f"{b.id}: no protocol firmware for the {arch} emulator yet",
                                  "use qemu-m4, qemu-m7, qemu-m55, qemu-rv32 or simavr-mega")
        return arch
    if b.platformio.get("framework") == "arduino":
        return "arduino"
    raise TinyDeployError(f"{b.id}: no protocol firmware for framework {b.platformio.get('framework')!r}",
                          "boards with the Arduino framework are supported")


def _digest_tree(root: Path, h: "hashlib._Hash") -> None:
    for p in sorted(x for x in root.rglob("*") if x.is_file()):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")


def firmware_key(tree: Path, b: BoardProfile, model_sha256: str, kernels: str = "reference") -> dict:
    """What decides the firmware: the generated project itself (model C, runtime, board main, glue,
    platformio.ini with every build flag), the kernel variant and, on emulated boards, the dev-platform
    that builds it. When all of it matches the manifest, the built firmware is reused; any change in
    codegen shows here."""
    from ..paths import PLATFORM_DIR

    h = hashlib.sha256()
    _digest_tree(tree, h)
    if b.emulated:
        _digest_tree(PLATFORM_DIR, h)
    return {"board": b.id, "family": family_of(b), "model_sha256": model_sha256, "tinydeploy": __version__,
            "kernels": kernels, "project_sha256": h.hexdigest()}


def read_manifest(path: Path) -> dict:
    try:
        return json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


# SysTick clock of the QEMU Cortex-M machines (measured: 2,000,000 instructions = 50,000 ticks on
# mps2-an386/an500, 64,000 on mps3-an547).
SYSTICK_HZ = {"mps3-an547": 32_000_000}


def mlperf_flags(mlperf_model: str | None) -> str:
    """The build flags that make a board main speak the MLPerf Tiny protocol ("" for our own)."""
    return f"-DTD_PROTOCOL_MLPERF -DTD_MLPERF_MODEL={mlperf_model}" if mlperf_model else ""


def check_protocol(protocol: str, mlperf_model: str | None) -> str | None:
    """The MLPerf model the firmware names (None for the device protocol); errors for a bad pair."""
    if protocol not in PROTOCOLS:
        raise TinyDeployError(f"unknown protocol {protocol!r}", f"use one of: {', '.join(PROTOCOLS)}")
    if protocol == "device":
        if mlperf_model:
            raise TinyDeployError("--mlperf-model needs --protocol mlperf",
                                  "add --protocol mlperf, or drop --mlperf-model")
        return None
    if mlperf_model not in MLPERF_MODELS:
        got = f"got {mlperf_model!r}" if mlperf_model else "none given"
        raise TinyDeployError(f"the MLPerf Tiny firmware needs the benchmark the model runs: --mlperf-model ({got})",
                              f"add --mlperf-model with one of: {', '.join(MLPERF_MODELS)}")
    return mlperf_model


def _build_flags(m: CompiledModel, b: BoardProfile, fam: str, mlperf_model: str | None = None,
                 train: bool = False) -> str:
    unit = FAMILIES[fam][1]
    # training: the step's source defines <P>_NO_STATIC_ARENA itself; the glue holds the one buffer
    arena = f"-D{m.prefix.upper()}_TRAIN_NO_STATIC_BUFFER -ffp-contract=off" if train else \
        f"-D{m.prefix.upper()}_NO_STATIC_ARENA"
    flags = (f"-DTD_BAUD={b.baud} {arena} -DTD_BOARD_COUNTER_UNIT={unit} "
             f"-DTD_BOARD_CLOCK_HZ={b.clock_hz}UL")
    if fam == "arm" and b.emulator:
        flags += f" -DTD_SYSTICK_HZ={SYSTICK_HZ.get(b.emulator.machine, 25_000_000)}u"
    if mlperf_model:
        flags += " " + mlperf_flags(mlperf_model)
    return flags


def platformio_ini_text(m: CompiledModel, b: BoardProfile, fam: str, mlperf_model: str | None = None,
                        train: bool = False) -> str:
    """The project generator's platformio.ini, with the protocol firmware's build flags."""
    from .platformio import platformio_ini

    what = f"MLPerf Tiny ({mlperf_model}) protocol firmware" if mlperf_model else \
        "device protocol firmware with the training step" if train else "device protocol firmware"
    lines = []
    for line in platformio_ini([b], f"Model {m.source_name} for {b.name}, {what}.").splitlines():
        if line.startswith("build_flags ="):
            line = f"build_flags = {_build_flags(m, b, fam, mlperf_model, train)}"
        elif line.startswith(("test_framework", "test_build_src")):
            continue  # no `pio test` for the protocol firmware: eval drives it
        lines.append(line)
    if b.emulated and b.emulator and b.emulator.kind == "qemu":
        # `pio run -t upload` runs QEMU; its UART0 becomes a pty (one flag per line, or QEMU gets one argument)
        lines += ["upload_flags =", "    -serial", "    pty"]
    return "\n".join(lines) + "\n"


def write_device_tree(tmp: Path, m: CompiledModel, b: BoardProfile, fam: str, mlperf_model: str | None = None,
                      train: TrainFirmware | None = None) -> None:
    """Everything of a protocol firmware project into the (temporary) folder tmp."""
    from .platformio import MARKER, write_model_library, write_runtime_library

    src = tmp / "src"
    src.mkdir(parents=True)
    (src / "td_glue.c").write_text(train_glue_source(train, b.id) if train else glue_source(m, b.id))
    shutil.copy2(SKETCH_DIR / "td_board.h", src / "td_board.h")
    shutil.copy2(SKETCH_DIR / FAMILIES[fam][0], src / FAMILIES[fam][0])
    write_runtime_library(tmp / "lib" / "tinydeploy")
    lib = write_model_library(m, tmp / "lib" / m.prefix)
    if train:
        (lib / "src" / f"{m.prefix}.c").write_text(train.source)
        (lib / "src" / f"{m.prefix}_train.h").write_text(train.train_header)
    (tmp / "platformio.ini").write_text(platformio_ini_text(m, b, fam, mlperf_model, train is not None))
    kind = "mlperf" if mlperf_model else "train" if train else "protocol"
    (tmp / MARKER).write_text(json.dumps({"board": b.id, "model": m.source_name, "prefix": m.prefix,
                                          "tinydeploy": __version__, "firmware": kind}) + "\n")


def _update_in_place(tmp: Path, out: Path) -> None:
    """Swap each generated item (src/, lib/, platformio.ini, marker) of an existing project for the new one."""
    (out / MANIFEST).unlink(missing_ok=True)  # the project is incomplete until the new manifest is written
    for item in sorted(tmp.iterdir()):
        target = out / item.name
        swap_in(item, target)


def default_project_dir(model_path: Path, b: BoardProfile, protocol: str = "device", train: bool = False) -> Path:
    """build/device/<model>-<board> (MLPerf: <model>-<board>-mlperf, training: -train) next to the current
    directory."""
    suffix = "-mlperf" if protocol == "mlperf" else "-train" if train else ""
    return Path("build") / "device" / f"{model_path.stem}-{b.id}{suffix}"


def protocol_options(options: PlanOptions, mlperf_model: str | None) -> PlanOptions:
    """MLPerf firmware keeps the integer input outside the arena: `infer N W` reuses one loaded input."""
    return replace(options, input_outside_arena=True) if mlperf_model else options


def device_project(model_path: str | Path, board: str | BoardProfile, out_dir: str | Path | None = None,
                   options: PlanOptions | None = None, name: str | None = None, fit_check: bool = True,
                   dry_run: bool = False, compiled: CompiledModel | None = None, protocol: str = "device",
                   mlperf_model: str | None = None, train: TrainFirmware | None = None) -> DeviceProject:
    """Generate the protocol firmware project, or reuse the existing one when its manifest matches.
    `options` None: the board's defaults (its kernel variant); `compiled` brings its own options.
    protocol "mlperf" with mlperf_model (MLPERF_MODELS): the MLPerf Tiny firmware (see the module doc).
    train: the training flavour (its model is train.model; its RAM is checked by tinydeploy.train)."""
    from ..compile import load_model
    from .fit import check_fit
    from .platformio import check_output_dir
    from .variants import board_options

    b = load_board(board)
    mlperf_model = check_protocol(protocol, mlperf_model)
    model_path = Path(model_path)
    if not model_path.is_file():
        raise TinyDeployError(f"model {model_path} not found", "give the path of a .tflite file")
    if train is not None:
        if mlperf_model:
            raise TinyDeployError("the training firmware speaks the device protocol", "drop --protocol mlperf")
        compiled, fit_check = train.model, False
    out = Path(out_dir) if out_dir else default_project_dir(model_path, b, protocol, train is not None)
    options = protocol_options(compiled.options if compiled else options or board_options(b), mlperf_model)
    if compiled and compiled.options != options:
        compiled = None  # compiled with the input in the arena: compile again with it outside
    fam = family_of(b)
    g = compiled.graph if compiled else load_model(model_path)
    m = compiled or compile_graph(g, prefix=name, options=options, source_name=model_path.name)
    if not dry_run:
        check_output_dir(out)
    if fit_check and not dry_run:
        check_fit(m, b).raise_if_too_big()
    if not dry_run:
        out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=None if dry_run else out.parent))
    try:
        write_device_tree(tmp, m, b, fam, mlperf_model, train)
        key = firmware_key(tmp, b, g.sha256, m.options.kernels)
        if mlperf_model:
            key["protocol"] = f"mlperf {mlperf_model}"
        if train is not None:
            key["train"] = train.build
        old = read_manifest(out)
        if old.get("key") == key:
            return DeviceProject(out, b, m, model_path, old, reused=True, protocol=protocol, mlperf_model=mlperf_model,
                                 train=train)
        if dry_run:
            return DeviceProject(out, b, m, model_path, {"key": key}, protocol=protocol, mlperf_model=mlperf_model,
                                 train=train)
        manifest = {"key": key, "model_path": str(model_path.resolve()), "sha256": g.sha256,
                    "plan": options.describe(), "arena_bytes": m.arena_bytes, "unit": FAMILIES[fam][2],
                    "elf_sha256": None}
        if out.exists() and any(out.iterdir()):
            _update_in_place(tmp, out)  # keeps the folder (a shell may be in it) and .pio (incremental build)
        else:
            if out.exists():
                out.rmdir()
            os.replace(tmp, out)
        write_json_atomic(out / MANIFEST, manifest)  # last: a project without it is regenerated
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return DeviceProject(out, b, m, model_path, manifest, protocol=protocol, mlperf_model=mlperf_model, train=train)


def elf_sha256(p: Path) -> str | None:
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def firmware_up_to_date(proj: DeviceProject) -> bool:
    sha = proj.manifest.get("elf_sha256")
    return bool(sha) and elf_sha256(proj.elf) == sha


def build_device_firmware(proj: DeviceProject, timeout: int = 300) -> Path:
    """`pio run` in the project (emulated boards), unless the manifest says the firmware is current."""
    from .build import Project, pio_build
    from .fit import check_fit

    if firmware_up_to_date(proj):
        proj.reused = True
        return proj.elf
    proj.reused = False
    pio_build(Project(proj.path, proj.board, proj.model, proj.model_path, [], None, check_fit(proj.model, proj.board)),
              timeout=timeout)
    proj.manifest["elf_sha256"] = elf_sha256(proj.elf)
    write_json_atomic(proj.manifest_path, proj.manifest)
    return proj.elf


def ensure_firmware(model_path: str | Path, board: str | BoardProfile, out_dir: str | Path | None = None,
                    options: PlanOptions | None = None, compiled: CompiledModel | None = None,
                    protocol: str = "device", mlperf_model: str | None = None,
                    train: TrainFirmware | None = None) -> DeviceProject:
    """device_project + build_device_firmware under a lock on the project folder (parallel evals/tests)."""
    import fcntl

    b = load_board(board)
    out = (Path(out_dir) if out_dir else default_project_dir(Path(model_path), b, protocol,
                                                              train is not None)).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proj = device_project(model_path, b, out, options=options, compiled=compiled, protocol=protocol,
                              mlperf_model=mlperf_model, train=train)
        build_device_firmware(proj)
    return proj
