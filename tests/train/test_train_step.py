"""The generated training step (<p>_train_step, host gcc) against the Python reference on whole models,
bit for bit; SGD lowers the loss; the tuned parameters written into a .tflite run in LiteRT and in our
inference C bit-exactly."""
import numpy as np
import pytest
from conftest import ROOT
from train_cases import mobile_like

from tinydeploy.compile import compile_graph, parse_model
from tinydeploy.evaluate import reference_outputs
from tinydeploy.target import build_host
from tinydeploy.train import HostTrainer, ReferenceTrainer, build_train_graph, generate_train_c, replace_params

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"
SPEC = "bias:all,fc:last,conv:last2"


@pytest.fixture(scope="module")
def digits():
    data = np.load(ROOT / "models" / "digits_test.npz")
    return DIGITS.read_bytes(), data["x_int8"], (data["y"] + 1) % 10  # shifted labels: a new task


@pytest.fixture(scope="module")
def digits_c(digits):
    """Every gradient kept to the end of the step (no buffer reuse), so that the tests can read them all."""
    return generate_train_c(build_train_graph(parse_model(digits[0], "dg"), SPEC), "dg", momentum=0.9,
                            keep_grads=True)


@pytest.fixture(scope="module")
def digits_planned(digits):
    """The planned buffer: gradients share bytes with each other and with dead forward activations."""
    return generate_train_c(build_train_graph(parse_model(digits[0], "dg"), SPEC), "dg", momentum=0.9)


def assert_same_state(c: HostTrainer, ref: ReferenceTrainer, label: str) -> None:
    for t, v in c.values().items():
        np.testing.assert_array_equal(v, ref.values[t], err_msg=f"{label}: parameter {t}")
    for t, m in c.masters().items():
        np.testing.assert_array_equal(m.view(np.int32), ref.master[t].view(np.int32), err_msg=f"{label}: master {t}")
    for t in ref.last_grads:
        got, e = c.grad(t)
        assert e == ref.last_grads[t][1], f"{label}: exponent of tensor {t}'s gradient"
        np.testing.assert_array_equal(got, ref.last_grads[t][0].ravel(), err_msg=f"{label}: gradient of {t}")


def run_both(model: bytes, tc, spec: str, xs, ys, lr: float, momentum: float, planned=None) -> list[int]:
    """Steps of the C (tc: keep_grads) and of the reference, the whole state compared after each; `planned`
    (the same step in the planned buffer) must reach the same parameters and masters."""
    c, ref = HostTrainer(tc), ReferenceTrainer(model, spec, momentum=momentum)
    p = HostTrainer(planned) if planned is not None else None
    moved = []
    try:
        for i, (x, y) in enumerate(zip(xs, ys)):
            lc, lref = c.step(x, int(y), lr), ref.step(x, int(y), lr)
            assert abs(lc - lref) <= 1e-4 * max(1.0, lref), (i, lc, lref)
            assert_same_state(c, ref, f"step {i}")
            moved.append(sum(int(np.any(m != 0)) for m, _ in ref.last_grads.values()))
            if p is not None:
                assert p.step(x, int(y), lr) == lc
                for t, v in p.values().items():
                    np.testing.assert_array_equal(v, ref.values[t], err_msg=f"planned: step {i}, parameter {t}")
                for t, m in p.masters().items():
                    np.testing.assert_array_equal(m.view(np.int32), ref.master[t].view(np.int32))
    finally:
        c.close()
        if p is not None:
            p.close()
    return moved


def test_digits_step_matches_reference(digits, digits_c):
    """Through FC, RESHAPE, MAX_POOL, CONV_2D and DEPTHWISE_CONV_2D (weights) and the first conv (bias only)."""
    model, x, y = digits
    tg = digits_c.train
    assert [b.op for b in tg.backward] == [5, 4, 3, 2, 1, 0]
    assert tg.backward[-1].grad_inputs == [] and not tg.backward[-1].weights  # stops at the earliest layer
    moved = run_both(model, digits_c, SPEC, x[:8], y[:8], 0.002, 0.9)
    assert max(moved) == len(tg.grads)  # gradients reached every tensor on the path


def test_mobile_like_step_matches_reference():
    """ADD (a gradient summed from two consumers), MEAN, AVERAGE_POOL_2D, RESHAPE, RELU6, depthwise x2."""
    model = mobile_like(0)
    spec = "bias:all,fc:last,conv:last3"
    tg = build_train_graph(parse_model(model, "mb"), spec)
    kinds = [b.kind for b in tg.backward]
    assert kinds == ["FULLY_CONNECTED", "RESHAPE", "MEAN", "AVERAGE_POOL_2D", "ADD", "CONV_2D", "CONV_2D",
                     "DEPTHWISE_CONV_2D", "CONV_2D"]
    tc = generate_train_c(tg, "mb", momentum=0.5, keep_grads=True)
    planned = generate_train_c(tg, "mb", momentum=0.5)
    assert planned.buffer_bytes < tc.buffer_bytes
    rng = np.random.default_rng(5)
    xs = rng.integers(-128, 128, (6, 1, 8, 8, 3)).astype(np.int8)
    moved = run_both(model, tc, spec, xs, np.arange(6) % 5, 0.01, 0.5, planned)
    assert max(moved) >= len(tg.grads) - 1


