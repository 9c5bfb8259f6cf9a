"""Data-movement ops vs LiteRT BUILTIN_REF: PAD/PADV2, CONCATENATION, SLICE, STRIDED_SLICE,
SPLIT/SPLIT_V, TRANSPOSE, RESHAPE/SQUEEZE/EXPAND_DIMS, RESIZE_NEAREST_NEIGHBOR, GATHER (seeded)."""
import numpy as np

from tinydeploy.compile.compiler import PlanOptions, compile_graph
from tinydeploy.compile.ir import DTYPES
from tinydeploy.compile.ops import lowering_for
from tinydeploy.compile.ops.strided_slice import effective_params, end_for_axis, loop_count, start_for_axis
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases


def quant(rng, dtype):
    if dtype == "int8":
        return float(rng.uniform(0.01, 0.2)), int(rng.integers(-128, 128))
    return float(rng.uniform(0.0005, 0.01)), 0


def rand_shape(rng, rank, lo=1, hi=6):
    return [int(rng.integers(lo, hi)) for _ in range(rank)]


def check_reason(model: bytes) -> str | None:
    g = parse_model(model)
    for op in g.ops:
        low = lowering_for(op.kind)
        reason = "unsupported" if low is None else low.check(op, g)
        if reason:
            return reason
    return None


def litert_accepts(model: bytes) -> bool:
    g = parse_model(model)
    xs = [np.zeros((1,) + tuple(g.tensors[t].shape), DTYPES[g.tensors[t].dtype][0]) for t in g.inputs]
    try:
        reference_outputs(model, xs)
    except (TinyDeployError, RuntimeError, ValueError):
        return False
    return True


def usable(model: bytes) -> bool:
    """Every output is non-empty and LiteRT (the oracle) runs it; then our check() must accept it too."""
    g = parse_model(model)
    if any(g.tensors[t].size == 0 for t in g.outputs) or not litert_accepts(model):
        return False
    why = check_reason(model)
    assert why is None, f"LiteRT runs this model but our check() refuses it: {why}"
    return True


def single(kind, dtype, in_shape, out_shapes, consts, opts, q, extra_in=None):
    """One op: a runtime input, constant inputs after it (list of (data, dtype, quant))."""
    b = ModelBuilder()
    x = b.tensor(in_shape, dtype, *q)
    ins = [x]
    for data, cdt, cq in consts:
        ins.append(b.tensor(np.shape(data), cdt, *(cq or (None, None)), data=np.asarray(data)))
    if extra_in is not None:
        ins = extra_in(b, ins)
    ys = [b.tensor(s, dtype, *q) for s in out_shapes]
    b.op(kind, ins, ys, opts)
    return b.build([x], ys)


# ---- generators --------------------------------------------------------------------------------

def pad_case(rng, dtype):
    rank = int(rng.integers(1, 6))
    shape = rand_shape(rng, rank)
    pads = rng.integers(0, 4, (rank, 2))
    pads[rng.random(rank) < 0.3] = 0
    out = [d + int(a) + int(c) for d, (a, c) in zip(shape, pads)]
    q = quant(rng, dtype)
    pdt = "int32" if rng.random() < 0.7 else "int64"
    consts = [(pads, pdt, None)]
    if rng.random() < 0.5:
        kind, opts = "PAD", options("PadOptions")
    else:
        kind, opts = "PADV2", options("PadV2Options")
        lo, hi = (-128, 128) if dtype == "int8" else (-32768, 32768)
        consts.append((np.array([int(rng.integers(lo, hi))]).reshape(()), dtype, q))
    return single(kind, dtype, shape, [out], consts, opts, q), f"{kind} {dtype} {shape} {pads.tolist()}"


