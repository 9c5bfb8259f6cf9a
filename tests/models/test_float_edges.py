"""Float model edges outside the arena (passes/float_edges.py, codegen/float_io.py): the float32 input
and output of a QUANTIZE ... DEQUANTIZE model stay in the caller's buffers. A C program built with the
host compiler (ASan/UBSan) calls the three entry points on the same samples, every result against
LiteRT BUILTIN_REF bit for bit: <p>_invoke_f32 on its own buffers, <p>_invoke on the default buffers
that <p>_inputs[0].data points at, <p>_invoke_int on the integer edge tensors (<p>_input0_q()) that it
quantized itself; and again built with <P>_NO_IO_BUFFERS (no default buffers, no <p>_invoke)."""

import numpy as np
import pytest
from c_program import run_c_program
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile import PlanOptions, compile_graph, load_model
from tinydeploy.evaluate import reference_outputs

FLOAT_IO = [ROOT / "models" / "digits_cnn_float_io.tflite", ROOT / "models" / "mcunet_like_80_float_io.tflite"]

PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include "@p@.h"
static float in[@P@_INPUT0_SIZE], out[@P@_OUTPUT0_SIZE];
int main(int argc, char **argv) {
  FILE *fi, *fo;
  if (argc != 3 || !(fi = fopen(argv[1], "rb")) || !(fo = fopen(argv[2], "wb"))) return 2;
  while (fread(in, sizeof(float), @P@_INPUT0_SIZE, fi) == @P@_INPUT0_SIZE) {
    memset(out, 0, sizeof out);
    if (@p@_invoke_f32(in, out) != 0) return 3;                      /* the caller's buffers */
    fwrite(out, sizeof(float), @P@_OUTPUT0_SIZE, fo);
    td_quantize_floats(in, @p@_input0_q(), @P@_Q_DTYPE, @P@_INPUT0_SIZE, @P@_IN_SCALE, @P@_IN_ZP);
    if (@p@_invoke_int() != 0) return 4;                              /* integer edges in the arena */
    td_dequantize_floats(@p@_output0_q(), out, @P@_Q_DTYPE, @P@_OUTPUT0_SIZE, @P@_OUT_SCALE, @P@_OUT_ZP);
    fwrite(out, sizeof(float), @P@_OUTPUT0_SIZE, fo);
#ifndef @P@_NO_IO_BUFFERS
    memcpy(@p@_input0(), in, sizeof in);                               /* the default buffers */
    if ((void *)@p@_input0() != @p@_inputs[0].data || @p@_invoke() != 0) return 5;
    fwrite(@p@_output0(), sizeof(float), @P@_OUTPUT0_SIZE, fo);
#else
    fwrite(out, sizeof(float), @P@_OUTPUT0_SIZE, fo);
#endif
  }
  return fclose(fo) != 0;
}
"""


def edge_params(m) -> dict[str, str]:
    g = m.graph
    q_in = next(op.outputs[0] for op in g.ops if op.kind == "QUANTIZE" and op.inputs[0] == g.inputs[0])
    q_out = next(op.inputs[0] for op in g.ops if op.kind == "DEQUANTIZE" and op.outputs[0] == g.outputs[0])
    ti, to = g.tensors[q_in], g.tensors[q_out]
    return {"@P@_Q_DTYPE": "TD_INT8" if ti.dtype == "int8" else "TD_INT16", "@P@_IN_SCALE": repr(float(ti.scale)) + "f",
            "@P@_IN_ZP": str(ti.zero_point),
            "@P@_OUT_SCALE": repr(float(to.scale)) + "f", "@P@_OUT_ZP": str(to.zero_point)}


def run_program(m, xs: np.ndarray, work, defines=()) -> np.ndarray:
    text = PROGRAM
    for k, v in edge_params(m).items():
        text = text.replace(k, v)
    san = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1")
    out = run_c_program(m, text, xs, work, flags=(*san, *defines))
    return np.frombuffer(out, np.float32).reshape(len(xs), 3, -1)


@pytest.mark.parametrize("model", FLOAT_IO, ids=lambda p: p.stem)
def test_float_edges_leave_the_arena_and_every_entry_point_is_bit_exact(model, tmp_path):
    g = load_model(model)
    m = compile_graph(g)
    inside = compile_graph(g, options=PlanOptions(float_io_outside=False))
    t_in, t_out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    assert m.graph.external == (g.inputs[0], g.outputs[0])
    assert m.io_buffer_bytes == t_in.nbytes + t_out.nbytes
    assert m.arena_bytes <= inside.arena_bytes and "float_io=arena" in inside.options.describe()
    if "mcunet" in model.name:  # its float input (76,800 B) set the peak
        assert m.arena_bytes < inside.arena_bytes - 20_000
    assert f"int {m.prefix}_invoke_f32(const float *input0, float *output0);" in m.header
    assert f"#define {m.prefix.upper()}_IO_BYTES {m.io_buffer_bytes}UL" in m.header
    rng = np.random.default_rng(3)
    xs = rng.uniform(-1.2, 1.2, (4, *t_in.shape)).astype(np.float32)
    ref = reference_outputs(model, [xs])[0].reshape(len(xs), -1)
    for defines, work in (((), tmp_path / "default"), ((f"-D{m.prefix.upper()}_NO_IO_BUFFERS",), tmp_path / "none")):
        got = run_program(m, xs, work, defines)
        for k in range(3):
            assert got[:, k].tobytes() == ref.astype(np.float32).tobytes(), (defines, k)


def test_int8_io_models_keep_their_c():
    m = compile_graph(load_model(TEST_MODELS / "hello_world_int8.tflite"))
    assert m.graph.external == () and "_invoke_f32" not in m.header and "_IO_BYTES" not in m.header
    assert f"int {m.prefix}_invoke(void) {{\n  uint8_t *const arena" in m.source