def test_sgd_lowers_the_loss_and_the_tuned_model_deploys(digits, digits_c, digits_planned):
    """Four epochs on 20 samples in the planned buffer (the same numbers as without buffer reuse)."""
    model, x, y = digits
    xs, ys = x[:20], y[:20]
    plan = digits_planned.plan
    assert digits_planned.buffer_bytes < digits_c.buffer_bytes and plan.lower_bound_bytes <= plan.buffer_bytes
    c, kept = HostTrainer(digits_planned), HostTrainer(digits_c)
    try:
        losses = []
        for _ in range(4):
            losses.append(np.mean([c.step(xs[i], int(ys[i]), 0.002) for i in range(len(xs))]))
            [kept.step(xs[i], int(ys[i]), 0.002) for i in range(len(xs))]
        values = c.values()
        for t, v in kept.values().items():
            np.testing.assert_array_equal(values[t], v)
    finally:
        c.close()
        kept.close()
    assert losses[-1] < 0.25 * losses[0], losses
    tuned = replace_params(model, values)
    g0, g1 = parse_model(model), parse_model(tuned)
    for t in digits_c.train.params:  # scales fixed, values changed
        np.testing.assert_array_equal(g0.tensors[t].quant.scale, g1.tensors[t].quant.scale)
    assert any(not np.array_equal(g0.tensors[t].data, g1.tensors[t].data) for t in digits_c.train.params)
    before = reference_outputs(model, [xs])[0].reshape(len(xs), -1).argmax(1)
    after = reference_outputs(tuned, [xs])[0]
    assert (after.reshape(len(xs), -1).argmax(1) == ys).mean() > (before == ys).mean() + 0.3
    ours = build_host([compile_graph(g1, "tuned")]).run(0, [x[:60]])[0]
    np.testing.assert_array_equal(ours, reference_outputs(tuned, [x[:60]])[0])


def test_vww96_step_matches_reference():
    """The MobileNet-class VWW-96 (1x1 CONV_2D classifier after MEAN): biases of all 29 layers and the last
    two convolutions, one step through the whole network, bit for bit."""
    model = (ROOT / "models" / "vww96_int8.tflite").read_bytes()
    spec = "bias:all,conv:last2"
    tg = build_train_graph(parse_model(model, "vww"), spec)
    assert len(tg.backward) == 30 and {"MEAN", "DEPTHWISE_CONV_2D"} <= {b.kind for b in tg.backward}
    tc = generate_train_c(tg, "vww", momentum=0.9, keep_grads=True)
    x = np.random.default_rng(7).integers(-128, 128, (1, 96, 96, 3)).astype(np.int8)
    planned = generate_train_c(tg, "vww", momentum=0.9)
    assert planned.buffer_bytes < 0.55 * tc.buffer_bytes  # gradients in the bytes of dead activations
    moved = run_both(model, tc, spec, x, [1], 0.01, 0.9, planned)
    assert moved[0] > len(tg.grads) // 2


def test_a_share_of_channels_matches_reference():
    """conv:last2:25% and fc:last:40%: masters only for the leading output channels, the rest untouched."""
    model = mobile_like(1)
    spec = "bias:all,fc:last:40%,conv:last2:25%"
    tg = build_train_graph(parse_model(model, "mp"), spec)
    assert dict(tg.update.partial) == {2: 2, 3: 2, 8: 2}  # ceil(8 * 25%) and ceil(5 * 40%) output channels
    tc = generate_train_c(tg, "mp", keep_grads=True)
    xs = np.random.default_rng(3).integers(-128, 128, (4, 1, 8, 8, 3)).astype(np.int8)
    run_both(model, tc, spec, xs, [0, 1, 2, 3], 0.05, 0.0)
    ref = ReferenceTrainer(model, spec)
    for x, y in zip(xs, [0, 1, 2, 3]):
        ref.step(x, y, 0.05)
    g = parse_model(model)
    for op in (2, 3, 8):
        w = g.ops[op].inputs[1]
        k = tg.update.channels(op)
        np.testing.assert_array_equal(ref.values[w][k:], g.tensors[w].data[k:])
        assert not np.array_equal(ref.values[w][:k], g.tensors[w].data[:k])