def concat_case(rng, dtype):
    rank = int(rng.integers(1, 5))
    base = rand_shape(rng, rank)
    axis = int(rng.integers(0, rank))
    n = int(rng.integers(1, 5))
    sizes = [int(rng.integers(1, 5)) for _ in range(n)]
    out = list(base)
    out[axis] = sum(sizes)
    q = quant(rng, dtype)
    b = ModelBuilder()
    ins, graph_ins, labels = [], [], []
    for s in sizes:
        shp = list(base)
        shp[axis] = s
        iq = q if dtype == "int8" else (float(rng.uniform(0.0005, 0.01)), 0)  # int16: not rescaled
        if rng.random() < 0.2:
            lo, hi = (-128, 128) if dtype == "int8" else (-32768, 32768)
            ins.append(b.tensor(shp, dtype, *iq, data=rng.integers(lo, hi, shp)))
            labels.append("c")
        else:
            t = b.tensor(shp, dtype, *iq)
            ins.append(t)
            graph_ins.append(t)
            labels.append("x")
    if not graph_ins:
        return concat_case(rng, dtype)
    y = b.tensor(out, dtype, *q)
    ax = axis - rank if rng.random() < 0.3 else axis
    b.op("CONCATENATION", ins, [y], options("ConcatenationOptions", axis=ax))
    return b.build(graph_ins, [y]), f"concat {dtype} {base} axis{ax} sizes{sizes} {''.join(labels)}"


def slice_case(rng, dtype):
    rank = int(rng.integers(1, 6))
    shape = rand_shape(rng, rank, 1, 7)
    begin = [int(rng.integers(0, d)) for d in shape]
    size = [int(rng.integers(1, d - b + 1)) if rng.random() < 0.7 else -1 for d, b in zip(shape, begin)]
    out = [d - b if s == -1 else s for d, b, s in zip(shape, begin, size)]
    idt = "int32" if rng.random() < 0.7 else "int64"
    q = quant(rng, dtype)
    m = single("SLICE", dtype, shape, [out], [(np.array(begin), idt, None), (np.array(size), idt, None)],
               options("SliceOptions"), q)
    return m, f"slice {dtype} {shape} begin{begin} size{size}"


