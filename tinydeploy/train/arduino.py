"""Training in the Arduino library (`tinydeploy export-arduino MODEL --train SPEC`): the model library carries
the generated training step instead of the inference-only model, and the example <Lib>Train.

    r = export_arduino_train("m.tflite", "m.zip", "bias:all,fc:last", board="nano33ble", data=(xs, ys), epochs=3)
    r.lib.path, r.ram_items, r.examples

Files that differ from the inference library (target/arduino.py):

    <Lib>/src/<p>.c              the training step's C (train/codegen.py): the inference path with the saved
                                 activations as extra outputs, writable updated parameters, <p>_train_step();
                                 the one training buffer + the protocol canary as static storage
    <Lib>/src/<p>_train.h        the step's API, plus <p>_train_begin() and <p>_train_epoch()
    <Lib>/src/<p>_train_glue.c   the device protocol with the training requests (TRAIN_INFO, TRAIN, GET_PARAM:
                                 sketches/device/td_train_glue.c.in) as <p>_train_device_setup(),
                                 <p>_train_epoch(): one SGD step per embedded sample, and
                                 <p>_train_save()/<p>_train_load(): the tuned parameters to the board's store
                                 (lib/tinydeploy/td_train_store.h; the sketch's EEPROM hooks) and back
    <Lib>/examples/<Lib>Train/   <Lib>Train.ino (sketches/arduino/Train.ino.in) + train_data.h (the labelled
                                 samples, epochs, lr)

The Check and Serial examples are left out: the library's model has extra outputs (the saved activations),
and <Lib>Train serves the device protocol (inference and training) itself. The fit check is budget.py's,
the one `tinydeploy train` uses (AVR refused: frozen weights stay in flash).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import TinyDeployError
from ..paths import SKETCH_DIR
from ..target import export_arduino, load_board, model_header, train_glue_source
from .budget import check_train_fit
from .session import TrainBuild, _check_data, prepare_training

CANARY_BYTES = 16  # TD_CANARY_BYTES (td_device.h)


@dataclass
class ArduinoTrain:
    """An exported training library: the ZIPs (lib.path, lib.runtime_path) and what went into them."""
    lib: object  # target.arduino.ArduinoLibrary
    build: TrainBuild
    ram_items: list[tuple[str, int]]
    samples: int
    epochs: int
    lr: float

    @property
    def examples(self) -> list[str]:
        return [f"{self.lib.name}Train"]

    @property
    def ram_bytes(self) -> int:
        return sum(n for _, n in self.ram_items)


def train_source(tb: TrainBuild) -> str:
    """src/<p>.c: the training step with static storage for the one buffer and the protocol's canary (an
    Arduino ZIP cannot pass -D<P>_TRAIN_NO_STATIC_BUFFER), and <p>_train_begin()."""
    p, P = tb.tc.prefix, tb.tc.prefix.upper()
    head = (f"/* export-arduino --train: the training buffer is the storage at the end of this file (with the\n"
            f" * device protocol's {CANARY_BYTES} canary bytes after it). */\n"
            f"#ifndef {P}_TRAIN_NO_STATIC_BUFFER\n#define {P}_TRAIN_NO_STATIC_BUFFER\n#endif\n")
    tail = (f"\n/* export-arduino --train: the one training buffer (forward arena + gradients), then the canary. */\n"
            f"static uint8_t {p}_train_storage[{P}_TRAIN_BUFFER_BYTES + {CANARY_BYTES}u] TD_ALIGN(16);\n"
            f"uint8_t *{p}_train_arena(void) {{ return {p}_train_storage; }}\n"
            f"void {p}_train_begin(void) {{\n  if (!{p}_arena) {{ {p}_set_arena({p}_train_storage); "
            f"{p}_train_init(); }}\n}}\n")
    return head + tb.tc.source + tail


def train_header(tb: TrainBuild) -> str:
    """src/<p>_train.h: the step's header plus the library's own functions."""
    p = tb.tc.prefix
    anchor = f"int {p}_train_top1(void);\n"
    extra = (f"/** The training buffer ({p.upper()}_TRAIN_BUFFER_BYTES + the protocol's canary), static storage. */\n"
             f"uint8_t *{p}_train_arena(void);\n"
             f"/** Point the arena at the training buffer and set the masters up (once; the setups call it). */\n"
             f"void {p}_train_begin(void);\n"
             "/** One pass over n labelled samples (inputs: n x input bytes, int8), one SGD step each, in order:\n"
             " * the mean loss (each before its step); *hits: the steps whose forward predicted the label. */\n"
             f"float {p}_train_epoch(const int8_t *inputs, const uint16_t *labels, uint32_t n, float lr, "
             "uint32_t *hits);\n"
             "/** The device protocol with the training requests (TRAIN_INFO, TRAIN, GET_PARAM) on this buffer. */\n"
             f"const td_device *{p}_train_device_setup(void);\n"
             "/** The updated parameters (values, masters, momentum) to the board's store and back (td_train_store.h):\n"
             " * TD_STORE_OK (0) or a negative TD_STORE_* code; load changes nothing unless the store holds a\n"
             " * valid record of this model, update spec and momentum. */\n"
             f"int {p}_train_save(void);\nint {p}_train_load(void);\n")
    if anchor not in tb.tc.header:
        raise TinyDeployError(f"the generated training header of {p} has no {p}_train_top1()",
                              "report this: export-arduino --train extends that header")
    return tb.tc.header.replace('#include "td_train.h"\n', '#include "td_train.h"\n#include "td_device.h"\n', 1) \
        .replace(anchor, anchor + extra, 1)


def train_glue(tb: TrainBuild, board: str) -> str:
    """src/<p>_train_glue.c: the firmware's training glue as <p>_train_device_setup() on the library's buffer,
    and <p>_train_epoch()."""
    p = tb.tc.prefix
    text = train_glue_source(tb.firmware, board)
    arena_line = next((ln for ln in text.splitlines() if ln.startswith("static uint8_t td_arena[")), None)
    if arena_line is None or "td_model_setup(void)" not in text:
        raise TinyDeployError("sketches/device/td_train_glue.c.in changed: no td_arena / td_model_setup",
                              "report this: export-arduino --train adapts that glue")
    text = text.replace(arena_line, f"#define td_arena ({p}_train_arena())")
    text = text.replace(f"  {p}_set_arena(td_arena);\n  {p}_train_init();\n", f"  {p}_train_begin();\n")
    text = text.replace("td_model_setup(void)", f"{p}_train_device_setup(void)")
    head = (f"/* {p}_train_glue.c: generated by tinydeploy; used by the {p} Train example. The sketch provides\n"
            " * td_board_write (Serial), td_board_counter (micros()) and the stack bounds (td_board.h). */\n"
            "#ifndef TD_BOARD_COUNTER_UNIT\n#define TD_BOARD_COUNTER_UNIT 2 /* TD_UNIT_MICROSECONDS */\n#endif\n"
            "#if defined(F_CPU) && !defined(TD_BOARD_CLOCK_HZ)\n#define TD_BOARD_CLOCK_HZ ((uint32_t)(F_CPU))\n#endif\n")
    inp = tb.firmware.input_bytes
    epoch = (f"\n\nfloat {p}_train_epoch(const int8_t *inputs, const uint16_t *labels, uint32_t n, float lr, "
             "uint32_t *hits) {\n"
             "  float sum = 0.0f;\n  uint32_t i;\n"
             f"  {p}_train_begin();\n  *hits = 0;\n"
             "  for (i = 0; i < n; i++) {\n"
             f"    sum += {p}_train_step(inputs + (uint32_t)i * {inp}u, (int)labels[i], lr);\n"
             f"    if ({p}_train_top1() == (int)labels[i]) ++*hits;\n"
             "  }\n  return n ? sum / (float)n : 0.0f;\n}\n")
    fw, n = tb.firmware, len(tb.firmware.counts)
    store = (f"\n/* Tuned parameters that survive a reset (td_train_store.h): the board's store hooks. */\n"
             '#include "td_train_store.h"\n'
             f"static td_train_blob {p}_store_blobs[{n}];\n"
             f"static const td_train_blob *{p}_store_params(void) {{\n"
             f"  static const uint32_t value_bytes[{n}] = {{{', '.join(f'{v}u' for v in fw.value_bytes)}}};\n"
             f"  static const uint32_t counts[{n}] = {{{', '.join(f'{v}u' for v in fw.counts)}}};\n"
             f"  int i;\n  {p}_train_begin();\n"
             f"  for (i = 0; i < {n}; i++) {{\n"
             f"    {p}_store_blobs[i].value = {p}_train_value(i);\n"
             f"    {p}_store_blobs[i].value_bytes = value_bytes[i];\n"
             f"    {p}_store_blobs[i].master = {p}_train_master(i);\n"
             f"    {p}_store_blobs[i].velocity = {p}_train_velocity(i);\n"
             f"    {p}_store_blobs[i].count = counts[i];\n  }}\n  return {p}_store_blobs;\n}}\n"
             f"int {p}_train_save(void) {{ return td_train_store_save({p}_store_params(), {n}, "
             f"{fw.build & 0xFFFFFFFF}UL); }}\n"
             f"int {p}_train_load(void) {{ return td_train_store_load({p}_store_params(), {n}, "
             f"{fw.build & 0xFFFFFFFF}UL); }}\n")
    return head + text + epoch + store


def _c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 24) -> str:
    vals = [str(int(v)) for v in values.ravel()] or ["0"]
    body = ",\n  ".join(", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line))
    return f"static const {ctype} {name}[{len(vals)}] = {{\n  {body}}};"


def train_data_header(tb: TrainBuild, xs: np.ndarray | None, ys: np.ndarray | None, epochs: int, lr: float) -> str:
    """examples/<Lib>Train/train_data.h: the labelled samples (int8 inputs in a row, class indices), epochs, lr."""
    n = 0 if ys is None else int(ys.size)
    lines = [f"/* train_data.h: generated by tinydeploy from {tb.model_path.name}: {n} labelled samples for",
             f" * {tb.tc.prefix}_train_epoch() (update {tb.spec}). Replace them with your own (same layout). */",
             "#ifndef TRAIN_DATA_H", "#define TRAIN_DATA_H", "", "#include <stdint.h>", "",
             f"#define TRAIN_NUM_SAMPLES {n}u", f"#define TRAIN_INPUT_BYTES {tb.firmware.input_bytes}u",
             f"#define TRAIN_EPOCHS {epochs}u", f"#define TRAIN_LR {float(np.float32(lr))!r}f", ""]
    lines.append(_c_array("int8_t", "train_inputs", xs if xs is not None else np.zeros(1, np.int8)))
    lines.append(_c_array("uint16_t", "train_labels", ys if ys is not None else np.zeros(1, np.int64)))
    return "\n".join(lines + ["", "#endif", ""])


def train_sketch(lib: str, tb: TrainBuild, board: str) -> str:
    text = (SKETCH_DIR / "arduino" / "Train.ino.in").read_text()
    for k, v in {"@PREFIX@": tb.tc.prefix, "@UPREFIX@": tb.tc.prefix.upper(), "@LIB@": lib,
                 "@MODEL@": tb.model_path.name, "@VERSION@": __version__, "@UPDATE@": tb.spec,
                 "@BOARD@": board}.items():
        text = text.replace(k, v)
    return text


def library_train_files(lib, tb: TrainBuild, xs, ys, epochs: int, lr: float) -> dict[str, bytes]:
    """lib.files (the inference library) turned into the training library (see the module doc)."""
    name, p = lib.name, tb.tc.prefix
    files = {k: v for k, v in lib.files.items() if not k.startswith(f"{name}/examples/")
             and not k.endswith("_device_glue.c")}
    props = files[f"{name}/library.properties"].decode().splitlines()
    props = [f"paragraph=With its training step (update {tb.spec}, {tb.tc.buffer_bytes} B training buffer, "
             f"{tb.tc.state_bytes} B state): {p}_train_step() fine-tunes it on the board. Example {name}Train "
             f"(training on embedded samples, and the device protocol for `tinydeploy train --port`)."
             if ln.startswith("paragraph=") else ln for ln in props]
    new = {f"{name}/library.properties": "\n".join(props) + "\n",
           f"{name}/src/{p}.h": model_header(tb.tc.model, name),
           f"{name}/src/{p}.c": train_source(tb),
           f"{name}/src/{p}_train.h": train_header(tb),
           f"{name}/src/{p}_train_glue.c": train_glue(tb, lib.board.id),
           f"{name}/examples/{name}Train/{name}Train.ino": train_sketch(name, tb, lib.board.id),
           f"{name}/examples/{name}Train/train_data.h": train_data_header(tb, xs, ys, epochs, lr)}
    files.update({k: v.encode() for k, v in new.items()})
    return files


def export_arduino_train(model_path: str | Path, out: str | Path, update: str, board: str = "nano33ble",
                         data: tuple[np.ndarray, np.ndarray] | None = None, epochs: int = 1, lr: float = 0.01,
                         momentum: float = 0.0, **kwargs) -> ArduinoTrain:
    """The Arduino library ZIP with the training step (module doc) and TinyDeploy.zip beside it. data: int8
    samples [N, *input shape] and class indices [N] embedded in the Train example (None: none embedded; the
    example then serves `tinydeploy train --port` only). kwargs: target.export_arduino's (not name)."""
    if kwargs.get("name"):
        raise TinyDeployError("--name does not go with --train yet (the training step keeps the model's name)",
                              "drop --name")
    if epochs < 1 or not np.isfinite(lr) or lr <= 0:
        raise TinyDeployError(f"epochs {epochs}, lr {lr}: need epochs >= 1 and lr > 0", "e.g. --epochs 3 --lr 0.01")
    b = load_board(board)
    tb = prepare_training(model_path, update, momentum)
    items = check_train_fit(tb.tc, tb.firmware, b, Path(model_path).name)
    xs = ys = None
    if data is not None:
        xs, ys = _check_data(tb, data[0], data[1], "training")
        if int(ys.max()) > 0xFFFF:
            raise TinyDeployError("labels above 65535 do not fit train_data.h", "give class indices below 65536")

    def to_training(lib) -> None:
        if lib.model.prefix != tb.tc.prefix:
            raise TinyDeployError(f"the library's prefix {lib.model.prefix} is not the training step's {tb.tc.prefix}",
                                  "report this model")
        lib.files = library_train_files(lib, tb, xs, ys, epochs, lr)

    lib = export_arduino(model_path, out, board=b, post=to_training, **kwargs)
    return ArduinoTrain(lib, tb, items, 0 if ys is None else int(ys.size), epochs, float(lr))
