"""Patch stages that read the model input from the caller's buffer (issue 14, --input-outside-arena):
a float input's edge QUANTIZE becomes a quantizing TD_CROP per tile, an int8/int16 input stays outside the
arena and each tile crops its box from it, so the whole integer input never sits in the arena. Checked
bit for bit against LiteRT BUILTIN_REF under ASan/UBSan with exactly the planned arena: mcunet_like_80
(100 inputs), random small CNNs with an int8/int16 or a float input (forced stages from the input), the
C entry points on the caller's own buffers; and no repo model's arena grows."""
import json
import subprocess

import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS
from test_patch import Net, cnn_case  # random CNN chains (tests/compile/test_patch.py)

from tinydeploy.compile import PlanOptions, compile_graph, load_model, parse_model, write_library
from tinydeploy.compile.passes import patch as P
from tinydeploy.compile.passes.float_edges import float_edges_outside
from tinydeploy.compile.passes.fold_pad import fold_pads
from tinydeploy.compile.passes.reorder import reorder
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate import random_inputs, reference_outputs
from tinydeploy.target.host import WARN_FLAGS, build_host, host_compiler
from tinydeploy.testing.opcheck import Case, check_cases

MCUNET = ROOT / "models" / "mcunet_like_80_float_io.tflite"
REPO_MODELS = sorted((ROOT / "models").glob("*.tflite")) + sorted(TEST_MODELS.glob("*.tflite"))
FROM_INPUT = PlanOptions(patch="auto", patch_budget=0.35, input_outside_arena=True)


def test_mcunet_like_stage_starts_at_the_float_input_and_is_bit_exact():
    g = load_model(MCUNET)
    m = compile_graph(g, options=FROM_INPUT)
    in_arena = compile_graph(g, options=PlanOptions(patch="auto", patch_budget=0.35))
    plain = compile_graph(g)
    info = m.patch
    assert info.enabled and info.from_input and 0 < info.extra_macs <= 0.35 * info.macs, info.reason
    first = m.graph.ops[0]  # the tile's box of the caller's floats, quantized into its int8 patch
    assert first.kind == "TD_CROP" and first.inputs[0] == g.inputs[0] and first.inputs[0] in m.graph.external
    assert m.graph.tensors[first.outputs[0]].dtype == "int8"
    assert "QUANTIZE" not in {op.kind for op in m.graph.ops}
    full = tuple(g.tensors[g.inputs[0]].shape)
    assert not [t for t in m.tensor_offsets if tuple(m.graph.tensors[t].shape) == full]  # no whole input
    # TinyEngine's patch-based peak on MCUNet-VWW is 59,568 B + its 19,200 B image; ours today: 19,856 B
    assert m.arena_bytes < in_arena.arena_bytes < plain.arena_bytes and m.arena_bytes <= 24_000
    assert f"int {m.prefix}_invoke_f32(const float *input0, float *output0);" in m.header
    assert "_invoke_int" not in m.header and "_input0_q" not in m.header  # no integer input to fill
    assert "input=outside" in m.options.describe()
    assert check_cases([Case(MCUNET.read_bytes(), "mcunet_like_80", samples=100)], seed=14, sanitize=True,
                       options=FROM_INPUT) == []


def _float_io_case(rng, dtype: str):
    """(tflite bytes, patch spec, label): float32 -> QUANTIZE -> a random CNN chain -> DEQUANTIZE -> float32,
    patched from the input: the stage of the split op starts at the edge QUANTIZE."""
    for _ in range(200):
        net = Net(rng, dtype, int(rng.integers(5, 21)), int(rng.integers(5, 21)), int(rng.integers(1, 5)))
        for _ in range(int(rng.integers(1, 5))):
            pick = rng.random()
            ok = net.conv(depthwise=pick < 0.3) if pick < 0.6 else (net.pool() if pick < 0.75 else
                                                                    net.unary() if pick < 0.85 else net.residual())
            if not ok:
                break
        b = net.b
        xf = b.tensor(list(b.tensors[net.x].shape), "float32", name="image")
        b.op("QUANTIZE", [xf], [net.x])
        b.operators.insert(0, b.operators.pop())  # QUANTIZE runs first
        y = b.tensor(list(net.shape), "float32", name="out")
        b.op("DEQUANTIZE", [net.cur], [y])
        model = b.build([xf], [y])
        try:
            reference_outputs(model, [np.zeros((1, *b.tensors[xf].shape), np.float32)])
        except TinyDeployError:  # LiteRT refused the draw
            continue
        g = float_edges_outside(reorder(fold_pads(parse_model(model))))
        splits = [s for s in P.valid_splits(g, True) if P.stage_of(g, s, True).ops[0].index == 0]
        if not splits:
            continue
        split = int(rng.choice(splits))
        t = g.tensors[g.ops[split].outputs[0]].shape
        if t[1] * t[2] < 2:
            continue
        while True:
            grid = int(rng.integers(1, min(4, t[1]) + 1)), int(rng.integers(1, min(4, t[2]) + 1))
            if grid != (1, 1):
                break
        label = f"float->{dtype} {list(b.tensors[xf].shape)} {' '.join(net.kinds)} split {split} grid {grid}"
        return model, f"{split}:{grid[0]}x{grid[1]}", label
    raise AssertionError("200 draws without a usable case")


