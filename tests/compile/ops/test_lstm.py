"""UNIDIRECTIONAL_SEQUENCE_LSTM (integer 8x8->16) vs LiteRT BUILTIN_REF (seeded random models).

The models are built directly with the flatbuffer builder: 24 inputs (optional ones left out),
two variable state tensors and the 5 intermediate tensors that carry the gate scales, quantized
the way the TFLite converter does it. One invoke runs the whole sequence, so the recurrence over
time (and across batches, for batch-major inputs) is exercised.
"""
import math
from pathlib import Path

import numpy as np

from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def lstm_model(rng: np.random.Generator, *, cifg=False, peephole=False, layer_norm=False, projection=False,
               time_major=False, cell_clip=0.0, proj_clip=0.0, steps=None, batches=None, n_input=None,
               n_cell=None, n_output=None, cell_log2=None, state_zp=0, cell_scale=None, gain=1.0) -> Case:
    T = steps or int(rng.integers(1, 6))
    B = batches or int(rng.integers(1, 4))
    n_in = n_input or int(rng.integers(1, 12))
    n_cell = n_cell or int(rng.integers(1, 10))
    if projection:
        n_out = n_output or int(rng.integers(1, n_cell + 1 if peephole else 10))
    else:
        n_out = n_cell
    cell_log2 = cell_log2 if cell_log2 is not None else int(rng.choice([-11, -11, -12, -10, -15, -9, -13]))
    b = ModelBuilder()
    in_scale = float(rng.uniform(1 / 200, 1 / 20))
    in_zp = int(rng.integers(-60, 60))
    st_scale = float(rng.uniform(1 / 200, 1 / 60))
    # LiteRT resets an int8 state to its zero point; see test_lstm_nonzero_state_zero_point
    st_zp = int(rng.integers(-30, 30)) if state_zp is None else state_zp
    hid_scale = float(rng.uniform(1 / 200, 1 / 100))
    hid_zp = int(rng.integers(-20, 20))
    gate_scale = [float(2.0 ** rng.uniform(-12, -9)) for _ in range(4)] if layer_norm else [2.0**-12] * 4

    def weights(rows, cols, fan_in, other_scale):
        # pre-activations of a few units: w_scale * other_scale * 127 * 60 * sqrt(fan_in) ~ 1..3
        s = gain * float(rng.uniform(0.5, 3.0)) / (other_scale * 127 * 60 * math.sqrt(fan_in))
        return b.tensor([rows, cols], "int8", s, 0, data=rng.integers(-127, 128, (rows, cols)))

    x = b.tensor([T, B, n_in] if time_major else [B, T, n_in], "int8", in_scale, in_zp, name="input")
    ins = [-1] * 24
    ins[0] = x
    for k, name in enumerate(["input", "forget", "cell", "output"]):
        if name == "input" and cifg:
            continue
        ins[1 + k] = weights(n_cell, n_in, n_in, in_scale)
        ins[5 + k] = weights(n_cell, n_out, n_out, st_scale)
        if peephole and name != "cell":
            ins[9 + [0, 1, None, 2][k]] = b.tensor([n_cell], "int16", float(rng.uniform(1e-5, 1e-4)), 0,
                                                   data=rng.integers(-32767, 32768, n_cell))
        bias_scale = gate_scale[k] / 64 if layer_norm else in_scale * 0.001
        ins[12 + k] = b.tensor([n_cell], "int32", bias_scale, 0,
                               data=rng.integers(-40000, 40000, n_cell) if layer_norm else
                               rng.integers(-3000, 3000, n_cell))
        if layer_norm:
            ins[20 + k] = b.tensor([n_cell], "int16", float(rng.uniform(1 / 40000, 1 / 8000)), 0,
                                   data=rng.integers(1000, 32767, n_cell))
    if projection:
        ins[16] = weights(n_out, n_cell, n_cell, hid_scale)
        if rng.integers(0, 2):
            ins[17] = b.tensor([n_out], "int32", hid_scale * 0.01, 0, data=rng.integers(-2000, 2000, n_out))
    ins[18] = b.tensor([B, n_out], "int8", st_scale, st_zp, variable=True, name="output_state")
    ins[19] = b.tensor([B, n_cell], "int16", cell_scale or 2.0**cell_log2, 0, variable=True, name="cell_state")
    inter = [b.tensor([0], "int16" if k < 4 else "int8", gate_scale[k] if k < 4 else hid_scale,
                      0 if k < 4 else hid_zp, name=f"intermediate_{k}") for k in range(5)]
    y = b.tensor([T, B, n_out] if time_major else [B, T, n_out], "int8", st_scale, st_zp, name="output")
    opts = options("UnidirectionalSequenceLSTMOptions", fusedActivationFunction=4, cellClip=cell_clip,
                   projClip=proj_clip, timeMajor=time_major)
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [y], opts, version=3, intermediates=inter)
    label = (f"lstm T{T} B{B} in{n_in} cell{n_cell} out{n_out} cifg{int(cifg)} peep{int(peephole)} "
             f"ln{int(layer_norm)} proj{int(projection)} tm{int(time_major)} c2^{cell_log2} "
             f"clip{cell_clip}/{proj_clip}")
    return Case(b.build([x], [y]), label, samples=4)