def ss_output_shape(shape, begin, end, strides, masks, offset):
    """(LiteRT's output shape, effective rank, elements the slice reads)."""
    eff = effective_params(len(shape), shape, begin, end, strides, *masks)
    out, reads = [], 1
    for idx, (size, b, e, s, bb, eb, shrink, _) in enumerate(eff):
        start = start_for_axis(size, b, s, bb)
        stop = end_for_axis(size, start, e, s, eb, shrink, offset)
        reads *= loop_count(start, stop, s)
        if not shrink:
            out.append(max(0, -(-end[idx] // s)) if offset else loop_count(start, stop, s))
    return out, len(eff), reads


def strided_slice_case(rng, dtype):
    for _ in range(200):
        rank = int(rng.integers(1, 6))
        shape = rand_shape(rng, rank, 1, 7)
        offset = rng.random() < 0.15
        n = rank if offset or rng.random() < 0.7 else int(rng.integers(1, rank + 1))
        ellipsis = 0 if offset or rng.random() < 0.8 else 1 << int(rng.integers(0, n))
        new_axis = 0 if offset or rng.random() < 0.8 else int(rng.integers(0, 1 << n))
        begin = [int(rng.integers(-8, 8)) for _ in range(n)]
        end = [int(rng.integers(-8, 8)) for _ in range(n)]
        strides = [int(rng.choice([1, 1, 1, 2, 3, -1, -2])) for _ in range(n)]
        if offset:
            begin = [int(rng.integers(0, d)) for d in shape]
            strides = [abs(s) for s in strides]
            end = [int(rng.integers(1, d - b + 1)) for d, b in zip(shape, begin)]
        bm = int(rng.integers(0, 1 << n)) * (rng.random() < 0.5)
        em = int(rng.integers(0, 1 << n)) * (rng.random() < 0.5)
        shrink = int(rng.integers(0, 1 << n)) if rng.random() < 0.3 else 0
        masks = (bm, em, ellipsis, new_axis, shrink)
        out, eff, reads = ss_output_shape(shape, begin, end, strides, masks, offset)
        # with offset LiteRT sizes the output from the raw ends but reads the masked ranges: when the two
        # differ its output holds bytes it never wrote, no result to compare with
        if eff > 5 or any(d == 0 for d in out) or reads != int(np.prod(out)):
            continue
        q = quant(rng, dtype)
        opts = options("StridedSliceOptions", beginMask=bm, endMask=em, ellipsisMask=ellipsis, newAxisMask=new_axis,
                       shrinkAxisMask=shrink, offset=offset)
        m = single("STRIDED_SLICE", dtype, shape, [out], [(np.array(v), "int32", None) for v in (begin, end, strides)],
                   opts, q)
        if usable(m):
            return m, f"strided_slice {dtype} {shape} b{begin} e{end} s{strides} masks{masks} off{offset}"
    raise AssertionError("no usable strided slice case")


def split_case(rng, dtype):
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank)
    axis = int(rng.integers(0, rank))
    q = quant(rng, dtype)
    ax = axis - rank if rng.random() < 0.3 else axis
    if rng.random() < 0.5:
        k = int(rng.choice([d for d in range(1, 5)]))
        shape[axis] = k * int(rng.integers(1, 4))
        outs = [list(shape[:axis]) + [shape[axis] // k] + list(shape[axis + 1:]) for _ in range(k)]
        b = ModelBuilder()
        a = b.tensor([], "int32", data=np.array(ax))
        x = b.tensor(shape, dtype, *q)
        ys = [b.tensor(s, dtype, *q) for s in outs]
        b.op("SPLIT", [a, x], ys, options("SplitOptions", numSplits=k))
        return b.build([x], ys), f"split {dtype} {shape} axis{ax} k{k}"
    k = int(rng.integers(1, 5))
    sizes = [int(rng.integers(1, 4)) for _ in range(k)]
    shape[axis] = sum(sizes)
    given = list(sizes)
    if rng.random() < 0.5:
        given[int(rng.integers(0, k))] = -1
    outs = [list(shape[:axis]) + [s] + list(shape[axis + 1:]) for s in sizes]
    b = ModelBuilder()
    x = b.tensor(shape, dtype, *q)
    sz = b.tensor([k], "int32" if rng.random() < 0.7 else "int64", data=np.array(given))
    a = b.tensor([1], "int32", data=np.array([ax]))
    ys = [b.tensor(s, dtype, *q) for s in outs]
    b.op("SPLIT_V", [x, sz, a], ys, options("SplitVOptions", numSplits=k))
    return b.build([x], ys), f"split_v {dtype} {shape} axis{ax} sizes{given}"


def transpose_case(rng, dtype):
    rank = int(rng.integers(1, 7))
    shape = rand_shape(rng, rank, 1, 5 if rank < 5 else 4)
    perm = [int(p) for p in rng.permutation(rank)]
    out = [shape[p] for p in perm]
    q = quant(rng, dtype)
    m = single("TRANSPOSE", dtype, shape, [out], [(np.array(perm), "int32", None)],
               options("TransposeOptions"), q)
    return m, f"transpose {dtype} {shape} perm{perm}"


def resize_case(rng, dtype):
    for _ in range(50):
        n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 4))
        oh, ow = int(rng.integers(1, 17)), int(rng.integers(1, 17))
        align, half = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
        q = quant(rng, dtype)
        m = single("RESIZE_NEAREST_NEIGHBOR", dtype, [n, h, w, c], [[n, oh, ow, c]],
                   [(np.array([oh, ow]), "int32", None)],
                   options("ResizeNearestNeighborOptions", alignCorners=align, halfPixelCenters=half), q)
        if usable(m):
            return m, f"resize {dtype} {[n, h, w, c]}->{oh}x{ow} align{align} half{half}"
    raise AssertionError("no usable resize case")


def gather_shapes(rng):
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank)
    axis = int(rng.integers(0, rank))
    bd = int(rng.integers(0, axis + 1)) if rng.random() < 0.4 else 0
    idx_shape = list(shape[:bd]) + rand_shape(rng, int(rng.integers(0, 3)), 1, 4)
    out = list(shape[:axis]) + idx_shape[bd:] + list(shape[axis + 1:])
    return shape, axis, bd, idx_shape, out


def gather_case(rng, dtype):
    shape, axis, bd, idx_shape, out = gather_shapes(rng)
    idt = "int32" if rng.random() < 0.6 else "int64"
    idx = rng.integers(0, shape[axis], idx_shape)
    q = quant(rng, dtype)
    ax = axis - len(shape) if rng.random() < 0.3 else axis
    m = single("GATHER", dtype, shape, [out], [(idx, idt, None)], options("GatherOptions", axis=ax, batchDims=bd), q)
    return m, f"gather {dtype} {shape} axis{ax} bd{bd} idx{idx_shape} {idt}"


def reshape_case(rng, dtype):
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank)
    q = quant(rng, dtype)
    kind = str(rng.choice(["RESHAPE", "SQUEEZE", "EXPAND_DIMS"]))
    if kind == "RESHAPE":
        out = [int(np.prod(shape))] if rng.random() < 0.5 else list(reversed(shape))
        m = single("RESHAPE", dtype, shape, [out], [(np.array(out), "int32", None)],
                   options("ReshapeOptions", newShape=out), q)
    elif kind == "SQUEEZE":
        shape = shape + [1]
        out = [d for d in shape if d != 1]
        m = single("SQUEEZE", dtype, shape, [out], [], options("SqueezeOptions", squeezeDims=[]), q)
    else:
        axis = int(rng.integers(0, rank + 1))
        out = shape[:axis] + [1] + shape[axis:]
        m = single("EXPAND_DIMS", dtype, shape, [out], [(np.array([axis]), "int32", None)],
                   options("ExpandDimsOptions"), q)
    return m, f"{kind} {dtype} {shape}->{out}"


