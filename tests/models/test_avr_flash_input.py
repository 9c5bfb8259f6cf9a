"""An input image held in flash on AVR (issue 14): with --input-outside-arena and a patch stage from the input,
the AVR kernels' tiles crop the caller's input through a `__memx` pointer (td_copy_nd_memx), so
<name>_invoke_io_flash(const TD_WEIGHTS_MEM int8_t *input0) takes an image in PROGMEM (.progmemx), and
<name>_invoke_io(const int8_t *) one in SRAM (a generic pointer converts to __memx). Linked for the ATmega2560
with -std=gnu99 -Wall -Wextra -Werror, run in simavr, bit-exact with LiteRT (BUILTIN_REF)."""
import subprocess

import numpy as np
import pytest
from conftest import ROOT
from test_avr_flash import AVR_CC, MAIN_HEAD, MAIN_TAIL, run_in_simavr, symbol_addresses
from tools import require_tool

from tinydeploy.compile.compiler import RUNTIME_DIR, compile_graph
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.reference import reference_outputs

pytestmark = require_tool("avr-gcc", "avr-nm", "simavr")

MODEL = ROOT / "models" / "digits_cnn_int8.tflite"


def firmware(m, x: np.ndarray) -> str:
    """main.c: even samples from flash through _invoke_io_flash, odd ones copied to SRAM through _invoke_io."""
    n, size = x.shape[0], x[0].size
    out = m.graph.outputs[0]
    rows = ",\n".join("  {" + ", ".join(str(int(v)) for v in row.reshape(-1)) + "}" for row in x)
    run = f"""static const TD_WEIGHTS_MEM int8_t images[{n}][{size}] = {{
{rows}
}};
static int8_t ram_image[{size}];

static void run_0(void) {{
  uint8_t s;
  uint16_t i;
  digits_set_arena(arena);
  for (s = 0; s < {n}; ++s) {{
    uint32_t t0, t1;
    t0 = now();
    if (s & 1) {{
      for (i = 0; i < {size}u; ++i) ram_image[i] = images[s][i];
      digits_invoke_io(ram_image);
    }} else {{
      digits_invoke_io_flash(images[s]);
    }}
    t1 = now();
    put_line_head('T', 0, s, 0);
    put_u32(t1 - t0);
    put_str("\\r\\n");
    put_line_head('O', 0, s, 0);
    for (i = 0; i < {m.graph.tensors[out].nbytes}u; ++i) put_hex(arena[{m.tensor_offsets[out]}UL + i]);
    put_str("\\r\\n");
  }}
}}
"""
    head = MAIN_HEAD.replace("@INCLUDES@", '#include "digits.h"').replace("@ARENA@", str(m.arena_bytes))
    return head + run + MAIN_TAIL.replace("@RUNS@", "  run_0();")


@pytest.mark.slow
def test_avr_tiles_read_an_input_image_in_flash(tmp_path):
    m = compile_graph(load_model(MODEL), prefix="digits",
                      options=PlanOptions(patch="auto", input_outside_arena=True, kernels="avr"))
    assert m.patch.enabled and m.patch.from_input and m.graph.inputs[0] in m.graph.external
    assert "int digits_invoke_io_flash(const TD_WEIGHTS_MEM int8_t *input0);" in m.header
    assert "td_copy_nd_memx(" in m.source and "td_copy_nd(&digits_op0" not in m.source
    x = np.load(ROOT / "models" / "digits_test.npz")["x_int8"][:6]
    (tmp_path / "digits.h").write_text(m.header)
    (tmp_path / "digits.c").write_text(m.source)
    (tmp_path / "main.c").write_text(firmware(m, x))
    elf = tmp_path / "fw.elf"
    runtime = sorted(RUNTIME_DIR.glob("*.c")) + sorted(RUNTIME_DIR.glob("avr/*.c"))
    r = subprocess.run([*AVR_CC, "-std=gnu99", "-DDIGITS_NO_STATIC_ARENA", "-DDIGITS_NO_IO_BUFFERS",
                        f"-I{tmp_path}", f"-I{RUNTIME_DIR}", *map(str, runtime), str(tmp_path / "digits.c"),
                        str(tmp_path / "main.c"), "-Wl,--gc-sections", "-o", str(elf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-4000:]
    assert symbol_addresses(elf)["images"] < 0x800000  # the images in flash (0x800000+: SRAM)
    outs, cycles = run_in_simavr(elf)
    print(f"\ncycles per invoke (flash, SRAM, ...): {[cycles[(0, s)] for s in range(len(x))]}")
    want = reference_outputs(MODEL.read_bytes(), [x])[0]
    got = [outs.get((0, s, 0)) for s in range(len(x))]
    assert got == [w.tobytes() for w in want], "outputs differ from LiteRT"
