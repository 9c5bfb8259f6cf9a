"""Every parameter struct the op lowerings emit (Emitter.params) sets exactly the fields of its C struct
in lib/tinydeploy/*.h, nested structs (td_dims, td_window, td_requant, ...) included.

C99 leaves a field that a designated initializer omits at zero, so a forgotten field compiles and runs
with a wrong value; a field the C struct lacks fails only when the C is compiled. The models: every
repo model, plus one single-op model per struct variant built here (every op kind compiles at least once).
"""
import re
from pathlib import Path

import numpy as np
import pytest

from tinydeploy.compile import PlanOptions, compile_graph, load_model, parse_model
from tinydeploy.compile.codegen.emitter import CStruct, Emitter
from tinydeploy.compile.ops import supported_kinds
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.testing.builder import ModelBuilder, options

ROOT = Path(__file__).resolve().parents[2]
REPO_MODELS = sorted(ROOT.glob("models/*.tflite")) + sorted(ROOT.glob("tests/data/models/*.tflite")) + \
    [ROOT / "tests/data/lstm_int8.tflite"]
#: structs of the headers that are no kernel parameters
NOT_PARAMS = {"td_tensor_info", "td_device", "td_taps"}  # descriptors and a kernel-internal value
#: the training step's structs (td_train.h): emitted by tinydeploy/train, checked through ctypes in tests/train
NOT_PARAMS |= {"td_train_geom", "td_train_param", "td_train_sgd"}
#: the training requests of the device protocol (td_train_device.h): descriptors filled by the glue
NOT_PARAMS |= {"td_train_blob", "td_train_device"}


def c_structs() -> dict[str, dict[str, str]]:
    """struct name -> {field: type} of every `typedef struct {...} name;` in the runtime headers."""
    structs: dict[str, dict[str, str]] = {}
    for header in sorted(RUNTIME_DIR.glob("*.h")):
        text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header.read_text(), flags=re.S)
        for body, name in re.findall(r"typedef\s+struct\s*\w*\s*\{([^{}]*)\}\s*(\w+)\s*;", text):
            fields: dict[str, str] = {}
            for decl in filter(None, (d.strip() for d in body.split(";"))):
                decl = re.sub(r"\[[^\]]*\]", "", decl)
                first, *more = (part.strip() for part in decl.split(","))
                words = re.findall(r"\w+", first)
                ctype = words[-2]
                for declarator in [words[-1]] + [re.sub(r"\W", "", m) for m in more]:
                    fields[declarator] = ctype
            structs[name] = fields
    return structs


STRUCTS = c_structs()


def _tensor(b: ModelBuilder, shape, dtype="int8", scale=0.05, zp=0, **kw) -> int:
    return b.tensor(shape, dtype, scale, zp, **kw)


def _unary(kind: str, dtype="int8", shape=(1, 4, 4, 3), opts=None, in_q=(0.05, 0), out_q=(0.05, 0),
           out_dtype=None) -> bytes:
    b = ModelBuilder()
    x = _tensor(b, shape, dtype, *in_q)
    y = _tensor(b, shape, out_dtype or dtype, *out_q)
    b.op(kind, [x], [y], opts)
    return b.build([x], [y])


def _binary(kind: str, dtype="int8", opts=None, scales=(0.05, 0.05, 0.1), shape2=(1, 1, 1, 3)) -> bytes:
    b = ModelBuilder()
    x1 = _tensor(b, [1, 2, 4, 3], dtype, scales[0])
    x2 = _tensor(b, list(shape2), dtype, scales[1])
    y = _tensor(b, [1, 2, 4, 3], dtype, scales[2])
    b.op(kind, [x1, x2], [y], opts)
    return b.build([x1, x2], [y])


