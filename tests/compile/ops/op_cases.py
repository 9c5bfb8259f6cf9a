"""Case generators that several op tests share: random quantization, shapes, operands and models
drawn the same way for each op family. Each draws from the caller's rng in a fixed order, so a
test's seed still pins its cases."""
import math
import re

import numpy as np
import pytest

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops.window import window
from tinydeploy.compile.tflite import schema as S
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.errors import UnsupportedModelError
from tinydeploy.testing.builder import ModelBuilder
from tinydeploy.testing.opcheck import Case


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


# --- single-input single-output ops (activations, QUANTIZE, SOFTMAX, LOGISTIC, ...)

def unary_op(b: ModelBuilder, kind: str, shape, in_dtype: str, in_q, out_dtype: str, out_q, opts=None,
             axis: int = 0) -> tuple[int, int]:
    """Add input, output and the op to `b` (a quantization of None: no quantization); returns (x, y)."""
    x = b.tensor(shape, in_dtype, *(in_q or (None, None)), axis=axis)
    y = b.tensor(shape, out_dtype, *(out_q or (None, None)), axis=axis)
    b.op(kind, [x], [y], opts)
    return x, y


def unary_model(kind: str, shape, in_dtype: str, in_q, out_dtype: str, out_q, opts=None, axis: int = 0) -> bytes:
    b = ModelBuilder()
    x, y = unary_op(b, kind, shape, in_dtype, in_q, out_dtype, out_q, opts, axis)
    return b.build([x], [y])


def packed_cases(specs: list[dict], per_model: int) -> list[tuple[Case, list[np.ndarray]]]:
    """Pack single-op specs (kind, shape, in_dtype, in_q, out_dtype, out_q, opts, label, data) into
    models of `per_model` independent ops each (one graph input and output per op), with their
    inputs, for check_groups; a mismatch names the op by its label."""
    out = []
    for start in range(0, len(specs), per_model):
        chunk = specs[start:start + per_model]
        b = ModelBuilder()
        ios = [unary_op(b, s["kind"], s["shape"], s["in_dtype"], s["in_q"], s["out_dtype"], s["out_q"],
                        s.get("opts")) for s in chunk]
        model = b.build([x for x, _ in ios], [y for _, y in ios])
        out.append((Case(model, f"ops {start}..{start + len(chunk) - 1}", output_labels=[s["label"] for s in chunk]),
                    [s["data"] for s in chunk]))
    return out


# --- binary elementwise ops with broadcasting (ADD, SUB, MUL, MAXIMUM, MINIMUM)

def broadcast_shapes(rng: np.random.Generator, max_rank: int = 5):
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
    # the output shape must be exactly the broadcast result
    return list(np.broadcast_shapes(tuple(a), tuple(b))), a, b


def two_operands(rng: np.random.Generator, b: ModelBuilder, dtype: str, shapes, scales, zps):
    """The two input tensors of a binary op, one of them a random constant 2 times in 5. Returns
    (the op's inputs, the graph's inputs, the index of the constant operand or -1)."""
    const_in = int(rng.choice([-1, -1, -1, 0, 1]))
    info = np.iinfo(np.int8 if dtype == "int8" else np.int16)
    ids = []
    for k, shape in enumerate(shapes):
        data = rng.integers(info.min, int(info.max) + 1, shape) if k == const_in else None
        ids.append(b.tensor(shape, dtype, scales[k], zps[k], data=data))
    return ids, [t for k, t in enumerate(ids) if k != const_in], const_in