def reshape_const_model(dtype):
    """A constant reshaped (copied out of the weights), concatenated with the input."""
    b = ModelBuilder()
    x = b.tensor([2, 3], dtype, 0.1, 0)
    c = b.tensor([6], dtype, 0.1, 0, data=np.arange(-3, 3) * 7)
    shp = b.tensor([2], "int32", data=np.array([2, 3]))
    r = b.tensor([2, 3], dtype, 0.1, 0)
    y = b.tensor([4, 3], dtype, 0.1, 0)
    b.op("RESHAPE", [c, shp], [r], options("ReshapeOptions", newShape=[2, 3]))
    b.op("CONCATENATION", [x, r], [y], options("ConcatenationOptions", axis=0))
    return b.build([x], [y])


GENERATORS = {"pad": (pad_case, 10), "concat": (concat_case, 10), "slice": (slice_case, 7),
              "strided_slice": (strided_slice_case, 16), "split": (split_case, 8),
              "transpose": (transpose_case, 8), "resize": (resize_case, 6), "gather": (gather_case, 8),
              "reshape": (reshape_case, 3)}


def test_shape_ops_random():
    cases = []
    for dtype, seed in (("int8", 31), ("int16", 32)):
        rng = np.random.default_rng(seed)
        for name, (gen, n) in GENERATORS.items():
            for _ in range(n):
                model, label = gen(rng, dtype)
                cases.append(Case(model, label))
        cases.append(Case(reshape_const_model(dtype), f"reshape of a constant {dtype}"))
    assert len(cases) >= 150
    assert check_cases(cases, seed=11) == []


# ---- cases needing custom inputs or plan options --------------------------------------------------

def run_and_compare(models, make_inputs, plan=None):
    compiled = [compile_graph(parse_model(m, name=f"case{i}"), prefix=f"case{i}", options=plan)
                for i, m in enumerate(models)]
    exe = build_host(compiled)
    failures = []
    for i, (m, cm) in enumerate(zip(models, compiled)):
        xs = make_inputs(i, cm.graph)
        ref = reference_outputs(m, xs)
        ours = exe.run(i, xs)
        for a, r in zip(ours, ref):
            if not np.array_equal(a.reshape(r.shape), r):
                failures.append(f"case {i}: differs")
    return failures