def _conv(kind: str, dtype="int8") -> bytes:
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    bias_dtype = "int32" if dtype == "int8" else "int64"
    x = _tensor(b, [1, 5, 5, 2], dtype, 0.05)
    if kind == "CONV_2D":
        w = b.tensor([3, 3, 3, 2], "int8", [0.01, 0.02, 0.03], 0, data=rng.integers(-9, 9, (3, 3, 3, 2)))
        bias = b.tensor([3], bias_dtype, 0.0005, 0, data=np.arange(3))
        y = _tensor(b, [1, 3, 3, 3], dtype, 0.1)
        b.op(kind, [x, w, bias], [y], options("Conv2DOptions", padding=1, strideH=1, strideW=1,
                                               dilationHFactor=1, dilationWFactor=1))
    elif kind == "DEPTHWISE_CONV_2D":
        w = b.tensor([1, 3, 3, 4], "int8", 0.01, 0, data=rng.integers(-9, 9, (1, 3, 3, 4)), axis=3)
        bias = b.tensor([4], bias_dtype, 0.0005, 0, data=np.arange(4))
        y = _tensor(b, [1, 5, 5, 4], dtype, 0.1)
        b.op(kind, [x, w, bias], [y], options("DepthwiseConv2DOptions", padding=0, strideH=1, strideW=1,
                                               depthMultiplier=2, dilationHFactor=1, dilationWFactor=1))
    else:
        shape = b.tensor([4], "int32", data=np.array([1, 10, 10, 3]))
        w = b.tensor([3, 3, 3, 2], "int8", 0.01, 0, data=rng.integers(-9, 9, (3, 3, 3, 2)))
        bias = b.tensor([3], bias_dtype, 0.0005, 0, data=np.arange(3))
        y = _tensor(b, [1, 10, 10, 3], dtype, 0.1)
        b.op(kind, [shape, w, x, bias], [y], options("TransposeConvOptions", padding=0, strideH=2, strideW=2))
    return b.build([x], [y])


def _pool(kind: str, dtype="int8") -> bytes:
    return _unary(kind, dtype, opts=options("Pool2DOptions", padding=0, strideH=1, strideW=1, filterHeight=2,
                                            filterWidth=2))


def _fully_connected(dtype="int8") -> bytes:
    b = ModelBuilder()
    x = _tensor(b, [2, 6], dtype, 0.05)
    w = b.tensor([3, 6], "int8", 0.01, 0, data=np.ones((3, 6)))
    bias = b.tensor([3], "int32" if dtype == "int8" else "int64", 0.0005, 0, data=np.arange(3))
    y = _tensor(b, [2, 3], dtype, 0.1)
    b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions"))
    return b.build([x], [y])


def _with_const(kind: str, const: np.ndarray, out_shape, opts=None, in_shape=(1, 4, 4, 3), const_dtype="int32",
                dtype="int8") -> bytes:
    b = ModelBuilder()
    x = _tensor(b, list(in_shape), dtype)
    c = b.tensor(list(const.shape), const_dtype, data=const)
    y = _tensor(b, list(out_shape), dtype) if kind not in ("ARG_MAX", "ARG_MIN") else b.tensor(list(out_shape), "int32")
    b.op(kind, [x, c], [y], opts)
    return b.build([x], [y])


def _split() -> bytes:
    b = ModelBuilder()
    axis = b.tensor([], "int32", data=np.array(3))
    x = _tensor(b, [1, 4, 4, 4])
    y1, y2 = _tensor(b, [1, 4, 4, 2]), _tensor(b, [1, 4, 4, 2])
    b.op("SPLIT", [axis, x], [y1, y2], options("SplitOptions", numSplits=2))
    return b.build([x], [y1, y2])


def _split_v() -> bytes:
    b = ModelBuilder()
    x = _tensor(b, [1, 4, 4, 4])
    sizes = b.tensor([2], "int32", data=np.array([1, 3]))
    axis = b.tensor([], "int32", data=np.array(3))
    y1, y2 = _tensor(b, [1, 4, 4, 1]), _tensor(b, [1, 4, 4, 3])
    b.op("SPLIT_V", [x, sizes, axis], [y1, y2], options("SplitVOptions", numSplits=2))
    return b.build([x], [y1, y2])


def _concatenation() -> bytes:
    b = ModelBuilder()
    x1, x2 = _tensor(b, [1, 4, 4, 2]), _tensor(b, [1, 4, 4, 2])
    y = _tensor(b, [1, 4, 4, 4])
    b.op("CONCATENATION", [x1, x2], [y], options("ConcatenationOptions", axis=3))
    return b.build([x1, x2], [y])


def _gather() -> bytes:
    b = ModelBuilder()
    x = _tensor(b, [5, 3])
    idx = b.tensor([2], "int32", data=np.array([4, 1]))
    y = _tensor(b, [2, 3])
    b.op("GATHER", [x, idx], [y], options("GatherOptions", axis=0))
    return b.build([x], [y])


def _svdf() -> bytes:
    b = ModelBuilder()
    x = _tensor(b, [1, 4], "int8", 0.05)
    wf = b.tensor([4, 4], "int8", 0.01, 0, data=np.ones((4, 4)))
    wt = b.tensor([4, 3], "int16", 0.001, 0, data=np.ones((4, 3)))
    bias = b.tensor([2], "int32", 0.0001, 0, data=np.arange(2))
    state = b.tensor([1, 12], "int16", 0.01, 0, variable=True)
    y = _tensor(b, [1, 2], "int8", 0.1)
    b.op("SVDF", [x, wf, wt, bias, state], [y], options("SVDFOptions", rank=2))
    return b.build([x], [y])


