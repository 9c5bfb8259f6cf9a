"""MAXIMUM / MINIMUM vs LiteRT BUILTIN_REF: int8 and int16, broadcasting up to 6-D, constant
operands, differing quantization of the operands (TFLite compares raw values)."""
import numpy as np

from tinydeploy.testing.builder import ModelBuilder
from tinydeploy.testing.opcheck import Case, check_cases


def random_shapes(rng: np.random.Generator, max_rank: int = 5):
    """Output shape and two input shapes that broadcast to it (sometimes equal, sometimes lower rank)."""
    rank = int(rng.integers(0, max_rank + 1))
    out = [int(rng.integers(1, 6)) for _ in range(rank)]
    if rng.random() < 0.3:
        return out, list(out), list(out)

    def operand():
        s = [d if rng.random() < 0.5 else 1 for d in out]
        drop = int(rng.integers(0, rank + 1)) if rng.random() < 0.4 else 0
        return s[drop:]

    a, b = operand(), operand()
    return list(np.broadcast_shapes(tuple(a), tuple(b))), a, b


def minmax_case(rng: np.random.Generator, kind: str, dtype: str) -> Case:
    out_shape, sa, sb = random_shapes(rng, 6 if rng.random() < 0.2 else 5)
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    same = rng.random() < 0.7
    scale = float(rng.uniform(0.01, 0.2))
    zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    q = [(scale, zp)] * 3 if same else [(float(rng.uniform(0.01, 0.2)), zp) for _ in range(3)]
    const_in = int(rng.choice([-1, -1, -1, 0, 1]))
    b = ModelBuilder()
    ids = []
    for k, shape in enumerate((sa, sb)):
        data = rng.integers(info.min, int(info.max) + 1, shape) if k == const_in else None
        ids.append(b.tensor(shape, dtype, q[k][0], q[k][1], data=data))
    y = b.tensor(out_shape, dtype, q[2][0], q[2][1])
    b.op(kind, ids, [y])
    inputs = [t for k, t in enumerate(ids) if k != const_in]
    return Case(b.build(inputs, [y]), f"{kind} {dtype} {sa}x{sb}->{out_shape} const{const_in} q {q}")


def test_maximum_minimum():
    cases = []
    for dtype, seed in (("int8", 41), ("int16", 42)):
        rng = np.random.default_rng(seed)
        cases += [minmax_case(rng, kind, dtype) for kind in ("MAXIMUM", "MINIMUM") for _ in range(12)]
    assert check_cases(cases, seed=7) == []
