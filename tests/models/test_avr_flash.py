"""AVR keeps the weights in flash (issue 4): TD_WEIGHTS_MEM = __memx with avr-gcc in GNU C mode.

avr-gcc copies plain `static const` data into SRAM at start-up (8 KB on an ATmega2560). The generated C
declares the weights, biases, requantization multipliers/shifts and lookup tables `TD_WEIGHTS_MEM`
(tinydeploy.h): `__memx` with -std=gnu99/gnu11 (what the Arduino IDE and PlatformIO use), so they stay in
flash (.progmemx.data, linked into .text) and the kernels read them through 24-bit pointers. With -std=c99
TD_WEIGHTS_MEM is empty and they are copied to SRAM as before. Checked on an ATmega2560:

- digits_cnn_int8 / digits_16x8: firmware linked with -std=gnu99 and -std=c99 (-Wall -Wextra -Werror);
  with gnu99 every TD_WEIGHTS_MEM symbol sits in flash, .data + .bss is below the bytes moved to flash and
  shrinks by at least that much against c99; the gnu99 firmware runs in simavr and prints outputs that
  are LiteRT's (BUILTIN_REF) bit for bit.
- the other kernels that read TD_WEIGHTS_MEM data (TRANSPOSE_CONV, SVDF, LSTM, int8 LOGISTIC/TANH tables,
  int16 SOFTMAX tables, int16 LOGISTIC/TANH and their runtime table) in one firmware in simavr, vs LiteRT.
- kws: its weights go to flash too, but its arena alone (~8.3 KB) is more than the 8 KB of SRAM.
"""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS
from tools import require_tool

from tinydeploy.compile.compiler import RUNTIME_DIR, CompiledModel, compile_graph
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite.reader import load_model, parse_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.arduino_build import clean_simavr_log
from tinydeploy.testing.builder import ModelBuilder, options

pytestmark = require_tool("avr-gcc", "avr-size", "avr-nm", "simavr")

AVR_CC = ["avr-gcc", "-mmcu=atmega2560", "-DF_CPU=16000000UL", "-Os", "-Wall", "-Wextra", "-Werror",
          "-ffunction-sections", "-fdata-sections"]
FLASH_SYM_RE = re.compile(r"static const TD_WEIGHTS_MEM (\w+) (\w+)\[(\d+)\]")
SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4, "int64_t": 8}

MAIN_HEAD = r"""/* simavr test firmware: runs each model on samples stored in flash, prints outputs and cycles. */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#include <stdint.h>
#include <util/delay_basic.h>
#include <string.h>
@INCLUDES@
static uint8_t arena[@ARENA@] __attribute__((aligned(16)));
static volatile uint16_t overflows;
ISR(TIMER1_OVF_vect) { ++overflows; }

static uint32_t now(void) { /* Timer1 at clk/1 extended by its overflow count: CPU cycles */
  uint8_t sreg = SREG;
  uint16_t lo, hi;
  cli();
  lo = TCNT1;
  hi = overflows;
  if ((TIFR1 & (1 << TOV1)) && lo < 0x8000u) ++hi;
  SREG = sreg;
  return ((uint32_t)hi << 16) | lo;
}

/* 2 Mbaud (U2X, UBRR 0): a byte takes 80 cycles; wait 120 instead of polling UCSR0A, which makes simavr
 * sleep in real time on every read of the status register. */
static void put(char c) {
  UDR0 = (uint8_t)c;
  _delay_loop_1(40);
}
static void put_str(const char *s) { while (*s) put(*s++); }
static void put_hex(uint8_t v) {
  put((char)((v >> 4) < 10 ? '0' + (v >> 4) : 'a' + (v >> 4) - 10));
  put((char)((v & 15) < 10 ? '0' + (v & 15) : 'a' + (v & 15) - 10));
}
static void put_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put_str(buf + i);
}
static void put_line_head(char tag, uint8_t model, uint8_t sample, uint8_t index) {
  put(tag); put(' '); put_u32(model); put(' '); put_u32(sample); put(' '); put_u32(index); put(' ');
}
"""

MAIN_TAIL = r"""
int main(void) {
  UBRR0 = 0;
  UCSR0A = (1 << U2X0);
  UCSR0B = (1 << TXEN0);
  UCSR0C = (3 << UCSZ00);
  TCCR1A = 0;
  TCCR1B = 1;
  TIMSK1 = (1 << TOIE1);
  sei();
@RUNS@
  put_str("DONE\r\n");
  _delay_loop_2(1000);
  cli();
  sleep_enable();
  sleep_cpu();
  return 0;
}
"""


