"""The generated float API, called from a C program built with the host compiler: `<model>_quantize_input`,
`<model>_invoke`, `<model>_dequantize_output` on floats, against LiteRT BUILTIN_REF on the same floats.

int8-I/O model (hello_world): the quantized input equals TFLite's QUANTIZE done in numpy (float32 division,
round half away from zero, zero point, clamp), the int8 output equals LiteRT's, and the dequantized floats
equal (out - zero_point) * scale in numpy float32, bit for bit. Float-I/O model (digits_cnn_float_io: QUANTIZE
and DEQUANTIZE inside the graph): the float outputs equal LiteRT's bit for bit.
"""
from pathlib import Path

import numpy as np
from c_program import run_c_program
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ir import DTYPES
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.reference import reference_outputs

PROGRAM = r"""
/* float API check: ./check IN OUT. Per sample of floats in IN: quantize_input, invoke, dequantize_output;
 * writes the input as quantized in the arena, the raw output and the dequantized floats. */
#include <stdio.h>
#include "@p@.h"
int main(int argc, char **argv) {
  static float in[@P@_INPUT0_SIZE], out[@P@_OUTPUT0_SIZE];
  FILE *fi, *fo;
  if (argc != 3 || !(fi = fopen(argv[1], "rb")) || !(fo = fopen(argv[2], "wb"))) return 2;
  while (fread(in, sizeof(float), @P@_INPUT0_SIZE, fi) == @P@_INPUT0_SIZE) {
    @p@_quantize_input(0, in);
    fwrite(@p@_input0(), sizeof *@p@_input0(), @P@_INPUT0_SIZE, fo);
    if (@p@_invoke() != 0) return 3;
    fwrite(@p@_output0(), sizeof *@p@_output0(), @P@_OUTPUT0_SIZE, fo);
    @p@_dequantize_output(0, out);
    fwrite(out, sizeof(float), @P@_OUTPUT0_SIZE, fo);
  }
  return fclose(fo) != 0;
}
"""


def run_c_api(model: Path, xs: np.ndarray, work: Path):
    """Build PROGRAM against the converted model; returns (quantized inputs, raw outputs, dequantized floats)."""
    m = compile_graph(load_model(model))
    g = m.graph
    run_c_program(m, PROGRAM, xs, work, timeout=120)
    tin, tout = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    rec = np.dtype([("q", DTYPES[tin.dtype][0], (tin.size,)), ("out", DTYPES[tout.dtype][0], (tout.size,)),
                    ("deq", np.float32, (tout.size,))])
    got = np.fromfile(work / "out.bin", rec)
    assert len(got) == len(xs)
    return tin, tout, got["q"], got["out"], got["deq"]


def tflite_quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLite's QUANTIZE reference in float32: round(x / scale) half away from zero, + zero point, clamp."""
    v = x.astype(np.float32) / np.float32(scale)
    r = np.trunc(v)
    r += np.where(np.abs(v - r) >= np.float32(0.5), np.sign(v), np.float32(0))
    return np.clip(r.astype(np.int64) + zero_point, -128, 127).astype(np.int8)


def test_int8_io_quantize_invoke_dequantize(tmp_path):
    model = TEST_MODELS / "hello_world_int8.tflite"
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-1.0, 7.5, 200), [0.0, -0.0, 3.14159, 6.2831855, -100.0, 100.0]])
    x = x.astype(np.float32).reshape(-1, 1, 1)
    tin, tout, q, out, deq = run_c_api(model, x, tmp_path)
    assert tin.dtype == "int8" and tin.scale > 0 and tin.zero_point != 0  # a real affine quantization
    want_q = tflite_quantize(x.reshape(len(x), -1), tin.scale, tin.zero_point)
    assert np.array_equal(q, want_q)
    assert {-128, 127} <= set(q.ravel().tolist())  # clamping was exercised
    ref = reference_outputs(model, [want_q.reshape(x.shape)])[0].reshape(out.shape)
    assert np.array_equal(out, ref)
    want_deq = (ref.astype(np.float32) - np.float32(tout.zero_point)) * np.float32(tout.scale)
    assert want_deq.dtype == np.float32 and np.array_equal(deq.view(np.uint32), want_deq.view(np.uint32))


def test_float_io_model_matches_litert_bitwise(tmp_path):
    model = ROOT / "models" / "digits_cnn_float_io.tflite"
    x = np.load(ROOT / "models" / "digits_test.npz")["x_float"][:50].astype(np.float32).reshape(50, 1, 8, 8, 1)
    tin, tout, q, out, deq = run_c_api(model, x, tmp_path)
    assert tin.dtype == tout.dtype == "float32"
    assert np.array_equal(q, x.reshape(50, -1))  # float input: copied as is
    ref = reference_outputs(model, [x])[0].reshape(50, -1).astype(np.float32)
    assert np.array_equal(out.view(np.uint32), ref.view(np.uint32))
    assert np.array_equal(deq.view(np.uint32), ref.view(np.uint32))