def test_runtime_indices_and_copies():
    """GATHER with indices computed at run time (valid ones), and views disabled in the planner
    so that RESHAPE/SQUEEZE/EXPAND_DIMS must copy."""
    rng = np.random.default_rng(5)
    models, limits = [], []
    for k in range(12):
        dtype = "int8" if k % 2 else "int16"
        shape, axis, bd, idx_shape, out = gather_shapes(rng)
        idt = "int32" if k % 3 else "int64"
        q = quant(rng, dtype)
        b = ModelBuilder()
        x = b.tensor(shape, dtype, *q)
        ind = b.tensor(idx_shape, idt)
        y = b.tensor(out, dtype, *q)
        b.op("GATHER", [x, ind], [y], options("GatherOptions", axis=axis, batchDims=bd))
        models.append(b.build([x, ind], [y]))
        limits.append(shape[axis])
    views = [reshape_case(rng, dt)[0] for dt in ("int8", "int16") for _ in range(4)]
    views.append(reshape_const_model("int8"))
    plan = PlanOptions(inplace=False)
    assert "td_copy(" in compile_graph(parse_model(views[0]), prefix="v", options=plan).source
    assert "td_copy(" not in compile_graph(parse_model(views[0]), prefix="v").source

    def inputs_for(i, g):
        xs = []
        for t in g.inputs:
            tt = g.tensors[t]
            ct = DTYPES[tt.dtype][0]
            if tt.dtype in ("int32", "int64"):
                xs.append(rng.integers(0, limits[i], (3,) + tuple(tt.shape)).astype(ct))
            else:
                info = np.iinfo(ct)
                xs.append(rng.integers(info.min, int(info.max) + 1, (3,) + tuple(tt.shape)).astype(ct))
        return xs

    assert run_and_compare(models + views, inputs_for, plan) == []


GATHER_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "g.h"
int main(int argc, char **argv) { /* ./gather I J: gathers rows I and J of a fixed 4x3 table */
  (void)argc;
  for (int i = 0; i < 12; ++i) g_input0()[i] = (int8_t)(i * 10 - 60);
  g_input1()[0] = atoi(argv[1]);
  g_input1()[1] = atoi(argv[2]);
  int rc = g_invoke();
  printf("%d", rc);
  for (int i = 0; i < 6; ++i) printf(" %d", g_output0()[i]);
  printf("\n");
  return 0;
}
"""


def test_gather_out_of_range_returns_error(tmp_path):
    """Where LiteRT fails the invoke (an index out of range), g_invoke() returns non-zero; in range it
    returns 0 with LiteRT's rows."""
    import subprocess

    from tinydeploy.compile.compiler import RUNTIME_DIR
    from tinydeploy.target.host import host_compiler

    b = ModelBuilder()
    x = b.tensor([4, 3], "int8", 0.1, 0)
    ind = b.tensor([2], "int32")
    y = b.tensor([2, 3], "int8", 0.1, 0)
    b.op("GATHER", [x, ind], [y], options("GatherOptions", axis=0))
    model = b.build([x, ind], [y])
    m = compile_graph(parse_model(model), prefix="g")
    (tmp_path / "g.h").write_text(m.header)
    (tmp_path / "g.c").write_text(m.source)
    (tmp_path / "main.c").write_text(GATHER_MAIN)
    exe = tmp_path / "gather"
    subprocess.run([host_compiler(), "-std=c99", "-Wall", "-Werror", f"-I{tmp_path}", f"-I{RUNTIME_DIR}", "-o", str(exe),
                    str(tmp_path / "g.c"), str(tmp_path / "main.c"), *map(str, sorted(RUNTIME_DIR.glob("*.c"))),
                    "-lm"], check=True)
    table = (np.arange(12) * 10 - 60).astype(np.int8).reshape(1, 4, 3)
    refused = 0
    for i, j in ((3, 1), (0, 0), (4, 1), (1, -1), (2, 100)):
        rc, *out = map(int, subprocess.run([str(exe), str(i), str(j)], capture_output=True, text=True,
                                           check=True).stdout.split())
        try:
            want = reference_outputs(model, [table, np.array([[i, j]], np.int32)])[0]
        except RuntimeError as exc:
            assert "out of bounds" in str(exc)
            assert rc != 0, (i, j)
            refused += 1
        else:
            assert rc == 0 and out == want.ravel().tolist(), (i, j, rc, out, want)
    assert refused == 3