def _bytes_initializer(rows: np.ndarray) -> str:
    return ",\n".join("  {" + ", ".join(str(b) for b in row.tobytes()) + "}" for row in rows)


def firmware_source(models: list[CompiledModel], samples: list[list[np.ndarray]]) -> str:
    """main.c: every model on its samples (inputs in flash via PROGMEM), one shared arena."""
    decls, runs = [], []
    for k, (m, xs) in enumerate(zip(models, samples)):
        g, p = m.graph, m.prefix
        n = xs[0].shape[0]
        for j, tid in enumerate(g.inputs):
            rows = np.ascontiguousarray(xs[j]).reshape(n, -1)
            decls.append(f"static const uint8_t {p}_in{j}[{n}][{rows.nbytes // n}] PROGMEM = {{\n"
                         f"{_bytes_initializer(rows)}\n}};")
        body = [f"static void run_{k}(void) {{", "  uint8_t s;", "  uint16_t i;", f"  {p}_set_arena(arena);",
                f"  for (s = 0; s < {n}; ++s) {{", "    uint32_t t0, t1;", f"    {p}_reset();"]
        for j, tid in enumerate(g.inputs):
            body.append(f"    memcpy_P({p}_arena + {m.tensor_offsets[tid]}UL, {p}_in{j}[s], "
                        f"{g.tensors[tid].nbytes}u);")
        body += ["    t0 = now();", f"    {p}_invoke();", "    t1 = now();"]
        for j, tid in enumerate(g.outputs):
            body += [f"    put_line_head('O', {k}, s, {j});",
                     f"    for (i = 0; i < {g.tensors[tid].nbytes}u; ++i) "
                     f"put_hex({p}_arena[{m.tensor_offsets[tid]}UL + i]);",
                     '    put_str("\\r\\n");']
        body += [f"    put_line_head('T', {k}, s, 0);", "    put_u32(t1 - t0);", '    put_str("\\r\\n");',
                 "  }", "}"]
        decls.append("\n".join(body))
        runs.append(f"  run_{k}();")
    includes = "\n".join(f'#include "{m.prefix}.h"' for m in models)
    arena = max(max(m.arena_bytes for m in models), 1)
    head = MAIN_HEAD.replace("@INCLUDES@", includes).replace("@ARENA@", str(arena))
    return head + "\n".join(decls) + "\n" + MAIN_TAIL.replace("@RUNS@", "\n".join(runs))


