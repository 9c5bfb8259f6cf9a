"""QUANTIZE / DEQUANTIZE vs LiteRT BUILTIN_REF: float32 -> int8/int16/uint8 (per tensor and per
channel, inputs on rounding boundaries and beyond the int32 range), every integer requantization
TFLite accepts (all int8 / all int16 values), and int8/int16/uint8 -> float32 (bit-exact floats)."""
import numpy as np
import pytest
from op_cases import log_uniform, unary_model

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import ModelBuilder
from tinydeploy.testing.opcheck import Case, check_groups

NP = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "uint8": np.uint8, "float32": np.float32}


def random_zp(rng, dtype):
    if dtype == "int8":
        return int(rng.integers(-128, 128))
    if dtype == "uint8":
        return int(rng.integers(0, 256))
    if dtype == "int32":
        return int(rng.integers(-1000, 1000))
    return 0


def boundary_floats(rng, scale, n):
    """Floats near (k + 0.5) * scale, their float neighbours, zeros and huge values."""
    k = rng.integers(-40000, 40000, n).astype(np.float64)
    base = ((k + 0.5) * scale).astype(np.float32)
    near = np.concatenate([base, np.nextafter(base, np.float32(np.inf)), np.nextafter(base, np.float32(-np.inf))])
    extra = np.array([0.0, -0.0, 1e30, -1e30, 3e9 * scale, -3e9 * scale], dtype=np.float32)
    return np.concatenate([near, extra]).astype(np.float32)


def float_quantize_items(rng, n_cases):
    items = []
    for i in range(n_cases):
        dtype = ["int8", "int16", "uint8"][i % 3]
        per_channel = i % 4 == 3 and dtype != "uint8"
        if per_channel:
            shape = [int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(1, 5))]
            axis = int(rng.integers(0, 3))
            ch = shape[axis]
            scales = [log_uniform(rng, 1e-4, 0.1) for _ in range(ch)]
            zps = [random_zp(rng, dtype) for _ in range(ch)]
            model = unary_model("QUANTIZE", shape, "float32", None, dtype, (scales, zps), axis=axis)
            x = rng.normal(0, 3, [2] + shape).astype(np.float32)
            x[1] = (np.round(x[1] / 0.01) + 0.5) * 0.01
            label = f"QUANTIZE float32->{dtype} per-channel axis {axis} shape {shape}"
        else:
            scale = log_uniform(rng, 1e-4, 0.1) if dtype != "int16" else log_uniform(rng, 1e-5, 1e-3)
            zp = random_zp(rng, dtype)
            x = boundary_floats(rng, scale, 300)[None, :]
            model = unary_model("QUANTIZE", [x.shape[1]], "float32", None, dtype, (scale, zp))
            label = f"QUANTIZE float32->{dtype} scale {scale} zp {zp}"
        items.append((Case(model, label), [x]))
    return items


def all_values(dtype, rng):
    if dtype in ("int8", "uint8", "int16"):
        info = np.iinfo(NP[dtype])
        return np.arange(info.min, int(info.max) + 1).astype(NP[dtype])
    v = rng.integers(-(2 ** 31), 2 ** 31, 3000, dtype=np.int64)
    v[:8] = [-(2 ** 31), 2 ** 31 - 1, 0, 1, -1, 65535, -65536, 123456789]
    v[8:1500] = rng.integers(-200000, 200000, 1492)
    return v.astype(np.int32)