def test_random_cnns_patched_from_the_input_are_bit_exact_sanitized():
    rng = np.random.default_rng(1414)
    cases = [_float_io_case(rng, "int8") for _ in range(24)] + [_float_io_case(rng, "int16") for _ in range(8)]
    cases += [cnn_case(rng, "int8") for _ in range(24)] + [cnn_case(rng, "int16") for _ in range(8)]
    models = []
    for i, (model, spec, label) in enumerate(cases):
        opts = PlanOptions(planner=str(rng.choice(["greedy", "exact"])), patch=spec, input_outside_arena=True,
                           inplace=bool(rng.random() < 0.85))
        m = compile_graph(parse_model(model, name=f"q{i}"), prefix=f"q{i}", options=opts)
        assert m.patch.enabled and m.graph.inputs[0] in m.graph.external, label
        if label.startswith("float"):  # the stage starts at the edge QUANTIZE: a quantizing crop per tile
            edge = [op for op in m.graph.ops if op.kind == "QUANTIZE" and op.inputs[0] in m.graph.external]
            assert m.patch.from_input and not edge and m.graph.ops[0].kind == "TD_CROP", label
        models.append(m)
    assert sum(m.patch.from_input for m in models) >= 48  # most int8/int16 stages reach the input too
    exe = build_host(models, sanitize=True)
    failures = []
    for i, ((model, spec, label), m) in enumerate(zip(cases, models)):
        xs = random_inputs(m.graph, 12, rng)
        if label.startswith("float"):  # around the input's range, so not everything saturates
            xs = [rng.normal(0, 4, x.shape).astype(np.float32) for x in xs]
        for a, b in zip(exe.run(i, xs), reference_outputs(model, xs)):
            a = a.reshape(b.shape)
            if a.tobytes() != b.tobytes():
                failures.append(f"{label}: {int((a != b).sum())} of {a.size} values differ")
    assert failures == []


PROGRAM = r"""
#include <stdio.h>
#include "@p@.h"
static @T@ in[@P@_INPUT0_SIZE];
static @O@ out[@P@_OUTPUT0_SIZE];
int main(int argc, char **argv) {
  FILE *fi, *fo;
  (void)out;
  if (argc != 3 || !(fi = fopen(argv[1], "rb")) || !(fo = fopen(argv[2], "wb"))) return 2;
  while (fread(in, sizeof in[0], @P@_INPUT0_SIZE, fi) == @P@_INPUT0_SIZE) {
    if (@ENTRY@ != 0) return 3;                                      /* the caller's own buffers */
    fwrite(@OUT@, sizeof out[0], @P@_OUTPUT0_SIZE, fo);
  }
  return fclose(fo) != 0;
}
"""


