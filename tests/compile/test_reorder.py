"""Operator reordering: a branchy graph given in a bad order gets a smaller arena, same outputs."""
import numpy as np

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host
from tinydeploy.testing.builder import ModelBuilder, options


def two_branch_model() -> bytes:
    """x -> big1 -> small1 and x -> big2 -> small2, listed interleaved (both big tensors live at once)."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor([4, 16], "int8", 0.05, 0)

    def fc(src, n_in, n_out):
        w = b.tensor([n_out, n_in], "int8", 0.02, 0, data=rng.integers(-127, 128, (n_out, n_in)))
        y = b.tensor([4, n_out], "int8", 0.2, -3)
        return w, y

    w1, big1 = fc(x, 16, 256)
    w2, big2 = fc(x, 16, 256)
    w3, small1 = fc(big1, 256, 8)
    w4, small2 = fc(big2, 256, 8)
    opt = options("FullyConnectedOptions")
    b.op("FULLY_CONNECTED", [x, w1, -1], [big1], opt)
    b.op("FULLY_CONNECTED", [x, w2, -1], [big2], opt)
    b.op("FULLY_CONNECTED", [big1, w3, -1], [small1], opt)
    b.op("FULLY_CONNECTED", [big2, w4, -1], [small2], opt)
    return b.build([x], [small1, small2])


def test_reorder_lowers_peak_and_stays_exact():
    model = two_branch_model()
    plain = compile_graph(parse_model(model, "plain"), options=PlanOptions(reorder=False))
    better = compile_graph(parse_model(model, "better"), options=PlanOptions(reorder=True))
    assert [op.kind for op in better.graph.ops] == ["FULLY_CONNECTED"] * 4
    assert better.arena_bytes < plain.arena_bytes
    assert better.arena_bytes <= plain.arena_bytes - 4 * 256 + 32  # big2 no longer beside big1
    xs = random_inputs(plain.graph, 5, np.random.default_rng(1))
    ref = reference_outputs(model, xs)
    exe = build_host([plain, better])
    for case in (0, 1):
        for a, r in zip(exe.run(case, xs), ref):
            assert np.array_equal(a, r)