def all_pairs_case(rng: np.random.Generator, kind: str, dtype: str, scales, zps, opts, int16_limit: int = 32768,
                   n: int = 256) -> tuple[Case, list[np.ndarray]]:
    """Input 1 [n, 1] x input 2 [1, n] broadcast to [n, n], with its inputs: every pair of int8
    values (n random int16 values in [-int16_limit, int16_limit) each), so that single- and
    double-rounding requantization cannot both pass."""
    b = ModelBuilder()
    x = b.tensor([n, 1], dtype, scales[0], zps[0])
    w = b.tensor([1, n], dtype, scales[1], zps[1])
    y = b.tensor([n, n], dtype, scales[2], zps[2])
    b.op(kind, [x, w], [y], opts)
    if dtype == "int8":
        va = vb = np.arange(-128, 128)
    else:
        va, vb = rng.integers(-int16_limit, int16_limit, (2, n))
    xs = [va.reshape(1, n, 1).astype(dtype), vb.reshape(1, 1, n).astype(dtype)]
    label = f"{kind} {dtype} all pairs scales {list(scales)} zps {zps} act{opts.fusedActivationFunction}"
    return Case(b.build([x, w], [y]), label), xs


# --- convolutions (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV)

SAME, VALID = S.Padding.SAME, S.Padding.VALID


def conv_geometry(rng: np.random.Generator, max_hw: int, max_f: int, dilations_h, dilations_w):
    """batches, (h, w), (fh, fw), (sh, sw), (dh, dw), padding, (oh, ow) of a random window, redrawn
    until the output is not empty; dilated (from the given choices) 2 times in 5."""
    while True:
        batches = int(rng.choice([1, 1, 1, 2]))
        h, w = int(rng.integers(1, max_hw + 1)), int(rng.integers(1, max_hw + 1))
        fh, fw = int(rng.integers(1, max_f + 1)), int(rng.integers(1, max_f + 1))
        sh, sw = int(rng.choice([1, 1, 2, 3])), int(rng.choice([1, 1, 2, 3]))
        dh, dw = (int(rng.choice(dilations_h)), int(rng.choice(dilations_w))) if rng.random() < 0.4 else (1, 1)
        padding = int(rng.choice([SAME, VALID]))
        win = window(padding, (h, w), (fh, fw), (sh, sw), (dh, dw))
        if win.out_h >= 1 and win.out_w >= 1:
            return batches, (h, w), (fh, fw), (sh, sw), (dh, dw), padding, (win.out_h, win.out_w)


def conv_quant(rng: np.random.Generator, dtype: str, channels: int, per_channel: bool, taps: float):
    """(in_scale, in_zp), weight scales (per output channel or one), (out_scale, out_zp): the output
    scale spreads the accumulators of `taps` products over the output range (some clamp, most do
    not); int16 activations have zero points 0."""
    in_zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    out_zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    in_scale = float(rng.uniform(0.002, 0.1))
    w_scale = rng.uniform(0.002, 0.05, channels if per_channel else 1)
    rescale = float(rng.uniform(0.3, 3.0)) / (80.0 * math.sqrt(taps))
    return (in_scale, in_zp), w_scale, (in_scale * float(w_scale[0]) / rescale, out_zp)


def conv_bias(rng: np.random.Generator, dtype: str, taps: float, channels: int) -> np.ndarray:
    """Bias values of the accumulators' magnitude (x256 for int16 activations)."""
    return rng.normal(0, 60 * 74 * math.sqrt(taps) * (256 if dtype == "int16" else 1), channels).round()


def fixed_weights_bias(b: ModelBuilder, w_shape, w_zp: int, axis: int, per_channel: bool, bias_dtype: str):
    """All-ones weights of 3 output channels (scale 0.01, or 0.01/0.02/0.03 per channel) and a bias
    0, 1, 2: the constant operands of the small models that the reject tests vary."""
    wt = b.tensor(w_shape, "int8", [0.01, 0.02, 0.03] if per_channel else 0.01, w_zp, data=np.ones(w_shape),
                  axis=axis)
    return wt, b.tensor([3], bias_dtype, 0.0005, 0, data=np.arange(3))


def assert_rejected(model: bytes, reason: str) -> None:
    """Compiling `model` fails with UnsupportedModelError whose message contains `reason`."""
    with pytest.raises(UnsupportedModelError, match=re.escape(reason)):
        compile_graph(parse_model(model))
