"""RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LEAKY_RELU and HARD_SWISH vs LiteRT BUILTIN_REF: every
int8 value (every int16 value for the int16 variants) under random quantization, scales where
float and double multiplier arithmetic disagree, plus randomly shaped cases with random inputs."""
import numpy as np
import pytest
from op_cases import log_uniform, unary_model

from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.quant import quantize_multiplier
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.testing.builder import options
from tinydeploy.testing.opcheck import Case, check_groups


def float_sensitive_ratio(rng, lo, hi):
    """(s_in, s_out) whose multiplier differs between float32 and double division."""
    for _ in range(100000):
        s_in = float(np.float32(log_uniform(rng, lo, hi)))
        s_out = float(np.float32(s_in * log_uniform(rng, 0.2, 5.0)))
        if quantize_multiplier(s_in / s_out) != quantize_multiplier(float(np.float32(s_in) / np.float32(s_out))):
            return s_in, s_out
    raise AssertionError("no float-sensitive scales found")


def quant_pair(rng, kind, dtype, tricky=False):
    zp = (lambda: int(rng.integers(-128, 128))) if dtype == "int8" else (lambda: 0)
    if kind == "HARD_SWISH":
        s_in = log_uniform(rng, 0.002, 0.3)
        s_out = s_in * log_uniform(rng, 0.05, 3.0)
    elif tricky:
        s_in, s_out = float_sensitive_ratio(rng, 0.002, 0.3)
    else:
        s_in = log_uniform(rng, 0.002, 0.3) if dtype == "int8" else log_uniform(rng, 1e-5, 1e-3)
        s_out = s_in * log_uniform(rng, 0.2, 5.0) if rng.random() < 0.8 else s_in
    return (s_in, zp()), (s_out, zp())


def activation_options(rng, kind):
    if kind != "LEAKY_RELU":
        return None
    alpha = float(rng.choice([0.1, 0.2, 0.01, 0.0, -0.3, 1.5, float(rng.uniform(0.0, 1.0))]))
    return options("LeakyReluOptions", alpha=alpha)


def every_value_items(rng, kind, dtype, n, tricky_every=0):
    items = []
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    x = np.arange(info.min, int(info.max) + 1).astype(info.dtype)[None, :]
    for i in range(n):
        q_in, q_out = quant_pair(rng, kind, dtype, tricky=bool(tricky_every) and i % tricky_every == 0)
        opts = activation_options(rng, kind)
        alpha = f" alpha {opts.alpha}" if opts is not None else ""
        model = unary_model(kind, [x.shape[1]], dtype, q_in, dtype, q_out, opts)
        items.append((Case(model, f"{kind} {dtype} in {q_in} out {q_out}{alpha}"), [x]))
    return items


KINDS_INT8 = ["RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "HARD_SWISH"]
KINDS_INT16 = ["RELU", "RELU6", "LEAKY_RELU"]


def random_shape_cases(rng):
    cases = []
    for kind in KINDS_INT8:
        for dtype in ("int8", "int16") if kind in KINDS_INT16 else ("int8",):
            for _ in range(2):
                shape = [int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5)))]
                q_in, q_out = quant_pair(rng, kind, dtype)
                cases.append((Case(unary_model(kind, shape, dtype, q_in, dtype, q_out, activation_options(rng, kind)),
                                   f"{kind} {dtype} {shape}"), None))
    return cases


@pytest.fixture(scope="module")
def results():
    rng8, rng16 = np.random.default_rng(61), np.random.default_rng(62)
    return check_groups({
        "int8": [it for kind in KINDS_INT8 for it in every_value_items(rng8, kind, "int8", 10, tricky_every=4)],
        "int16": [it for kind in KINDS_INT16 for it in every_value_items(rng16, kind, "int16", 6, tricky_every=3)],
        "random shapes": random_shape_cases(np.random.default_rng(63)),
    }, seed=9)


@pytest.mark.parametrize("group", ["int8", "int16", "random shapes"])
def test_activations(results, group):
    """Every int8 / every int16 value under random quantization; random shapes with random inputs."""
    assert results[group] == []


@pytest.mark.parametrize("kind", ["RELU_N1_TO_1", "HARD_SWISH"])
def test_int16_rejected_where_litert_has_no_kernel(kind):
    g = parse_model(unary_model(kind, [4], "int16", (0.001, 0), "int16", (0.001, 0)))
    assert "int16" in lowering_for(kind).check(g.ops[0], g)