# ---- rejections -----------------------------------------------------------------------------------

def _runtime_second_input(kind, in_shape, second_shape, second_dtype, out_shape, opts, dtype="int8"):
    b = ModelBuilder()
    x = b.tensor(in_shape, dtype, 0.1, 0)
    s = b.tensor(second_shape, second_dtype)
    y = b.tensor(out_shape, dtype, 0.1, 0)
    b.op(kind, [x, s], [y], opts)
    return b.build([x, s], [y])


def test_shape_ops_reject_runtime_parameters():
    assert "constant" in check_reason(_runtime_second_input("PAD", [2, 3], [2, 2], "int32", [4, 5],
                                                             options("PadOptions")))
    assert "constant" in check_reason(_runtime_second_input("TRANSPOSE", [2, 3], [2], "int32", [3, 2],
                                                             options("TransposeOptions")))
    assert "constant" in check_reason(_runtime_second_input("RESHAPE", [2, 3], [1], "int32", [6],
                                                             options("ReshapeOptions")))
    assert "constant" in check_reason(_runtime_second_input("EXPAND_DIMS", [2, 3], [1], "int32", [1, 2, 3],
                                                             options("ExpandDimsOptions")))
    assert "constant" in check_reason(_runtime_second_input("RESIZE_NEAREST_NEIGHBOR", [1, 2, 2, 1], [2], "int32",
                                                             [1, 4, 4, 1], options("ResizeNearestNeighborOptions")))
    # SLICE with runtime begin
    b = ModelBuilder()
    x = b.tensor([4, 4], "int8", 0.1, 0)
    bg = b.tensor([2], "int32")
    sz = b.tensor([2], "int32", data=np.array([1, 1]))
    y = b.tensor([1, 1], "int8", 0.1, 0)
    b.op("SLICE", [x, bg, sz], [y], options("SliceOptions"))
    assert "constant" in check_reason(b.build([x, bg], [y]))
    # STRIDED_SLICE with runtime end
    b = ModelBuilder()
    x = b.tensor([4, 4], "int8", 0.1, 0)
    bg = b.tensor([2], "int32", data=np.array([0, 0]))
    en = b.tensor([2], "int32")
    st = b.tensor([2], "int32", data=np.array([1, 1]))
    y = b.tensor([4, 4], "int8", 0.1, 0)
    b.op("STRIDED_SLICE", [x, bg, en, st], [y], options("StridedSliceOptions"))
    assert "constant" in check_reason(b.build([x, en], [y]))
    # SPLIT with a runtime axis
    b = ModelBuilder()
    a = b.tensor([], "int32")
    x = b.tensor([4, 4], "int8", 0.1, 0)
    ys = [b.tensor([2, 4], "int8", 0.1, 0) for _ in range(2)]
    b.op("SPLIT", [a, x], ys, options("SplitOptions", numSplits=2))
    assert "constant" in check_reason(b.build([a, x], ys))
    # MEAN-like: SPLIT_V with runtime sizes
    b = ModelBuilder()
    x = b.tensor([4, 4], "int8", 0.1, 0)
    sz = b.tensor([2], "int32")
    a = b.tensor([1], "int32", data=np.array([0]))
    ys = [b.tensor([2, 4], "int8", 0.1, 0) for _ in range(2)]
    b.op("SPLIT_V", [x, sz, a], ys, options("SplitVOptions", numSplits=2))
    assert "constant" in check_reason(b.build([x, sz], ys))


