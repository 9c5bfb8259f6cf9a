"""MAXIMUM / MINIMUM vs LiteRT BUILTIN_REF: int8 and int16, broadcasting up to 6-D, constant
operands, differing quantization of the operands (TFLite compares raw values)."""
import numpy as np
from op_cases import broadcast_shapes, two_operands

from tinydeploy.testing.builder import ModelBuilder
from tinydeploy.testing.opcheck import Case, check_cases


def minmax_case(rng: np.random.Generator, kind: str, dtype: str) -> Case:
    out_shape, sa, sb = broadcast_shapes(rng, 6 if rng.random() < 0.2 else 5)
    same = rng.random() < 0.7
    scale = float(rng.uniform(0.01, 0.2))
    zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    q = [(scale, zp)] * 3 if same else [(float(rng.uniform(0.01, 0.2)), zp) for _ in range(3)]
    b = ModelBuilder()
    ids, inputs, const_in = two_operands(rng, b, dtype, (sa, sb), [s for s, _ in q], [z for _, z in q])
    y = b.tensor(out_shape, dtype, *q[2])
    b.op(kind, ids, [y])
    return Case(b.build(inputs, [y]), f"{kind} {dtype} {sa}x{sb}->{out_shape} const{const_in} q {q}")


def test_maximum_minimum():
    cases = []
    for dtype, seed in (("int8", 41), ("int16", 42)):
        rng = np.random.default_rng(seed)
        cases += [minmax_case(rng, kind, dtype) for kind in ("MAXIMUM", "MINIMUM") for _ in range(12)]
    assert check_cases(cases, seed=7) == []