def build_firmware(work: Path, models: list[CompiledModel], samples: list[list[np.ndarray]], std: str,
                   ldflags: tuple[str, ...] = ()) -> Path:
    """Link the runtime, the models (their own arenas off: one shared) and main.c for the ATmega2560
    (avr-ld refuses .data + .bss beyond its 8 KB of SRAM unless ldflags says otherwise)."""
    work.mkdir(parents=True, exist_ok=True)
    srcs = sorted(RUNTIME_DIR.glob("*.c"))
    for m in models:
        (work / f"{m.prefix}.h").write_text(m.header)
        (work / f"{m.prefix}.c").write_text(m.source)
        srcs.append(work / f"{m.prefix}.c")
    (work / "main.c").write_text(firmware_source(models, samples))
    elf = work / f"fw_{std}.elf"
    defines = [f"-D{m.prefix.upper()}_NO_STATIC_ARENA" for m in models]
    r = subprocess.run([*AVR_CC, f"-std={std}", *defines, f"-I{work}", f"-I{RUNTIME_DIR}", *map(str, srcs),
                        str(work / "main.c"), "-Wl,--gc-sections", *ldflags, "-o", str(elf)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-4000:]
    return elf


def section_sizes(elf: Path) -> dict[str, int]:
    out = subprocess.run(["avr-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\.\w+)\s+(\d+)\s+\d+", out, re.M)}


def symbol_addresses(elf: Path) -> dict[str, int]:
    out = subprocess.run(["avr-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    return {m[3]: int(m[1], 16) for m in re.finditer(r"^([0-9a-f]+) (\w) (\w+)$", out, re.M)}


def flash_symbols(models: list[CompiledModel]) -> dict[str, int]:
    """The TD_WEIGHTS_MEM arrays of the generated C: name -> bytes."""
    return {name: SIZES[t] * int(n) for m in models for t, name, n in FLASH_SYM_RE.findall(m.source)}


def run_in_simavr(elf: Path, timeout: float = 120) -> tuple[dict, dict]:
    """Outputs {(model, sample, output): bytes} and cycles {(model, sample): int} the firmware printed."""
    r = subprocess.run(["simavr", "-m", "atmega2560", "-f", "16000000", str(elf)], capture_output=True,
                       text=True, timeout=timeout)
    text = clean_simavr_log(r.stderr)
    assert "DONE" in text.splitlines(), r.stderr[-3000:]
    outs, cycles = {}, {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 5 and f[0] == "O":
            outs[(int(f[1]), int(f[2]), int(f[3]))] = bytes.fromhex(f[4])
        elif len(f) == 5 and f[0] == "T":
            cycles[(int(f[1]), int(f[2]))] = int(f[4])
    return outs, cycles


def assert_bit_exact(models, sources, samples, outs):
    for k, (m, src, xs) in enumerate(zip(models, sources, samples)):
        want = reference_outputs(src, xs)
        for s in range(xs[0].shape[0]):
            for j, w in enumerate(want):
                assert outs.get((k, s, j)) == w[s].tobytes(), f"{m.prefix} sample {s} output {j}"


def digits_samples(g, n: int) -> list[np.ndarray]:
    """n test digits quantized to the model's input type, plus one random input."""
    d = np.load(ROOT / "models" / "digits_test.npz")
    t = g.tensors[g.inputs[0]]
    if t.dtype == "int8":
        x = d["x_int8"][:n]
    else:
        x = np.clip(np.round(d["x_float"][:n] / t.scale) + t.zero_point, -32768, 32767).astype(np.int16)
    x = x.reshape((n, *t.shape))
    return [np.concatenate([x, random_inputs(g, 1, np.random.default_rng(5))[0]])]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_cnn_int8", "digits_16x8"])
def test_digits_weights_in_flash_bit_exact_in_simavr(tmp_path, name):
    path = ROOT / "models" / f"{name}.tflite"
    assert path.is_file(), f"models/{name}.tflite is committed (models/train_digits.py)"
    g = load_model(path)
    m = compile_graph(g)
    xs = digits_samples(g, 4)
    flash = flash_symbols([m])
    moved = sum(flash.values())
    assert moved >= m.weights_bytes > 0              # weights + biases (+ multipliers/shifts, tables)
    elf = build_firmware(tmp_path / "gnu99", [m], [xs], "gnu99")
    # -std=c99: TD_WEIGHTS_MEM is empty, the old placement (digits_16x8 then needs more than 8 KB of SRAM)
    before = build_firmware(tmp_path / "c99", [m], [xs], "c99", ("-Wl,--defsym=__DATA_REGION_LENGTH__=0xffa0",))
    after_s, before_s = section_sizes(elf), section_sizes(before)
    ram_after = after_s.get(".data", 0) + after_s.get(".bss", 0)
    ram_before = before_s.get(".data", 0) + before_s.get(".bss", 0)
    addr = symbol_addresses(elf)
    for sym in flash:
        assert sym in addr and addr[sym] < 0x800000, f"{sym} is not in flash"    # 0x800000+: SRAM
    assert all(symbol_addresses(before)[sym] >= 0x800000 for sym in flash)
    # SRAM shrinks by the bytes moved, less 1 byte per __memx pointer in the params structs (3 bytes, not 2)
    assert ram_after < moved and ram_before - ram_after >= moved - 64, (after_s, before_s, moved)
    print(f"\n{name}: {moved} B in flash (weights {m.weights_bytes} B); .data+.bss {ram_before} -> {ram_after} B, "
          f".text {before_s['.text']} -> {after_s['.text']} B")
    outs, cycles = run_in_simavr(elf)
    assert_bit_exact([m], [path], [xs], outs)
    print(f"{name}: {cycles[(0, 0)]:,} cycles per inference (weights read from flash)")


def _act_model(kind: str, dtype: str, shape: list[int], in_q: tuple, out_q: tuple) -> bytes:
    b = ModelBuilder()
    x = b.tensor(shape, dtype, *in_q)
    y = b.tensor(shape, dtype, *out_q)
    opts = options("SoftmaxOptions", beta=1.0) if kind == "SOFTMAX" else None
    b.op(kind, [x], [y], *([opts] if opts is not None else []))
    return b.build([x], [y])


def other_kernel_models() -> list[tuple[str, bytes]]:
    """One small model per remaining TD_WEIGHTS_MEM reader, built like their op tests build them."""
    sys.path.insert(0, str(ROOT / "tests" / "compile" / "ops"))
    from test_lstm import lstm_model
    from test_svdf import svdf_case
    from test_transpose_conv import tconv_case

    rng = np.random.default_rng(44)
    models = [("tconv_s8", tconv_case(rng, "int8").model), ("tconv_s16", tconv_case(rng, "int16").model),
              ("svdf", svdf_case(rng, steps=3).model),
              ("lstm", lstm_model(rng, peephole=True, layer_norm=True, projection=True).model),
              ("lstm_cifg", lstm_model(rng, cifg=True).model)]
    models += [("logistic_s8", _act_model("LOGISTIC", "int8", [1, 40], (0.05, 3), (1 / 256, -128))),
               ("tanh_s8", _act_model("TANH", "int8", [1, 40], (0.03, -7), (1 / 128, 0))),
               ("logistic_s16", _act_model("LOGISTIC", "int16", [1, 40], (2e-4, 0), (1 / 32768, 0))),
               ("tanh_s16", _act_model("TANH", "int16", [1, 40], (3e-4, 0), (1 / 32768, 0))),
               ("softmax_s16", _act_model("SOFTMAX", "int16", [2, 10], (1e-3, 0), (1 / 32768, 0)))]
    return models


@pytest.mark.slow
def test_other_flash_kernels_bit_exact_in_simavr(tmp_path):
    built = other_kernel_models()
    models, samples = [], []
    for k, (label, data) in enumerate(built):
        g = parse_model(data)
        models.append(compile_graph(g, prefix=f"m{k}_{label}"))
        samples.append(random_inputs(g, 2, np.random.default_rng(k)))
    elf = build_firmware(tmp_path, models, samples, "gnu99")
    addr = symbol_addresses(elf)
    flash = flash_symbols(models)
    assert flash and all(addr[sym] < 0x800000 for sym in flash if sym in addr)
    assert addr["td_sigmoid_table_u16"] < 0x800000                # the runtime's own table too
    outs, _ = run_in_simavr(elf)
    assert_bit_exact(models, [data for _, data in built], samples, outs)


@pytest.mark.slow
def test_kws_weights_go_to_flash_but_its_arena_needs_more_than_8k(tmp_path):
    path = TEST_MODELS / "kws_ref_model.tflite"
    assert path.is_file(), path
    g = load_model(path)
    m = compile_graph(g, options=PlanOptions())
    xs = random_inputs(g, 1, np.random.default_rng(0))
    with pytest.raises(AssertionError, match="not within region .data"):   # 8 KB of SRAM: no
        build_firmware(tmp_path / "8k", [m], [xs], "gnu99")
    elf = build_firmware(tmp_path / "64k", [m], [xs], "gnu99", ("-Wl,--defsym=__DATA_REGION_LENGTH__=0xffa0",))
    s = section_sizes(elf)
    addr = symbol_addresses(elf)
    flash = flash_symbols([m])
    assert sum(flash.values()) > 20000 and all(addr[sym] < 0x800000 for sym in flash)
    ram = s.get(".data", 0) + s.get(".bss", 0)
    assert m.arena_bytes <= ram < m.arena_bytes + 1500 and ram > 8192, s   # the arena, not the weights


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_conv_family_random_cases_in_simavr(tmp_path, dtype):
    """Random CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV cases (the op tests'
    generators) and the in-place conv chains, weights in flash, in one firmware: avr-gcc's __memx code
    must be right in every kernel variant (it once was not: see td_weights_s64 in tinydeploy.h)."""
    sys.path.insert(0, str(ROOT / "tests" / "compile" / "ops"))
    from test_conv import conv_case
    from test_depthwise_conv import dw_case
    from test_fully_connected import fc_case
    from test_inplace_conv import chains
    from test_transpose_conv import tconv_case

    rng = np.random.default_rng(7 if dtype == "int8" else 8)
    datas = [gen(rng, dtype).model for gen in (conv_case, dw_case, fc_case, tconv_case) for _ in range(5)]
    datas += [data for _, data, _ in chains(dtype, 41 if dtype == "int8" else 42)]
    models, sources, samples = [], [], []
    for data in datas:
        g = parse_model(data)
        m = compile_graph(g, prefix=f"m{len(models)}")
        if m.arena_bytes > 4096:          # one shared arena, 8 KB of SRAM
            continue
        models.append(m)
        sources.append(data)
        samples.append(random_inputs(g, 2, rng))
    assert len(models) >= 20 and any("_inplace(" in m.source for m in models)
    elf = build_firmware(tmp_path, models, samples, "gnu99")
    outs, _ = run_in_simavr(elf)
    assert_bit_exact(models, sources, samples, outs)
