"""FULLY_CONNECTED vs LiteRT BUILTIN_REF on random shapes and quantization (seeded)."""
import numpy as np
import pytest

from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def fc_case(rng: np.random.Generator, dtype: str) -> Case:
    batches, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 24))
    per_channel = dtype == "int8" and bool(rng.integers(0, 2))
    act = int(rng.choice([0, 1, 3]))
    b = ModelBuilder()
    in_zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    in_scale, out_scale = float(rng.uniform(0.005, 0.1)), float(rng.uniform(0.01, 0.5))
    w_scale = rng.uniform(0.002, 0.05, units if per_channel else 1)
    x = b.tensor([batches, depth], dtype, in_scale, in_zp)
    w = b.tensor([units, depth], "int8", w_scale, 0, data=rng.integers(-127, 128, (units, depth)),
                 axis=0)
    bias_t = "int32" if dtype == "int8" else "int64"
    bias = b.tensor([units], bias_t, in_scale * w_scale, 0, data=rng.integers(-5000, 5000, units))
    out_zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    y = b.tensor([batches, units], dtype, out_scale, out_zp)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions", fusedActivationFunction=act))
    return Case(b.build([x], [y]), f"fc {dtype} b{batches} d{depth} u{units} pc{per_channel} act{act}")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_fully_connected_random(dtype):
    rng = np.random.default_rng(1234 if dtype == "int8" else 99)
    cases = [fc_case(rng, dtype) for _ in range(60)]
    assert check_cases(cases, seed=1) == []