def _quantize(in_dtype: str, out_dtype: str) -> bytes:
    return _unary("QUANTIZE", in_dtype, in_q=(0.05, 0) if in_dtype != "float32" else (None, None),
                  out_q=(0.1, 0), out_dtype=out_dtype)


def _dequantize() -> bytes:
    b = ModelBuilder()
    x = _tensor(b, [1, 4, 4, 3])
    y = b.tensor([1, 4, 4, 3], "float32")
    b.op("DEQUANTIZE", [x], [y])
    return b.build([x], [y])


def _softmax(kind: str, dtype="int8") -> bytes:
    out_q = {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)}[dtype]
    if kind == "LOG_SOFTMAX":
        out_q = (16 / 256, 127)
    opts = options("SoftmaxOptions", beta=1.0) if kind == "SOFTMAX" else None
    return _unary(kind, dtype, shape=(2, 5), opts=opts, out_q=out_q)


def single_op_models() -> dict[str, bytes]:
    """One model per op kind and parameter struct variant."""
    pot16 = (2.0**-10, 2.0**-10, 2.0**-10)
    return {
        "conv": _conv("CONV_2D"), "conv16": _conv("CONV_2D", "int16"),
        "dw": _conv("DEPTHWISE_CONV_2D"), "tconv": _conv("TRANSPOSE_CONV"),
        "avg": _pool("AVERAGE_POOL_2D"), "max": _pool("MAX_POOL_2D", "int16"),
        "fc": _fully_connected(), "fc16": _fully_connected("int16"),
        "add": _binary("ADD"), "sub": _binary("SUB"),
        "add_pot": _binary("ADD", "int16", options("AddOptions", potScaleInt16=True), pot16, (1, 2, 4, 3)),
        "mul": _binary("MUL"), "maximum": _binary("MAXIMUM"), "minimum": _binary("MINIMUM", "int16"),
        "relu": _unary("RELU"), "relu6": _unary("RELU6"), "relu1": _unary("RELU_N1_TO_1"),
        "relu01": _unary("RELU_0_TO_1"),
        "leaky": _unary("LEAKY_RELU", opts=options("LeakyReluOptions", alpha=0.2)),
        "hard_swish": _unary("HARD_SWISH", out_q=(0.05, 3)),
        "logistic": _unary("LOGISTIC", out_q=(1 / 256, -128)),
        "logistic16": _unary("LOGISTIC", "int16", in_q=(0.001, 0), out_q=(1 / 32768, 0)),
        "tanh": _unary("TANH", out_q=(1 / 128, 0)),
        "softmax": _softmax("SOFTMAX"), "softmax16": _softmax("SOFTMAX", "int16"),
        "log_softmax": _softmax("LOG_SOFTMAX"),
        "quantize_f32": _quantize("float32", "int8"), "requantize": _quantize("int8", "int16"),
        "dequantize": _dequantize(),
        "mean": _with_const("MEAN", np.array([1, 2]), (1, 1, 1, 3), options("ReducerOptions", keepDims=True)),
        "arg_max": _with_const("ARG_MAX", np.array([3]), (1, 4, 4), options("ArgMaxOptions", outputType=2)),
        "arg_min": _with_const("ARG_MIN", np.array([3]), (1, 4, 4), options("ArgMinOptions", outputType=2)),
        "pad": _with_const("PAD", np.array([[0, 0], [1, 1], [1, 1], [0, 0]]), (1, 6, 6, 3)),
        "padv2": _with_const("PADV2", np.array([[0, 0], [1, 0], [0, 1], [0, 0]]), (1, 5, 5, 3)),
        "transpose": _with_const("TRANSPOSE", np.array([0, 2, 1, 3]), (1, 4, 4, 3)),
        "reshape": _with_const("RESHAPE", np.array([1, 48]), (1, 48)),
        "expand_dims": _with_const("EXPAND_DIMS", np.array(0), (1, 1, 4, 4, 3)),
        "resize": _with_const("RESIZE_NEAREST_NEIGHBOR", np.array([8, 8]), (1, 8, 8, 3),
                              options("ResizeNearestNeighborOptions")),
        "split": _split(), "split_v": _split_v(), "concatenation": _concatenation(), "gather": _gather(),
        "svdf": _svdf(),
    }


