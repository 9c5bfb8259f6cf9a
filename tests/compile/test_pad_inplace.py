"""In-place PAD (ops/pad.py, td_pad): a PAD/PADV2 that fold_pad cannot fold (before pools, ADD, another PAD,
a pad value other than the zero point, any dims) writes its padded output over the input it consumes when
the input dies there. Bit-exact with LiteRT under ASan/UBSan with exactly the planned arena, and the plan
really puts it in place (the op in plan.inplace_ops, a smaller arena than without sharing)."""
import numpy as np

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.compile.ops.pad import merge_pads
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases

RANGES = {"int8": (-128, 128), "uint8": (0, 256), "int16": (-32768, 32768), "int32": (-2**31, 2**31)}


def _pad(b: ModelBuilder, rng, x: int, shape, dtype: str, q, pads) -> tuple[int, list[int], str]:
    """PAD or PADV2 (a random constant, sometimes the zero point) of x; returns (output, its shape, label)."""
    out_shape = [d + a + c for d, (a, c) in zip(shape, pads)]
    y = b.tensor(out_shape, dtype, *q)
    ins = [x, b.tensor([len(shape), 2], "int32", data=np.array(pads, dtype=np.int64).reshape(-1, 2))]
    kind = "PADV2" if rng.random() < 0.5 else "PAD"
    if kind == "PADV2":
        lo, hi = RANGES[dtype]
        value = q[1] if q[1] is not None and rng.random() < 0.3 else int(rng.integers(lo, hi))
        ins.append(b.tensor([1], dtype, *q, data=np.array([value])))
    b.op(kind, ins, [y], options("PadV2Options" if kind == "PADV2" else "PadOptions"))
    return y, out_shape, f"{kind} {list(shape)} {pads}"