@pytest.mark.parametrize("name,options", [
    ("digits_cnn_int8", PlanOptions(patch="2:3x2", input_outside_arena=True)),
    ("digits_cnn_int8", PlanOptions(input_outside_arena=True)),  # no patch: the ops read the caller's input
    ("mcunet_like_80_float_io", FROM_INPUT),
], ids=["int8-patched", "int8-unpatched", "float-patched"])
def test_entry_point_on_the_callers_buffers(name, options, tmp_path):
    """<p>_invoke_io(const int8_t *) / <p>_invoke_f32(const float *, float *) with the default buffers
    compiled out (<P>_NO_IO_BUFFERS), under ASan/UBSan, bit-exact with LiteRT."""
    path = ROOT / "models" / f"{name}.tflite"
    m = compile_graph(load_model(path), options=options)
    g, p, P_ = m.graph, m.prefix, m.prefix.upper()
    t_in = g.tensors[g.inputs[0]]
    assert g.external[0] == g.inputs[0] and m.io_buffer_bytes >= t_in.nbytes
    if t_in.dtype == "int8":
        assert f"int {p}_invoke_io(const int8_t *input0);" in m.header and "_invoke_f32" not in m.header
        subs = {"@T@": "int8_t", "@O@": "int8_t", "@ENTRY@": f"{p}_invoke_io(in)", "@OUT@": f"{p}_output0()"}
    else:
        subs = {"@T@": "float", "@O@": "float", "@ENTRY@": f"{p}_invoke_f32(in, out)", "@OUT@": "out"}
    assert f"#define {P_}_IO_BYTES {m.io_buffer_bytes}UL" in m.header and "_invoke_int" not in m.header
    write_library(m, tmp_path / "lib")
    text = PROGRAM
    for k, v in {**subs, "@p@": p, "@P@": P_}.items():
        text = text.replace(k, v)
    (tmp_path / "check.c").write_text(text)
    runtime = sorted((tmp_path / "lib" / "tinydeploy").glob("*.c"))
    cmd = [host_compiler(), *WARN_FLAGS, "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1",
           f"-D{P_}_NO_IO_BUFFERS", f"-I{tmp_path / 'lib'}", f"-I{tmp_path / 'lib' / 'tinydeploy'}",
           str(tmp_path / "check.c"), str(tmp_path / "lib" / f"{p}.c"), *map(str, runtime), "-o",
           str(tmp_path / "check"), "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rng = np.random.default_rng(7)
    xs = random_inputs(g, 8, rng)[0]
    if t_in.dtype == "float32":
        xs = rng.uniform(-1.2, 1.2, xs.shape).astype(np.float32)
    xs.tofile(tmp_path / "in.bin")
    r = subprocess.run([str(tmp_path / "check"), str(tmp_path / "in.bin"), str(tmp_path / "out.bin")],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ref = reference_outputs(path, [xs])[0]
    assert np.fromfile(tmp_path / "out.bin", ref.dtype).tobytes() == ref.tobytes()


def test_no_repo_model_gets_a_larger_arena():
    """--input-outside-arena only takes from the arena: alone, and with --patch auto."""
    rows = []
    for path in REPO_MODELS:
        g = load_model(path)
        base, auto = compile_graph(g), compile_graph(g, options=PlanOptions(patch="auto"))
        outside = compile_graph(g, options=PlanOptions(input_outside_arena=True))
        auto_outside = compile_graph(g, options=PlanOptions(patch="auto", input_outside_arena=True))
        assert "input=outside" not in base.options.describe()
        rows.append((path.name, base.arena_bytes, outside.arena_bytes, auto.arena_bytes, auto_outside.arena_bytes))
    grew = [r for r in rows if r[2] > r[1] or r[4] > r[3]]
    assert not grew, grew
    assert any(r[4] < r[3] for r in rows)  # and patch stages from the input do take something


def test_plan_json_reports_the_input_buffer_and_the_extra_macs():
    from typer.testing import CliRunner

    from tinydeploy.cli import app

    path = ROOT / "models" / "digits_cnn_int8.tflite"
    r = CliRunner().invoke(app, ["plan", str(path), "--patch", "2:2x2", "--input-outside-arena", "--json",
                                 "--no-tflm"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    assert d["input_outside_arena_bytes"] == d["io_outside_arena_bytes"] == 8 * 8  # the int8 input, 8x8x1
    assert d["float_io_outside_arena_bytes"] == 0 and "input=outside" in d["plan_options"]
    p = d["patch"]
    assert p["enabled"] and p["from_input"] and p["extra_macs"] == p["patched_macs"] - p["macs"] > 0
    r = CliRunner().invoke(app, ["plan", str(path), "--patch", "2:2x2", "--no-tflm"])
    assert r.exit_code == 0 and "outside the arena" not in r.output
    r = CliRunner().invoke(app, ["plan", str(path), "--patch", "2:2x2", "--input-outside-arena", "--no-tflm"])
    text = " ".join(r.output.split())  # rich wraps lines
    assert r.exit_code == 0 and "inputs/outputs outside the arena: 64 B (input 64 B" in text
    assert "(+2,592, +12.3%); tiles read the input from the caller's buffer" in text


@pytest.mark.slow
def test_eval_on_qemu_m4_reads_the_input_from_its_buffer(tmp_path):
    """eval --patch auto --input-outside-arena: the device protocol fills the int8 input's default buffer
    outside the arena (td_tensor_info.data), the tiles crop it, every output bit-exact with LiteRT."""
    from device_helpers import DIGITS, DIGITS_DATA, cli

    np.savez(tmp_path / "x.npz", x=np.load(DIGITS_DATA)["x_int8"][:60])
    r = cli("eval", DIGITS, "--board", "qemu-m4", "--inputs", f"{tmp_path / 'x.npz'}:x", "--patch", "auto",
            "--input-outside-arena", "--json", tmp_path / "r.json", "--project-dir", tmp_path / "fw")
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["complete"] and rep["samples"] == 60 and rep["bit_exact"]["checked"] and rep["bit_exact"]["all"]
    c = next((tmp_path / "fw").rglob("digits_cnn_int8.c")).read_text()
    assert "input=outside" in c and "_invoke_io(const int8_t *input0)" in c
