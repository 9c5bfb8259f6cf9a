"""ADD / SUB vs LiteRT BUILTIN_REF: int8 and int16 (general and power-of-two scales), broadcasting
up to 6-D, fused activations, constant operands (seeded random cases), and every pair of int8
values (which pins the two-step rounding LiteRT uses)."""
import numpy as np
import pytest
from op_cases import all_pairs_case, broadcast_shapes, log_uniform, two_operands

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.ops.add_sub import broadcast_plan
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_groups


def add_case(rng: np.random.Generator, kind: str, dtype: str, pot: bool = False, max_rank: int = 5) -> Case:
    out_shape, sa, sb = broadcast_shapes(rng, max_rank)
    if pot:
        # one input on the output scale, the other on a smaller power-of-two scale
        lo = int(rng.integers(-15, -5))
        small = lo - int(rng.integers(0, 5))
        if rng.random() < 0.05:
            small = lo - int(rng.integers(16, 19))  # exercise the int16 rounding-shift quirk
        scales = [2.0 ** lo, 2.0 ** small, 2.0 ** lo]
        if rng.random() < 0.5:
            scales[0], scales[1] = scales[1], scales[0]
        if kind == "ADD":
            sb = list(sa)  # the power-of-two ADD path has no broadcasting
            out_shape = list(sa)
        zps = [0, 0, 0]
    else:
        s1, s2 = log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)
        if rng.random() < 0.2:
            s2 = s1
        so = log_uniform(rng, 0.3, 3.0) * max(s1, s2)
        scales = [s1, s2, so]
        if dtype == "int8":
            zps = [int(rng.integers(-128, 128)) for _ in range(3)]
        else:
            zps = [0, 0, 0]
    act = int(rng.choice([0, 0, 1, 2, 3]))
    b = ModelBuilder()
    ids, inputs, const_in = two_operands(rng, b, dtype, (sa, sb), scales, zps)
    y = b.tensor(out_shape, dtype, scales[2], zps[2])
    opt_name = "AddOptions" if kind == "ADD" else "SubOptions"
    opts = options(opt_name, fusedActivationFunction=act)
    if dtype == "int16":
        opts.potScaleInt16 = pot or bool(rng.random() < 0.3)
    b.op(kind, ids, [y], opts)
    label = (f"{kind} {dtype} pot{pot} {sa}x{sb}->{out_shape} act{act} const{const_in} "
             f"scales {scales} zps {zps}")
    return Case(b.build(inputs, [y]), label)


def all_pairs(rng: np.random.Generator, kind: str, dtype: str, act: int = 0):
    """Every pair of int8 values (or 256 random int16 values each)."""
    if dtype == "int8":
        s1, s2 = log_uniform(rng, 0.002, 0.5), log_uniform(rng, 0.002, 0.5)
        zps = [int(rng.integers(-128, 128)) for _ in range(3)]
    else:
        s1, s2 = log_uniform(rng, 1e-5, 1e-2), log_uniform(rng, 1e-5, 1e-2)
        zps = [0, 0, 0]
    so = max(s1, s2) * log_uniform(rng, 0.3, 3.0)
    opts = options(kind.title() + "Options", fusedActivationFunction=act)
    if dtype == "int16":
        opts.potScaleInt16 = False
    return all_pairs_case(rng, kind, dtype, [s1, s2, so], zps, opts)


def chain_model() -> bytes:
    """RELU -> ADD (broadcast input) -> MUL (constant) -> LEAKY_RELU -> QUANTIZE, all int8."""
    b = ModelBuilder()
    x = b.tensor([2, 5, 6], "int8", 0.05, 3)
    w = b.tensor([6], "int8", 0.04, -7)
    r = b.tensor([2, 5, 6], "int8", 0.05, -128)
    a = b.tensor([2, 5, 6], "int8", 0.08, -20)
    c = b.tensor([5, 1], "int8", 0.02, 5, data=np.arange(-30, 20, 10).reshape(5, 1))
    m = b.tensor([2, 5, 6], "int8", 0.06, 4)
    lk = b.tensor([2, 5, 6], "int8", 0.05, 10)
    q = b.tensor([2, 5, 6], "int8", 0.1, -3)
    b.op("RELU", [x], [r])
    b.op("ADD", [r, w], [a], options("AddOptions", fusedActivationFunction=0))
    b.op("MUL", [a, c], [m], options("MulOptions", fusedActivationFunction=0))
    b.op("LEAKY_RELU", [m], [lk], options("LeakyReluOptions", alpha=0.1))
    b.op("QUANTIZE", [lk], [q])
    return b.build([x, w], [q])


@pytest.fixture(scope="module")
def results():
    groups = {}
    for kind, seed in (("ADD", 11), ("SUB", 12)):
        rng = np.random.default_rng(seed)
        groups[f"{kind} int8"] = [(add_case(rng, kind, "int8", max_rank=6 if i % 8 == 0 else 5), None)
                                  for i in range(40)]
    for kind, seed in (("ADD", 21), ("SUB", 22)):
        rng = np.random.default_rng(seed)
        groups[f"{kind} int16"] = [(add_case(rng, kind, "int16", pot=(i % 2 == 1)), None) for i in range(30)]
    rng = np.random.default_rng(13)
    groups["all pairs"] = [all_pairs(rng, kind, dtype, act=int(rng.choice([0, 1, 3])))
                           for kind in ("ADD", "SUB") for dtype in ("int8", "int16") for _ in range(3)]
    groups["chain"] = [(Case(chain_model(), "elementwise chain", samples=8), None)]
    return check_groups(groups, seed=3)


def test_broadcast_plan():
    assert broadcast_plan((2, 3), (2, 3), (2, 3)) == ([6], [1], [1])
    assert broadcast_plan((2, 3), (3,), (2, 3)) == ([2, 3], [3, 1], [0, 1])
    assert broadcast_plan((2, 1, 4), (1, 5, 1), (2, 5, 4)) == ([2, 5, 4], [4, 0, 1], [0, 1, 0])
    assert broadcast_plan((), (4, 1), (4, 1)) == ([4], [0], [1])
    assert broadcast_plan((2, 3), (4,), (2, 3)) is None


@pytest.mark.parametrize("group", ["ADD int8", "SUB int8", "ADD int16", "SUB int16"])
def test_add_sub_random(results, group):
    """Random shapes (broadcasting up to 6-D), quantization, activations, constant operands."""
    assert results[group] == []


def test_add_sub_all_pairs(results):
    """Every pair of int8 values: pins the two-step rounding of LiteRT's ADD/SUB."""
    assert results["all pairs"] == []


def test_elementwise_chain_in_place(results):
    """A chain of elementwise ops that the planner runs in place (output over input 0)."""
    cm = compile_graph(parse_model(chain_model(), name="chain"), prefix="chain")
    assert len(cm.plan.inplace_ops) >= 3, cm.plan.inplace_ops
    assert results["chain"] == []


def test_add_rejects_pot_broadcast():
    b = ModelBuilder()
    x = b.tensor([2, 3], "int16", 2.0 ** -10, 0)
    w = b.tensor([3], "int16", 2.0 ** -12, 0)
    y = b.tensor([2, 3], "int16", 2.0 ** -10, 0)
    b.op("ADD", [x, w], [y], options("AddOptions", potScaleInt16=True))
    g = parse_model(b.build([x, w], [y]))
    assert "broadcast" in lowering_for("ADD").check(g.ops[0], g)