def random_lstm(rng: np.random.Generator) -> Case:
    flags = {k: bool(rng.integers(0, 2)) for k in ("cifg", "peephole", "layer_norm", "projection", "time_major")}
    cell_clip = float(rng.choice([0.0, 0.0, 0.5, 3.0]))
    proj_clip = float(rng.choice([0.0, 0.0, 0.3])) if flags["projection"] else 0.0
    return lstm_model(rng, cell_clip=cell_clip, proj_clip=proj_clip, **flags)


def test_lstm_basic():
    rng = np.random.default_rng(5)
    cases = [lstm_model(rng) for _ in range(6)] + [lstm_model(rng, time_major=True) for _ in range(4)]
    assert check_cases(cases, seed=2) == []


def test_lstm_random_variants():
    rng = np.random.default_rng(77)
    cases = [random_lstm(rng) for _ in range(40)]
    assert check_cases(cases, seed=4) == []


def test_lstm_corner_cases():
    """Layer norm over one cell (zero variance: the variance guard), extreme cell scales, tight
    clips, peephole with a projection narrower than the cell (the reference's n_output stride)."""
    rng = np.random.default_rng(13)
    cases = [
        lstm_model(rng, layer_norm=True, n_cell=1, time_major=True),
        lstm_model(rng, layer_norm=True, n_cell=1, cifg=True, peephole=True),
        lstm_model(rng, layer_norm=True, n_cell=2, projection=True, n_output=1),
        lstm_model(rng, cell_log2=-15, steps=5, cell_clip=0.4),
        lstm_model(rng, cell_log2=-9, steps=5, peephole=True),
        lstm_model(rng, cell_log2=-9, steps=5, cell_clip=20.0, time_major=True, batches=3),
        lstm_model(rng, projection=True, peephole=True, n_cell=9, n_output=3, time_major=True, batches=3),
        lstm_model(rng, projection=True, peephole=True, cifg=True, n_cell=6, n_output=6, proj_clip=0.05),
        lstm_model(rng, projection=True, layer_norm=True, peephole=True, cifg=True, time_major=True, batches=2,
                   cell_clip=1.0, proj_clip=0.2),
        lstm_model(rng, steps=1, batches=1, n_input=1, n_cell=1),
    ]
    assert check_cases(cases, seed=12) == []


def _zero_point_reset(m):
    """Make a compiled model's reset fill int8 state with its zero point, as TFLite's
    ResetVariableTensor does (for when the code generator does not do it yet)."""
    for t, off in m.tensor_offsets.items():
        tt = m.graph.tensors[t]
        if tt.is_variable and tt.dtype == "int8" and tt.zero_point:
            m.source = m.source.replace(f"memset({m.prefix}_arena + {off}, 0, {tt.nbytes}UL);",
                                        f"memset({m.prefix}_arena + {off}, {tt.zero_point}, {tt.nbytes}UL);")
    return m