def concat_reason(dtype: str, in_qs: list[tuple], out_q: tuple, act: int = 0) -> str | None:
    """check_reason of a CONCATENATION of [2, 3] inputs on axis 0."""
    b = ModelBuilder()
    xs = [b.tensor([2, 3], dtype, *q) for q in in_qs]
    y = b.tensor([2 * len(xs), 3], dtype, *out_q)
    b.op("CONCATENATION", xs, [y], options("ConcatenationOptions", axis=0, fusedActivationFunction=act))
    return check_reason(b.build(xs, [y]))


def test_shape_ops_reject_other():
    # int8 concatenation with a differently quantized input
    assert "quantization" in concat_reason("int8", [(0.1, 0), (0.2, 0)], (0.1, 0))
    # int16 concatenation with a non-zero zero point
    assert "zero point" in concat_reason("int16", [(0.1, 5), (0.1, 0)], (0.1, 0))
    # concatenation with a fused activation
    assert "activation" in concat_reason("int8", [(0.1, 0)], (0.1, 0), act=1)
    # 7-D transpose
    shape = [2, 1, 2, 1, 2, 1, 2]
    m = single("TRANSPOSE", "int8", shape, [shape[::-1]], [(np.arange(7)[::-1].copy(), "int32", None)],
               options("TransposeOptions"), (0.1, 0))
    assert "rank" in check_reason(m)
    # int64 permutation (LiteRT reads it as int32)
    m = single("TRANSPOSE", "int8", [2, 3], [[3, 2]], [(np.array([1, 0]), "int64", None)],
               options("TransposeOptions"), (0.1, 0))
    assert "int32" in check_reason(m)
    # strided slice: offset with ellipsis
    m = single("STRIDED_SLICE", "int8", [4, 4], [[4, 4]], [(np.array(v), "int32", None) for v in ([0], [4], [1])],
               options("StridedSliceOptions", ellipsisMask=1, offset=True), (0.1, 0))
    assert "offset" in check_reason(m)
    # strided slice: zero stride
    m = single("STRIDED_SLICE", "int8", [4, 4], [[4, 4]], [(np.array(v), "int32", None)
                                                            for v in ([0, 0], [4, 4], [1, 0])],
               options("StridedSliceOptions"), (0.1, 0))
    assert "non-zero" in check_reason(m)
    # split_v with two -1 sizes
    b = ModelBuilder()
    x = b.tensor([4, 4], "int8", 0.1, 0)
    sz = b.tensor([2], "int32", data=np.array([-1, -1]))
    a = b.tensor([1], "int32", data=np.array([0]))
    ys = [b.tensor([2, 4], "int8", 0.1, 0) for _ in range(2)]
    b.op("SPLIT_V", [x, sz, a], ys, options("SplitVOptions", numSplits=2))
    assert "-1" in check_reason(b.build([x], ys))
    # negative padding
    m = single("PAD", "int8", [4], [[3]], [(np.array([[-1, 0]]), "int32", None)], options("PadOptions"), (0.1, 0))
    assert "negative" in check_reason(m)
    # gather with constant out-of-range indices
    m = single("GATHER", "int8", [4, 3], [[2, 3]], [(np.array([0, 4]), "int32", None)], options("GatherOptions"),
               (0.1, 0))
    assert "range" in check_reason(m)
    # float data
    m = single("TRANSPOSE", "float32", [2, 3], [[3, 2]], [(np.array([1, 0]), "int32", None)],
               options("TransposeOptions"), (None, None))
    assert "not supported" in check_reason(m)
    # slice out of bounds
    m = single("SLICE", "int8", [4, 4], [[2, 2]],
               [(np.array([3, 0]), "int32", None), (np.array([2, 2]), "int32", None)],
               options("SliceOptions"), (0.1, 0))
    assert "bounds" in check_reason(m)