def pad_reader_model(rng) -> tuple[bytes, str]:
    """[RELU ->] PAD/PADV2 over any of N, H, W, C -> one or two of MAX_POOL_2D, AVERAGE_POOL_2D, ADD, PAD:
    readers that fold_pad leaves alone, so the PAD stays and its input dies at it."""
    dtype = "int16" if rng.random() < 0.25 else "int8"
    q = (float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))) if dtype == "int8" else \
        (float(rng.uniform(0.0005, 0.005)), 0)
    shape = [int(rng.integers(1, 3)), int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 10))]
    pads = [[int(a), int(c)] for a, c in rng.integers(0, 4, (4, 2))]
    for k in (0, 3):
        if rng.random() < 0.6:
            pads[k] = [0, 0]
    b = ModelBuilder()
    x = b.tensor(shape, dtype, *q)
    graph_ins, src, label = [x], x, ""
    if rng.random() < 0.5:  # the PAD's input an intermediate tensor (RELU runs in place too)
        src = b.tensor(shape, dtype, *q)
        b.op("RELU", [x], [src], None)
        label = "RELU -> "
    padded, pshape, what = _pad(b, rng, src, shape, dtype, q, pads)
    label += what + " ->"
    outs = []
    for reader in rng.choice(["MAX_POOL_2D", "AVERAGE_POOL_2D", "ADD", "PAD"], int(rng.integers(1, 3))):
        if reader == "ADD":
            other = b.tensor(pshape, dtype, *q)
            y = b.tensor(pshape, dtype, *((q[0] * 2, q[1] // 2) if dtype == "int8" else q))
            b.op("ADD", [padded, other], [y], options("AddOptions"))
            graph_ins.append(other)
        elif reader == "PAD":
            y, _, what = _pad(b, rng, padded, pshape, dtype, q, [[0, 0], [1, 0], [0, 2], [0, 0]])
            reader = what
        else:
            k = int(min(3, pshape[1], pshape[2]))
            oh, ow = (pshape[1] - k) // 2 + 1, (pshape[2] - k) // 2 + 1
            y = b.tensor([pshape[0], oh, ow, pshape[3]], dtype, *q)
            b.op(reader, [padded], [y], options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=k,
                                                 filterHeight=k))
        outs.append(y)
        label += f" {reader}"
    return b.build(graph_ins, outs), f"{dtype} zp{q[1]} {label}"


def pad_rank_model(rng, dtype: str, rank: int) -> tuple[bytes, str]:
    """x (rank 1..5) -> PAD -> PAD: the first PAD's input is the model input, the second's an intermediate."""
    q = (float(rng.uniform(0.01, 0.1)), int(rng.integers(*RANGES[dtype]))) if dtype in ("int8", "uint8") else \
        (0.001, 0) if dtype == "int16" else (None, None)
    shape = [int(rng.integers(1, 5)) for _ in range(rank)]
    b = ModelBuilder()
    x = b.tensor(shape, dtype, *q)
    p1, s1, l1 = _pad(b, rng, x, shape, dtype, q, rng.integers(0, 3, (rank, 2)).tolist())
    p2, _, l2 = _pad(b, rng, p1, s1, dtype, q, rng.integers(0, 3, (rank, 2)).tolist())
    return b.build([x], [p2]), f"{dtype} rank {rank}: {l1} -> {l2}"


def pads_in_place(model: bytes) -> tuple[int, int]:
    """(PADs in the compiled graph, PADs the plan writes over their input)."""
    m = compile_graph(parse_model(model))
    pads = [op.index for op in m.graph.ops if op.kind in ("PAD", "PADV2")]
    return len(pads), sum(i in m.plan.inplace_ops for i in pads)


def test_merge_pads_keeps_the_fewest_dims():
    assert merge_pads([1, 5, 6, 3], [[0, 0], [1, 2], [0, 0], [0, 0]]) == ([90], [18], [36])  # rows of 18
    assert merge_pads([2, 5, 6, 3], [[0, 0], [1, 2], [0, 1], [0, 0]]) == ([2, 5, 18], [0, 1, 0], [0, 2, 3])
    assert merge_pads([1, 1], [[0, 0], [0, 0]]) == ([1], [0], [0])
    assert merge_pads([4], [[2, 0]]) == ([4], [2], [0])


def test_random_unfoldable_pads_run_in_place_bit_exact():
    rng = np.random.default_rng(14)
    cases = [Case(*pad_reader_model(rng)) for _ in range(50)]
    cases += [Case(*pad_rank_model(rng, dtype, rank)) for dtype in ("int8", "int16", "int32", "uint8")
              for rank in range(1, 6)]  # LiteRT pads at most 5 dims
    counts = [pads_in_place(c.model) for c in cases]
    assert all(n >= 1 for n, _ in counts), "a PAD was folded: these readers must keep it"
    placed = sum(k for _, k in counts)
    assert placed >= 0.9 * sum(n for n, _ in counts), f"only {placed} PADs in place"
    bad = check_cases(cases, seed=3, sanitize=True)
    assert not bad, "\n".join(bad[:10])


def pool_model(value: int, pads=((0, 0), (2, 1), (1, 3), (0, 0))) -> bytes:
    """x[1,40,40,8] -> RELU -> PADV2 (value) -> MAX_POOL_2D 3x3 s2: the PAD cannot fold into the pool."""
    b = ModelBuilder()
    q = (0.02, -5)
    x = b.tensor([1, 40, 40, 8], "int8", *q)
    r = b.tensor([1, 40, 40, 8], "int8", *q)
    b.op("RELU", [x], [r], None)
    ph, pw = 40 + sum(pads[1]), 40 + sum(pads[2])
    padded = b.tensor([1, ph, pw, 8], "int8", *q)
    pads_t, value_t = b.tensor([4, 2], "int32", data=np.array(pads)), b.tensor([1], "int8", *q, data=np.array([value]))
    b.op("PADV2", [r, pads_t, value_t], [padded], options("PadV2Options"))
    y = b.tensor([1, (ph - 3) // 2 + 1, (pw - 3) // 2 + 1, 8], "int8", *q)
    b.op("MAX_POOL_2D", [padded], [y], options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=3,
                                                filterHeight=3))
    return b.build([x], [y])


def test_the_padded_output_is_written_over_its_input():
    model = pool_model(-128)
    g = parse_model(model)
    shared, apart = compile_graph(g), compile_graph(g, options=PlanOptions(inplace=False))
    assert shared.plan.inplace_ops.get(1) == 0  # PADV2 (op 1) in place, no temp
    # apart: the RELU output (12,800 B) and the padded copy (43 x 44 x 8 = 15,136 B) live together;
    # in place the padded copy holds the RELU output's bytes, and the pool streams its rows over it
    assert apart.arena_bytes >= 12_800 + 15_136
    assert shared.arena_bytes <= 15_136 + 256 < apart.arena_bytes
    other = pool_model(7, ((0, 0), (0, 3), (4, 0), (0, 0)))
    bad = check_cases([Case(model, "max pool pad -128", samples=5), Case(other, "max pool pad 7 bottom/left")],
                      sanitize=True)
    assert not bad, "\n".join(bad)