def _slices() -> dict[str, bytes]:
    b = ModelBuilder()
    x = _tensor(b, [1, 4, 4, 3])
    begin = b.tensor([4], "int32", data=np.array([0, 1, 1, 0]))
    size = b.tensor([4], "int32", data=np.array([1, 2, 2, 3]))
    y = _tensor(b, [1, 2, 2, 3])
    b.op("SLICE", [x, begin, size], [y])
    sliced = b.build([x], [y])
    b = ModelBuilder()
    x = _tensor(b, [1, 4, 4, 3])
    begin = b.tensor([4], "int32", data=np.array([0, 0, 0, 0]))
    end = b.tensor([4], "int32", data=np.array([1, 4, 4, 3]))
    strides = b.tensor([4], "int32", data=np.array([1, 2, 2, 1]))
    y = _tensor(b, [1, 2, 2, 3])
    b.op("STRIDED_SLICE", [x, begin, end, strides], [y], options("StridedSliceOptions"))
    b2 = ModelBuilder()
    x2 = _tensor(b2, [1, 4, 4, 3])
    y2 = _tensor(b2, [4, 4, 3])
    b2.op("SQUEEZE", [x2], [y2], options("SqueezeOptions", squeezeDims=[0]))
    return {"slice": sliced, "strided_slice": b.build([x], [y]), "squeeze": b2.build([x2], [y2])}


@pytest.fixture(scope="module")
def emitted():
    """(struct, field names, op kind, model) of every Emitter.params call and nested CStruct; the kinds
    compiled."""
    calls: list[tuple[str, list[str], str, str]] = []
    kinds: set[str] = set()
    original = Emitter.params

    def record(ctype: str, fields, where: tuple[str, str]) -> None:
        calls.append((ctype, [f for f, _ in fields], *where))
        for _, value in fields:
            if isinstance(value, CStruct):
                record(value.ctype, value.fields, where)

    current = ["", ""]

    def params(self, struct, fields, hint="params"):
        record(struct, list(fields), (self.op.kind if self.op is not None else "", current[0]))
        return original(self, struct, fields, hint)

    Emitter.params = params
    try:
        graphs = [(p.name, load_model(p)) for p in REPO_MODELS]
        graphs += [(name, parse_model(data)) for name, data in {**single_op_models(), **_slices()}.items()]
        for name, g in graphs:
            current[0] = name
            kinds |= {op.kind for op in g.ops}
            compile_graph(g, prefix="m_" + re.sub(r"\W", "_", name))
        for kind in ("ADD", "MUL"):  # the arm-dsp elementwise kernels have structs of their own
            current[0] = f"{kind} (arm-dsp)"
            compile_graph(parse_model(_binary(kind, shape2=(1, 2, 4, 3))), options=PlanOptions(kernels="arm-dsp"))
        for p in REPO_MODELS[:4]:  # patch-based inference adds TD_PLACE / TD_CROP
            current[0] = p.name + " (patch)"
            m = compile_graph(load_model(p), options=PlanOptions(planner="greedy", patch="auto"))
            kinds |= {op.kind for op in m.graph.ops}
    finally:
        Emitter.params = original
    return calls, kinds


def test_header_parser_reads_the_structs():
    assert STRUCTS["td_dims"] == {"n": "int32_t", "h": "int32_t", "w": "int32_t", "c": "int32_t"}
    assert STRUCTS["td_conv_params"]["window"] == "td_window"
    assert STRUCTS["td_requant"]["multiplier"] == "int32_t"
    assert {"shape", "stride1", "stride2", "rank"} == set(STRUCTS["td_bcast"])


def test_every_emitted_struct_sets_every_field(emitted):
    calls, _ = emitted
    wrong = []
    for struct, fields, kind, model in calls:
        assert len(fields) == len(set(fields)), f"{struct} from {kind} ({model}) sets a field twice: {fields}"
        want = STRUCTS.get(struct)
        if want is None:
            wrong.append(f"{kind} ({model}): no C struct {struct}")
            continue
        missing, extra = set(want) - set(fields), set(fields) - set(want)
        if missing or extra:
            wrong.append(f"{kind} ({model}): {struct} misses {sorted(missing)}, has unknown {sorted(extra)}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_every_op_and_struct_is_covered(emitted):
    calls, kinds = emitted
    assert set(supported_kinds()) <= kinds
    seen = {struct for struct, *_ in calls}
    params = {name for name in STRUCTS if name not in NOT_PARAMS}
    assert params <= seen, f"no model emits {sorted(params - seen)}"
