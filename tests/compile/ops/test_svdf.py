"""SVDF (fully integer) vs LiteRT BUILTIN_REF on random shapes and quantization (seeded).

Each model chains `steps` SVDF ops that share ONE variable state tensor, each fed by its own
graph input: one invoke then runs `steps` time steps, so the state shifting is exercised even
though the harness resets the state before every sample.
"""
import numpy as np

from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def svdf_case(rng: np.random.Generator, steps: int | None = None) -> Case:
    batches, input_size = int(rng.integers(1, 4)), int(rng.integers(1, 24))
    rank, units, memory = int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
    steps = steps if steps is not None else int(rng.integers(1, min(memory, 5) + 2))
    filters = rank * units
    with_bias = bool(rng.integers(0, 4))
    act = 1  # LiteRT accepts only RELU for the integer SVDF (and never applies it)
    in_scale, wf_scale = float(rng.uniform(0.005, 0.05)), float(rng.uniform(0.002, 0.02))
    # effective scale 1 = in * wf / state: pick it so the state is mostly in range, sometimes saturating
    eff1 = float(np.exp(rng.uniform(np.log(2e-3), np.log(0.6))))
    state_scale = in_scale * wf_scale / eff1
    wt_scale = float(rng.uniform(1e-5, 1e-3))
    acc_mag = 3000.0 * 12000.0 * np.sqrt(memory * rank)
    out_scale = float(state_scale * wt_scale * acc_mag / rng.uniform(20, 400))
    in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))

    b = ModelBuilder()
    wf = b.tensor([filters, input_size], "int8", wf_scale, 0, data=rng.integers(-127, 128, (filters, input_size)))
    wt = b.tensor([filters, memory], "int16", wt_scale, 0,
                  data=rng.integers(-32767, 32768, (filters, memory)))
    bias = b.tensor([units], "int32", state_scale * wt_scale, 0,
                    data=rng.integers(-2_000_000, 2_000_000, units)) if with_bias else -1
    state = b.tensor([batches, filters * memory], "int16", state_scale, 0, variable=True)
    xs, ys = [], []
    for _ in range(steps):
        x = b.tensor([batches, input_size], "int8", in_scale, in_zp)
        y = b.tensor([batches, units], "int8", out_scale, out_zp)
        b.op("SVDF", [x, wf, wt, bias, state], [y], options("SVDFOptions", rank=rank, fusedActivationFunction=act))
        xs.append(x)
        ys.append(y)
    label = (f"svdf b{batches} in{input_size} rank{rank} units{units} mem{memory} steps{steps} "
             f"bias{with_bias} eff1={eff1:.3g}")
    return Case(b.build(xs, ys), label)


def svdf_crafted(rng: np.random.Generator, kind: str) -> Case:
    """Corner cases: 'requant' = small accumulators with large effective scales, so both
    requantizations round at fine granularity; 'wrap' = saturated state times large time weights
    of one sign, so the int32 time accumulator wraps around like the reference's."""
    batches, input_size, units, memory = int(rng.integers(1, 3)), int(rng.integers(4, 12)), 5, int(rng.integers(2, 6))
    rank = 1 if kind == "requant" else int(rng.integers(1, 3))
    filters = units * rank
    in_scale, wf_scale = 0.02, 0.01
    eff1 = float(rng.uniform(0.001, 0.004)) if kind == "requant" else float(rng.uniform(2.0, 8.0))
    state_scale = in_scale * wf_scale / eff1
    wt_scale = 0.001
    if kind == "requant":
        wt_data = rng.integers(-3, 4, (filters, memory))
        out_scale = state_scale * wt_scale / float(rng.uniform(0.05, 0.5))
    else:
        wt_data = rng.choice([-1, 1], (filters, 1)) * rng.integers(30000, 32768, (filters, memory))
        out_scale = state_scale * wt_scale * 2.0**31 / 100.0
    b = ModelBuilder()
    wf = b.tensor([filters, input_size], "int8", wf_scale, 0, data=rng.integers(-127, 128, (filters, input_size)))
    wt = b.tensor([filters, memory], "int16", wt_scale, 0, data=wt_data)
    state = b.tensor([batches, filters * memory], "int16", state_scale, 0, variable=True)
    xs, ys = [], []
    for _ in range(memory + 1):
        x = b.tensor([batches, input_size], "int8", in_scale, int(rng.integers(-20, 20)))
        y = b.tensor([batches, units], "int8", out_scale, int(rng.integers(-20, 20)))
        b.op("SVDF", [x, wf, wt, -1, state], [y], options("SVDFOptions", rank=rank, fusedActivationFunction=1))
        xs.append(x)
        ys.append(y)
    return Case(b.build(xs, ys), f"svdf {kind} b{batches} in{input_size} rank{rank} mem{memory}", samples=8)


def test_svdf_random():
    rng = np.random.default_rng(2024)
    cases = [svdf_case(rng) for _ in range(60)]
    assert check_cases(cases, seed=3) == []


def test_svdf_long_memory_shift():
    """More steps than memory slots: the oldest activations must fall out of the state."""
    rng = np.random.default_rng(7)
    cases = [svdf_case(rng, steps=int(rng.integers(4, 9))) for _ in range(12)]
    assert check_cases(cases, seed=5) == []


def test_svdf_corner_cases():
    rng = np.random.default_rng(11)
    cases = [svdf_crafted(rng, kind) for kind in ["requant"] * 10 + ["wrap"] * 10]
    assert check_cases(cases, seed=9) == []


def test_svdf_check_rejects():
    from tinydeploy.compile.ops import lowering_for
    from tinydeploy.compile.tflite.reader import parse_model

    def model(state_dtype="int16", wt_dtype="int16", act=1, variable=True):
        b = ModelBuilder()
        wf = b.tensor([4, 3], "int8", 0.01, 0, data=np.ones((4, 3)))
        wt = b.tensor([4, 2], wt_dtype, 0.01, 0, data=np.ones((4, 2)))
        st = b.tensor([1, 8], state_dtype, 0.01, 0, variable=variable)
        x = b.tensor([1, 3], "int8", 0.1, 0)
        y = b.tensor([1, 2], "int8", 0.1, 0)
        b.op("SVDF", [x, wf, wt, -1, st], [y], options("SVDFOptions", rank=2, fusedActivationFunction=act))
        g = parse_model(b.build([x], [y]))
        return lowering_for("SVDF").check(g.ops[0], g)

    assert model() is None
    assert "int16" in model(state_dtype="int8", wt_dtype="int8")
    assert "activation" in model(act=3)
    assert "variable" in model(variable=False)