def _run_vs_reference(models: list[bytes], samples: int, seed: int, emulate_reset: bool) -> list[str]:
    from tinydeploy.compile.compiler import compile_graph
    from tinydeploy.compile.tflite.reader import parse_model
    from tinydeploy.evaluate.data import random_inputs
    from tinydeploy.evaluate.reference import reference_outputs
    from tinydeploy.target.host import build_host

    rng = np.random.default_rng(seed)
    compiled = []
    for i, model in enumerate(models):
        m = compile_graph(parse_model(model, name=f"case{i}"), prefix=f"case{i}")
        compiled.append(_zero_point_reset(m) if emulate_reset else m)
    exe = build_host(compiled)
    failures = []
    for i, (model, m) in enumerate(zip(models, compiled)):
        xs = random_inputs(m.graph, samples, rng)
        for k, (a, b) in enumerate(zip(exe.run(i, xs), reference_outputs(model, xs))):
            if not np.array_equal(a.reshape(b.shape), b):
                failures.append(f"model {i} output {k}: {int((a.reshape(b.shape) != b).sum())} of {b.size} differ")
    return failures


def test_lstm_nonzero_state_zero_point_kernel():
    """Output state with a nonzero zero point (what the converter produces), reset as TFLite does."""
    rng = np.random.default_rng(31)
    models = [lstm_model(rng, state_zp=None, projection=bool(k % 2), time_major=bool(k % 3 == 0),
                         peephole=bool(k % 4 == 1), layer_norm=bool(k % 5 == 2)).model for k in range(12)]
    assert _run_vs_reference(models, samples=4, seed=6, emulate_reset=True) == []


def test_lstm_nonzero_state_zero_point():
    """End to end: TFLite's ResetVariableTensor fills an int8 variable tensor with its zero point."""
    rng = np.random.default_rng(31)
    cases = [lstm_model(rng, state_zp=None, projection=bool(k % 2), time_major=bool(k % 3 == 0))
             for k in range(10)]
    assert check_cases(cases, seed=6) == []


CONVERTER_MODEL = Path(__file__).resolve().parents[2] / "data" / "lstm_int8.tflite"


def test_converter_lstm_model_kernel():
    """The TFLite converter's own int8 LSTM (+ Dense), tests/models/make_lstm_model.py."""
    assert _run_vs_reference([CONVERTER_MODEL.read_bytes()], samples=16, seed=8, emulate_reset=True) == []


def test_converter_lstm_model():
    assert _run_vs_reference([CONVERTER_MODEL.read_bytes()], samples=16, seed=8, emulate_reset=False) == []


def test_lstm_check_rejects():
    from tinydeploy.compile.ops import lowering_for
    from tinydeploy.compile.tflite.reader import parse_model

    def reason(model: bytes) -> str | None:
        g = parse_model(model)
        return lowering_for("UNIDIRECTIONAL_SEQUENCE_LSTM").check(g.ops[0], g)

    rng = np.random.default_rng(1)
    assert reason(lstm_model(rng).model) is None
    assert "power of two" in reason(lstm_model(rng, cell_scale=3e-4).model)
    assert "2^-16" in reason(lstm_model(rng, cell_log2=-16).model)
    assert "LiteRT computes tanh(cell) only for 2^-15 .. 2^-9" in reason(lstm_model(rng, cell_log2=-8).model)


def test_lstm_saturated_gates_long_sequences():
    """Weights 3-30x larger than the other tests' (gate pre-activations far past Q3.12's +-8, the
    int16 accumulators saturate), sequences up to 60 steps, cell clips and every variant."""
    rng = np.random.default_rng(23)
    cases = []
    for k in range(16):
        flags = {f: bool(rng.integers(0, 2)) for f in ("cifg", "peephole", "layer_norm", "projection", "time_major")}
        case = lstm_model(rng, gain=float(rng.choice([3.0, 10.0, 30.0])), steps=int(rng.integers(20, 61)),
                          state_zp=None, cell_clip=float(rng.choice([0.0, 1.0, 10.0])),
                          proj_clip=0.3 if flags["projection"] and k % 2 else 0.0, **flags)
        case.samples = 6
        cases.append(case)
    assert check_cases(cases, seed=9) == []
