"""ARG_MAX / ARG_MIN vs LiteRT BUILTIN_REF: random shapes and axes, int32/int64 outputs, ties."""
import numpy as np

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases

_OUT_TYPES = {"int32": 2, "int64": 4}  # TensorType codes


def arg_model(kind, shape, axis, axis_dtype, out_dtype, in_dtype="int8", axis_const=True):
    rank = len(shape)
    a = axis % rank
    out_shape = [d for i, d in enumerate(shape) if i != a]
    b = ModelBuilder()
    x = b.tensor(shape, in_dtype, 0.1, 3)
    ax = b.tensor([1], axis_dtype, data=np.array([axis])) if axis_const else b.tensor([1], axis_dtype)
    y = b.tensor(out_shape, out_dtype)
    opt = "ArgMaxOptions" if kind == "ARG_MAX" else "ArgMinOptions"
    b.op(kind, [x, ax], [y], options(opt, outputType=_OUT_TYPES[out_dtype]))
    return b.build([x] if axis_const else [x, ax], [y])


def arg_case(rng):
    rank = int(rng.integers(1, 5))
    shape = [int(rng.integers(1, 7)) for _ in range(rank)]
    axis = int(rng.integers(-rank, rank))
    if rng.random() < 0.2:
        shape[axis % rank] = int(rng.integers(100, 400))  # long axes: ties on the extremes are likely
    kind = str(rng.choice(["ARG_MAX", "ARG_MIN"]))
    adt, odt = str(rng.choice(["int32", "int64"])), str(rng.choice(["int32", "int64"]))
    return arg_model(kind, shape, axis, adt, odt), f"{kind} {shape} axis{axis} {adt}->{odt}"


def test_arg_minmax_random():
    rng = np.random.default_rng(41)
    cases = [Case(*arg_case(rng)) for _ in range(40)]
    assert check_cases(cases, seed=4) == []


def test_arg_minmax_ties():
    """Inputs drawn from 3 values: many ties, the first index must win."""
    rng = np.random.default_rng(42)
    models = [arg_case(rng)[0] for _ in range(10)]
    compiled = [compile_graph(parse_model(m, name=f"case{i}"), prefix=f"case{i}") for i, m in enumerate(models)]
    exe = build_host(compiled)
    for i, (m, cm) in enumerate(zip(models, compiled)):
        t = cm.graph.tensors[cm.graph.inputs[0]]
        xs = [rng.integers(-1, 2, (4,) + tuple(t.shape)).astype(np.int8)]
        ref = reference_outputs(m, xs)
        ours = exe.run(i, xs)
        assert np.array_equal(ours[0].reshape(ref[0].shape), ref[0]), f"case {i}"


def _check(model: bytes):
    g = parse_model(model)
    return lowering_for(g.ops[0].kind).check(g.ops[0], g)


def test_arg_minmax_rejects():
    assert "int8" in _check(arg_model("ARG_MAX", [3, 4], 1, "int32", "int32", in_dtype="int16"))
    assert "constant" in _check(arg_model("ARG_MIN", [3, 4], 1, "int32", "int32", axis_const=False))
    assert _check(arg_model("ARG_MIN", [3, 4], -1, "int64", "int64")) is None
