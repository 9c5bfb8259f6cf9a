"""Arduino library ZIPs for a model (`tinydeploy export-arduino`), as the IDE's "Add .ZIP Library" wants them.

    lib = export_arduino("hello_world_int8.tflite", "hello.zip", board="uno")   # -> ArduinoLibrary
    # writes hello.zip (the model library) and TinyDeploy.zip (the runtime library, arduino_runtime.py)

Model ZIP layout (one top folder, the library name: CamelCase of the model prefix, e.g. HelloWorldInt8):

    <Lib>/library.properties (depends=TinyDeploy), keywords.txt
    <Lib>/src/<prefix>.h     the model's header; it checks the installed runtime's TD_RUNTIME_ID (#error)
    <Lib>/src/<prefix>.c     <prefix>.c's static arena has the protocol's canary bytes after it, so the Serial
                             example serves the model's own arena (an Arduino ZIP cannot define
                             <PREFIX>_NO_STATIC_ARENA)
    <Lib>/src/<prefix>_device_glue.c   the device protocol glue: <prefix>_device_setup()
    <Lib>/examples/<Lib>Check/<Lib>Check.ino + check_data.h    sample inputs and LiteRT reference outputs
    <Lib>/examples/<Lib>Serial/<Lib>Serial.ino                 the tinydeploy device protocol on Serial
    <Lib>/examples/<Lib>MLPerf/<Lib>MLPerf.ino                 with mlperf_model: MLPerf Tiny's th_ protocol
                                                               (the input outside the arena; Serial's fit)

The runtime (kernels, td_device.c, td_board.h) is the TinyDeploy library, so several model libraries
can go into one sketch: every symbol of a model library carries its prefix.

The fit check is fit.py's check_fit, the one fit model of every command (arduino_fit). An example that
does not fit is left out (ArduinoLibrary.skipped says why) as long as the library itself fits.
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..compile import CompiledModel, PlanOptions, compile_graph, load_model
from ..errors import TinyDeployError
from ..paths import SKETCH_DIR
from .arduino_runtime import RUNTIME_LIB, RUNTIME_ZIP, VERSION_HEADER, runtime_id, runtime_library_files, version_check
from .boards import BoardProfile, list_boards, load_board
from .firmware import load_samples
from .fit import CANARY_BYTES, FitReport, check_fit
from .protocol_firmware import check_protocol, glue_source, protocol_options

try:  # lower bounds from the graph alone (newer fit.py)
    from .fit import check_fit_graph
except ImportError:  # pragma: no cover
    check_fit_graph = None

TEMPLATES = SKETCH_DIR / "arduino"
GLUE_SUFFIX = "_device_glue.c"     # src/<prefix>_device_glue.c
ZIP_TIME = (2020, 1, 1, 0, 0, 0)      # fixed timestamps: the same model gives the same ZIP
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# File names of the Arduino AVR core (cores/arduino): a model file with one of these names would shadow
# or clash with it. The installed core's files are added when it is there.
CORE_FILES = ("Arduino", "CDC", "Client", "HardwareSerial", "HardwareSerial0", "HardwareSerial1",
              "HardwareSerial2", "HardwareSerial3", "HardwareSerial_private", "IPAddress", "PluggableUSB",
              "Print", "Printable", "Server", "Stream", "Tone", "USBAPI", "USBCore", "USBDesc", "Udp",
              "WCharacter", "WInterrupts", "WMath", "WString", "abi", "binary", "hooks", "main", "new",
              "wiring", "wiring_analog", "wiring_digital", "wiring_private", "wiring_pulse", "wiring_shift",
              "pins_arduino", "avr", "util", "stdint", "stdlib", "string", "math", "stdio")
CORE_DIR = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino")

EXAMPLES = ("check", "serial")


@dataclass
class ArduinoLibrary:
    """One exported library: its files (ZIP paths -> bytes) and what went into them."""
    name: str
    model: CompiledModel
    board: BoardProfile
    inputs: list[np.ndarray]
    expected: list[np.ndarray]
    fit: dict[str, FitReport]
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    path: Path | None = None
    runtime_path: Path | None = None                          # TinyDeploy.zip, written beside `path`
    runtime_files: dict[str, bytes] = field(default_factory=dict, repr=False)
    replaced_runtime: str | None = None     # the TinyDeploy.zip it overwrote held other sources (their id)
    skipped: dict[str, str] = field(default_factory=dict)   # example ("check"/"serial") -> why left out
    mlperf_model: str | None = None    # the MLPerf example's benchmark (kws01, ...), None: no such example

    @property
    def examples(self) -> list[str]:
        mlperf = [f"{self.name}MLPerf"] if self.mlperf_model and "serial" not in self.skipped else []
        return [f"{self.name}{e.capitalize()}" for e in EXAMPLES if e not in self.skipped] + mlperf


def library_name(prefix: str) -> str:
    """hello_world_int8 -> HelloWorldInt8 (the library folder and the examples' stem)."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", prefix) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Model"


def runtime_files() -> list[Path]:
    """The runtime files of the ZIP's src/ (flat): lib/tinydeploy/ and its variant folders (arm/)."""
    from .platformio import runtime_files as files

    return files()


def check_prefix(prefix: str) -> None:
    """The model prefix names src/<prefix>.c/.h: refuse one that is no C identifier or clashes."""
    if not _IDENT_RE.match(prefix):
        raise TinyDeployError(f"model name {prefix!r} is not a C identifier",
                              "pass --name with letters, digits and '_' (not starting with a digit)")
    taken = {p.stem.lower(): f"runtime file {p.name}" for p in runtime_files()}
    taken.update({Path(n).stem.lower(): f"runtime file {n}" for n in ("td_board.h", VERSION_HEADER)})
    core = set(CORE_FILES) | ({p.stem for p in CORE_DIR.iterdir()} if CORE_DIR.is_dir() else set())
    taken.update({c.lower(): f"Arduino core file {c}" for c in core})
    if prefix.lower() in taken:
        raise TinyDeployError(f"model name {prefix!r} clashes with the {taken[prefix.lower()]} in the library",
                              f"pass --name with another name, e.g. --name {prefix}_model")
    if library_name(prefix).lower() == RUNTIME_LIB.lower():
        raise TinyDeployError(f"model name {prefix!r} gives the library name {RUNTIME_LIB}, the runtime library's",
                              f"pass --name with another name, e.g. --name {prefix}_model")


def library_properties(m: CompiledModel, lib: str) -> str:
    g = m.graph
    return "\n".join([
        "# Arduino library generated by tinydeploy " + __version__ + " from " + m.source_name + ".",
        "# url is a placeholder: point it at your repository before publishing the library.",
        f"name={lib}",
        "version=1.0.0",
        "author=tinydeploy",
        "maintainer=tinydeploy",
        f"sentence={m.source_name} compiled to plain C by tinydeploy: int8 inference, bit-exact with LiteRT.",
        f"paragraph={len(g.ops)} ops, {m.weights_bytes} B of weights, {m.arena_bytes} B arena. Call "
        f"{m.prefix}_invoke() after filling {m.prefix}_input0(). Examples: {lib}Check (self-check against "
        f"reference outputs) and {lib}Serial (tinydeploy device protocol). Needs the {RUNTIME_LIB} library "
        f"({RUNTIME_ZIP}, written with this ZIP).",
        "category=Data Processing",
        "url=https://example.com/your-repository",
        "architectures=*",
        f"includes={m.prefix}.h",
        f"depends={RUNTIME_LIB}",
    ]) + "\n"


def keywords_txt(m: CompiledModel, lib: str) -> str:
    p, up = m.prefix, m.prefix.upper()
    funcs = [f"{p}_{f}" for f in ("invoke", "reset", "set_arena", "quantize_input", "dequantize_output",
                                  "device_setup")]
    funcs += [f"{p}_input{i}" for i in range(len(m.graph.inputs))]
    funcs += [f"{p}_output{i}" for i in range(len(m.graph.outputs))]
    consts = [f"{up}_{c}" for c in ("ARENA_BYTES", "NUM_INPUTS", "NUM_OUTPUTS", "MODEL_SHA256")]
    lines = ["# Syntax colouring for the Arduino IDE (generated by tinydeploy)", f"{lib}\tKEYWORD1"]
    lines += [f"{f}\tKEYWORD2" for f in funcs] + [f"{c}\tLITERAL1" for c in consts]
    return "\n".join(lines) + "\n"


def _rows(arrays: list[np.ndarray]) -> np.ndarray:
    """Per sample, all tensors' bytes in order (inputs: input 0 then 1...; outputs likewise)."""
    n = arrays[0].shape[0]
    return np.concatenate([np.ascontiguousarray(a).reshape(n, -1).view(np.uint8) for a in arrays], axis=1)


def _c_rows(name: str, rows: np.ndarray) -> list[str]:
    out = [f"static const uint8_t {name}[CHECK_NUM_SAMPLES][{max(rows.shape[1], 1)}] CHECK_PROGMEM = {{"]
    for r in rows:
        vals = [f"0x{int(v):02x}" for v in r] or ["0"]
        body = ",\n    ".join(", ".join(vals[i:i + 16]) for i in range(0, len(vals), 16))
        out.append(f"  {{{body}}},")
    return out + ["};"]


def check_data_header(m: CompiledModel, inputs: list[np.ndarray], expected: list[np.ndarray]) -> str:
    """examples/<Lib>Check/check_data.h: samples and reference outputs as PROGMEM byte arrays."""
    ins, outs = _rows(inputs), _rows(expected)
    lines = [f"/* check_data.h: generated by tinydeploy from {m.source_name}: {ins.shape[0]} sample inputs",
             " * and their reference outputs (LiteRT BUILTIN_REF), the bytes of every tensor in order. */",
             "#ifndef CHECK_DATA_H", "#define CHECK_DATA_H", "", "#include <stdint.h>",
             "#if defined(__AVR__)", "#include <avr/pgmspace.h>", "#define CHECK_PROGMEM PROGMEM", "#else",
             "#define CHECK_PROGMEM", "#endif", "",
             f"#define CHECK_NUM_SAMPLES {ins.shape[0]}u", f"#define CHECK_INPUT_BYTES {ins.shape[1]}u",
             f"#define CHECK_OUTPUT_BYTES {outs.shape[1]}u", ""]
    lines += _c_rows("check_inputs", ins) + [""] + _c_rows("check_expected", outs)
    return "\n".join(lines + ["", "#endif", ""])


def _sketch(template: str, m: CompiledModel, lib: str) -> str:
    text = (TEMPLATES / template).read_text()
    for k, v in {"@PREFIX@": m.prefix, "@UPREFIX@": m.prefix.upper(), "@LIB@": lib,
                 "@MODEL@": m.source_name, "@VERSION@": __version__}.items():
        text = text.replace(k, v)
    return text


def glue_file(m: CompiledModel, b: BoardProfile) -> str:
    """src/<prefix>_device_glue.c: the device glue as <prefix>_device_setup() (one per model library, so
    two libraries link together); the Serial sketch's counter is micros()."""
    setup = f"{m.prefix}_device_setup"
    return (f"/* {m.prefix}{GLUE_SUFFIX}: generated by tinydeploy; used by the Serial example ({setup}()).\n"
            " * The sketch provides td_board_write (Serial), td_board_counter (micros()) and the stack bounds. */\n"
            "#define TD_BOARD_COUNTER_UNIT 2 /* TD_UNIT_MICROSECONDS */\n"
            "#ifdef F_CPU\n#define TD_BOARD_CLOCK_HZ ((uint32_t)(F_CPU))\n#endif\n"
            + glue_source(m, b.id).replace("td_model_setup", setup))


def model_header(m: CompiledModel, lib: str) -> str:
    """src/<prefix>.h: the model's header with the runtime version check in place of its tinydeploy.h
    include (TinyDeployRuntime.h includes it): without TinyDeploy the compiler stops on that line."""
    include = '#include "tinydeploy.h"\n'
    if include not in m.header:
        raise TinyDeployError(f"the generated header of {m.prefix} does not include tinydeploy.h",
                              "report this: export-arduino needs it to check the runtime version")
    return m.header.replace(include, version_check(m.prefix, lib), 1)


def model_source(m: CompiledModel, shared_arena: bool = False) -> str:
    """src/<prefix>.c: the model with its static arena replaced by one that has CANARY_BYTES spare after
    it, so <prefix>_device_glue.c serves the model's own arena (an Arduino ZIP cannot pass
    -D<PREFIX>_NO_STATIC_ARENA). Uses only the documented contract: with <PREFIX>_NO_STATIC_ARENA the
    model declares `uint8_t *<prefix>_arena;`, defined here with the storage. shared_arena: the storage is
    the common symbol td_shared_arena, which the linker merges across model libraries (the largest wins)."""
    p, up = m.prefix, m.prefix.upper()
    head = (f"/* export-arduino: {up}_NO_STATIC_ARENA plus the storage at the end of this file: the static\n"
            f" * arena with {CANARY_BYTES} spare bytes for the device protocol's canary (the device glue). */\n"
            f"#define {up}_NO_STATIC_ARENA\n")
    size = f"{up}_ARENA_BYTES + {CANARY_BYTES}"
    if shared_arena:
        tail = ("\n/* export-arduino --shared-arena: one arena for every model library exported with --shared-arena\n"
                " * in a sketch (GCC common storage: the linker keeps one td_shared_arena, the largest). Invoking\n"
                " * one model overwrites the others' inputs and outputs: run them one after another. */\n"
                "#if !defined(__GNUC__)\n#error \"--shared-arena needs GCC (common storage)\"\n#endif\n"
                f"uint8_t td_shared_arena[{size}] __attribute__((common)) TD_ALIGN(16);\n"
                f"uint8_t *{p}_arena = td_shared_arena;\n")
    else:
        tail = (f"\n/* export-arduino: the model's static arena, then the device protocol's canary bytes. */\n"
                f"static uint8_t {p}_arena_storage[{size}] TD_ALIGN(16);\n"
                f"uint8_t *{p}_arena = {p}_arena_storage;\n")
    return head + m.source + tail


def library_files(m: CompiledModel, b: BoardProfile, inputs: list[np.ndarray], expected: list[np.ndarray],
                  examples: tuple[str, ...] = EXAMPLES, shared_arena: bool = False,
                  mlperf_model: str | None = None) -> dict[str, bytes]:
    """Every file of the library, keyed by its path inside the ZIP (with the given examples; the MLPerf one
    with mlperf_model, where the Serial one fits)."""
    lib = library_name(m.prefix)
    files = {f"{lib}/library.properties": library_properties(m, lib), f"{lib}/keywords.txt": keywords_txt(m, lib),
             f"{lib}/src/{m.prefix}.h": model_header(m, lib),
             f"{lib}/src/{m.prefix}.c": model_source(m, shared_arena),
             f"{lib}/src/{m.prefix}{GLUE_SUFFIX}": glue_file(m, b)}
    ex = f"{lib}/examples"
    if "check" in examples:
        files[f"{ex}/{lib}Check/{lib}Check.ino"] = _sketch("Check.ino.in", m, lib)
        files[f"{ex}/{lib}Check/check_data.h"] = check_data_header(m, inputs, expected)
    if "serial" in examples:
        files[f"{ex}/{lib}Serial/{lib}Serial.ino"] = _sketch("Serial.ino.in", m, lib)
        if mlperf_model:
            files[f"{ex}/{lib}MLPerf/{lib}MLPerf.ino"] = _sketch("MLPerf.ino.in", m, lib).replace("@MLPERF@",
                                                                                                mlperf_model)
    return {k: v.encode() for k, v in files.items()}


def arduino_fit(m: CompiledModel, board: str | BoardProfile, n_samples: int) -> dict[str, FitReport]:
    """The one fit model (fit.check_fit) for the library and each example sketch:
    {"library": FitReport, "check": FitReport, "serial": FitReport}; the library's is every command's verdict."""
    b = load_board(board)
    return {"library": check_fit(m, b), "check": check_fit(m, b, "check", n_samples), "serial": check_fit(m, b, "serial")}


def _over(report: FitReport) -> str:
    b = report.board
    over = ([f"flash needs {report.flash_needed:,} B of {b.flash_budget:,} B"] if not report.fits_flash else []) + \
        ([f"RAM needs {report.ram_needed:,} B of {b.ram_budget:,} B"] if not report.fits_ram else [])
    return "; ".join(over)


def build_library(model_path: str | Path, board: str | BoardProfile = "mega2560", samples=None, count: int = 3,
                  seed: int = 0, name: str | None = None, options: PlanOptions | None = None,
                  fit_check: bool = True, shared_arena: bool = False,
                  mlperf_model: str | None = None) -> ArduinoLibrary:
    """Compile the model, check it fits the board, embed samples + LiteRT outputs; nothing written yet.
    shared_arena: the arena is td_shared_arena, shared with the other model libraries exported so.
    mlperf_model (kws01, vww01, ad01, ic01): also the <Lib>MLPerf example; the input goes outside the arena."""
    b = load_board(board)
    if mlperf_model:
        check_protocol("mlperf", mlperf_model)
    if b.platformio.get("framework") != "arduino":
        arduino = [x.id for x in list_boards() if x.platformio.get("framework") == "arduino"]
        raise TinyDeployError(f"board {b.id} has no Arduino core", f"pick one of: {', '.join(arduino)}")
    if count < 1:
        raise TinyDeployError(f"--count must be at least 1 (got {count})")
    model_path = Path(model_path)
    if not model_path.is_file():
        raise TinyDeployError(f"model not found: {model_path}", "check the path")
    g = load_model(model_path)
    if shared_arena and any(t.is_variable for t in g.tensors):
        raise TinyDeployError(f"{model_path.name} keeps state between invokes (LSTM/SVDF) in its arena: another "
                              "model would overwrite it in a shared arena", "export it without --shared-arena")
    if name is not None:
        check_prefix(name)
    if fit_check and check_fit_graph is not None:   # far too big: say so before compiling anything
        check_fit_graph(g, b, model_path.name, options).raise_if_too_big()
    from .variants import board_options

    options = protocol_options(options or board_options(b), mlperf_model)
    m = compile_graph(g, prefix=name, options=options, source_name=model_path.name)
    check_prefix(m.prefix)
    inputs = [x[:count] for x in load_samples(g, samples, n=count, seed=seed)]
    n = inputs[0].shape[0] if inputs else 0
    if n == 0:
        raise TinyDeployError("the sample file holds no samples")
    fit = arduino_fit(m, b, n)
    skipped = {}
    if fit_check:
        fit["library"].raise_if_too_big()
        skipped = {e: _over(fit[e]) for e in EXAMPLES if not fit[e].fits}
    from ..evaluate import reference_outputs

    expected = reference_outputs(model_path, inputs)
    lib = ArduinoLibrary(library_name(m.prefix), m, b, inputs, expected, fit, skipped=skipped,
                         mlperf_model=mlperf_model)
    lib.files = library_files(m, b, inputs, expected, tuple(e for e in EXAMPLES if e not in skipped), shared_arena,
                              mlperf_model)
    lib.runtime_files = runtime_library_files()
    return lib


def _zip_to(files: dict[str, bytes], tmp: str) -> None:
    dirs = sorted({str(Path(p).parent) + "/" for p in files} | {p.split("/")[0] + "/" for p in files})
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for d in dirs:
            z.writestr(zipfile.ZipInfo(d, ZIP_TIME), b"")
        for p in sorted(files):
            info = zipfile.ZipInfo(p, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[p])


def write_zips(zips: dict[Path, dict[str, bytes]]) -> list[Path]:
    """Write every ZIP (out path -> files) to a temp file beside it, then rename them all: an error leaves
    no ZIP half-written and no temp file. Directories get entries too."""
    tmps: dict[Path, str] = {}
    try:
        for out, files in zips.items():
            out.parent.mkdir(parents=True, exist_ok=True)
            fd, tmps[out] = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
            os.close(fd)
            _zip_to(files, tmps[out])
        for out, tmp in tmps.items():
            os.replace(tmp, out)
    except BaseException:
        for tmp in tmps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    return list(zips)


def write_zip(files: dict[str, bytes], out: Path) -> Path:
    """Write one ZIP atomically (temp file in the same folder, then rename)."""
    return write_zips({out: files})[0]


def export_arduino(model_path: str | Path, out: str | Path, post=None, **kwargs) -> ArduinoLibrary:
    """build_library (see its arguments) + the model library's ZIP at `out` (must end in .zip; never a
    folder) + the runtime library's TinyDeploy.zip beside it (the same bytes for every model).
    post(lib): changes lib.files before they are written (export-arduino --train: tinydeploy/train/arduino.py)."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise TinyDeployError(f"output {out} must be a .zip file", "e.g. -o model.zip")
    if out.is_dir():
        raise TinyDeployError(f"output {out} is a folder", "pass a file name ending in .zip")
    runtime = out.parent / RUNTIME_ZIP
    if out.name.lower() == RUNTIME_ZIP.lower():
        raise TinyDeployError(f"output {out} is the name of the runtime library's ZIP, written beside the model's",
                              "pick another name, e.g. -o model.zip")
    if runtime.is_dir():
        raise TinyDeployError(f"{runtime} is a folder: the runtime library's ZIP goes there",
                              "move it away or write the model's ZIP to another folder")
    lib = build_library(model_path, **kwargs)
    if post is not None:
        post(lib)
    old = _runtime_id_of(runtime)
    if old and old != runtime_id():
        lib.replaced_runtime = old
    lib.path, lib.runtime_path = write_zips({out: lib.files, runtime: lib.runtime_files})
    return lib


def _runtime_id_of(zip_path: Path) -> str | None:
    """TD_RUNTIME_ID of an existing TinyDeploy.zip ("unreadable" when it is no such ZIP), None if absent."""
    if not zip_path.exists():
        return None
    try:
        with zipfile.ZipFile(zip_path) as z:
            text = z.read(f"{RUNTIME_LIB}/src/{VERSION_HEADER}").decode()
        return re.search(r"#define TD_RUNTIME_ID 0x([0-9a-f]+)UL", text)[1]
    except (OSError, KeyError, TypeError, zipfile.BadZipFile, UnicodeDecodeError):
        return "unreadable"