REQUANT = [("int8", "int8"), ("int8", "int16"), ("int8", "uint8"), ("uint8", "int8"), ("uint8", "uint8"),
           ("int16", "int8"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16")]


def requant_items(rng, repeats):
    items = []
    for r in range(repeats):
        for src, dst in REQUANT:
            s_in = log_uniform(rng, 1e-4, 0.1)
            ratio = {"int8": 1.0, "uint8": 1.0, "int16": 1 / 200.0, "int32": 1 / 50000.0}
            s_in *= ratio[src]
            s_out = s_in * log_uniform(rng, 0.3, 3.0) / ratio[src] * ratio[dst]
            if r == 0 and src in ("int8", "uint8") and dst in ("int8", "uint8"):
                s_out = s_in  # same scale (TFLite's int8 <-> uint8 xor fast path when zero points differ by 128)
            zi, zo = random_zp(rng, src), random_zp(rng, dst)
            if src == dst == "int16":
                zi = zo = 0
            if r == 0 and {src, dst} == {"int8", "uint8"}:
                zo = zi + 128 if dst == "uint8" else zi - 128
            x = all_values(src, rng)[None, :]
            model = unary_model("QUANTIZE", [x.shape[1]], src, (s_in, zi), dst, (s_out, zo))
            items.append((Case(model, f"QUANTIZE {src}->{dst} scales {s_in} -> {s_out} zps {zi} -> {zo}"), [x]))
    return items


def dequant_items(rng, repeats):
    items = []
    for r in range(repeats):
        for src in ("int8", "int16", "uint8"):
            scale = log_uniform(rng, 1e-6, 10.0)
            zp = random_zp(rng, src)
            x = all_values(src, rng)[None, :]
            model = unary_model("DEQUANTIZE", [x.shape[1]], src, (scale, zp), "float32", None)
            items.append((Case(model, f"DEQUANTIZE {src} scale {scale} zp {zp}"), [x]))
        shape = [int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(1, 5))]
        axis = int(rng.integers(0, 3))
        scales = [log_uniform(rng, 1e-4, 1.0) for _ in range(shape[axis])]
        zps = [random_zp(rng, "int8") for _ in range(shape[axis])]
        model = unary_model("DEQUANTIZE", shape, "int8", (scales, zps), "float32", None, axis=axis)
        x = rng.integers(-128, 128, [3] + shape).astype(np.int8)
        items.append((Case(model, f"DEQUANTIZE int8 per-channel axis {axis} shape {shape}"), [x]))
    return items


def random_shape_cases(rng):
    """Float -> int through the ordinary harness inputs (random normal), several shapes and types."""
    cases = []
    for i in range(12):
        dtype = ["int8", "int16", "uint8"][i % 3]
        shape = [int(d) for d in rng.integers(1, 5, int(rng.integers(1, 5)))]
        scale = log_uniform(rng, 1e-3, 0.1) if dtype != "int16" else log_uniform(rng, 1e-4, 1e-3)
        model = unary_model("QUANTIZE", shape, "float32", None, dtype, (scale, random_zp(rng, dtype)))
        cases.append((Case(model, f"QUANTIZE float32->{dtype} {shape}"), None))
    return cases


def pipeline_model() -> bytes:
    """float -> QUANTIZE -> ADD (const) -> MUL -> MAXIMUM (const) -> RELU6 -> LEAKY_RELU -> HARD_SWISH
    -> QUANTIZE to int16 -> RELU -> DEQUANTIZE -> float, mostly run in place by the planner."""
    from tinydeploy.testing.builder import options

    b = ModelBuilder()
    shape = [1, 4, 4, 3]
    f = b.tensor(shape, "float32")
    q = b.tensor(shape, "int8", 0.05, 2)
    c = b.tensor([3], "int8", 0.03, -4, data=np.array([5, -100, 90]))
    a = b.tensor(shape, "int8", 0.06, -5)
    m, mx = b.tensor(shape, "int8", 0.07, 1), b.tensor(shape, "int8", 0.07, 1)
    r6, lk = b.tensor(shape, "int8", 0.03, -128), b.tensor(shape, "int8", 0.03, 0)
    hs = b.tensor(shape, "int8", 0.02, -20)
    s16, r16 = b.tensor(shape, "int16", 0.0001, 0), b.tensor(shape, "int16", 0.0001, 0)
    out = b.tensor(shape, "float32")
    b.op("QUANTIZE", [f], [q])
    b.op("ADD", [q, c], [a], options("AddOptions", fusedActivationFunction=1))
    b.op("MUL", [a, q], [m], options("MulOptions"))
    b.op("MAXIMUM", [m, c], [mx])
    b.op("RELU6", [mx], [r6])
    b.op("LEAKY_RELU", [r6], [lk], options("LeakyReluOptions", alpha=0.2))
    b.op("HARD_SWISH", [lk], [hs])
    b.op("QUANTIZE", [hs], [s16])
    b.op("RELU", [s16], [r16])
    b.op("DEQUANTIZE", [r16], [out])
    return b.build([f], [out])


@pytest.fixture(scope="module")
def results():
    return check_groups({
        "from float": float_quantize_items(np.random.default_rng(51), 24),
        "random shapes": random_shape_cases(np.random.default_rng(52)),
        "requantize": requant_items(np.random.default_rng(53), 3),
        "dequantize": dequant_items(np.random.default_rng(54), 5),
        "pipeline": [(Case(pipeline_model(), "float pipeline", samples=10), None)],
    }, seed=8)


def test_quantize_from_float(results):
    """Per tensor on rounding boundaries and beyond the int32 range, and per channel."""
    assert results["from float"] == []


def test_quantize_random_shapes(results):
    assert results["random shapes"] == []


def test_requantize(results):
    """Every TFLite integer requantization on every int8 / int16 value."""
    assert results["requantize"] == []


def test_dequantize(results):
    """Every int8 / int16 / uint8 value, per tensor, and int8 per channel; floats bit for bit."""
    assert results["dequantize"] == []


def test_float_pipeline(results):
    """QUANTIZE, the elementwise ops and DEQUANTIZE chained from float input to float output."""
    g = parse_model(pipeline_model(), name="pipe")
    assert len(compile_graph(g, prefix="pipe").plan.inplace_ops) >= 4
    assert results["pipeline"] == []


@pytest.mark.parametrize("src,dst", [("int16", "int16"), ("float32", "int32")])
def test_quantize_rejects(src, dst):
    model = unary_model("QUANTIZE", [4], src, None if src == "float32" else (0.1, 3), dst,
                   (0.1, 3 if dst == "int16" else 0))
    g = parse_model(model)
    assert lowering_for("QUANTIZE").check(g.ops[0], g)
