"""A graph re-made at another input resolution and width multiplier, for what-if estimates (whatif.py).

scale_graph(g, resolution, width) returns a copy of g whose shapes are those the same architecture
would have if it had been built for a `resolution` x smaller (or larger) input image and with
`width` x the hidden channels (MobileNet's alpha):

- the height and width of every 4-D NHWC model input scale (rounded half up, at least 1); the
  new spatial sizes go through each op's own rule: conv/depthwise/pool windows with their stride,
  dilation and SAME (ceil) / VALID padding, PAD amounts, global pools stay global, MEAN/RESHAPE/
  CONCATENATION/RESIZE as the op defines them;
- the output channels of CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV scale (round(C x width), at
  least 1), except where they reach a model output through channel-keeping ops (the classifier);
  the model input's channels never scale; depthwise channels follow their input;
- constant tensors (weights, biases, per-channel scales, shape/size operands) get the new shapes,
  their values resampled from the originals (nearest index), so the generated C has the new sizes.

The weights' values mean nothing: the copy is for planning, MACs and sizes, never for running.
An op it cannot rescale raises ScaleError (at 1.0 x 1.0 every op keeps its shapes).
"""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from ..compile import Graph, out_size

#: ops whose weights decide the output channels (scaled by the width multiplier)
WEIGHT_OPS = ("CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")
POOLS = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D")
ELEMENTWISE = ("ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "POW")
REDUCE = ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")
VIEWS = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
#: ops whose output has the shape of input 0
UNARY = ("QUANTIZE", "DEQUANTIZE", "SOFTMAX", "LOG_SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6",
         "RELU_N1_TO_1", "RELU_0_TO_1", "LEAKY_RELU", "HARD_SWISH", "ABS", "NEG", "ELU", "PRELU")


class ScaleError(ValueError):
    """The graph has an op whose shapes scale_graph cannot derive."""


def scaled(n: int, factor: float) -> int:
    """n x factor, rounded half up, at least 1."""
    return max(1, int(n * factor + 0.5))


def resample(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`a` at another shape of the same rank: each new index takes the old one at the same relative place."""
    if tuple(a.shape) == tuple(shape):
        return a
    idx = [np.minimum((np.arange(new) * old) // max(new, 1), old - 1) for old, new in zip(a.shape, shape)]
    return a[np.ix_(*idx)] if a.ndim else a


class _Scaler:
    def __init__(self, g: Graph, resolution: float, width: float) -> None:
        self.g, self.resolution, self.width = g, resolution, width
        self.shapes = {i: tuple(int(d) for d in t.shape) for i, t in enumerate(g.tensors)}
        self.const_shapes: dict[int, tuple[int, ...]] = {}   # const tensor -> new shape (data resampled)
        self.const_values: dict[int, np.ndarray] = {}        # const tensor -> new contents (shape operands)
        self.options: dict[int, object] = {}                 # op index -> changed options
        self.fixed = self._fixed_channels()

    def _fixed_channels(self) -> set[int]:
        """Tensors whose channel count is the model's contract: outputs and what reaches them through
        ops other than the weight ops (a classifier's logits, its softmax, reshapes)."""
        fixed = set(self.g.outputs)
        for op in reversed(self.g.ops):
            if op.kind not in WEIGHT_OPS and any(t in fixed for t in op.outputs):
                fixed.update(t for t in op.inputs if t >= 0 and not self.g.tensors[t].is_const)
        return fixed

    def out_channels(self, op, c: int) -> int:
        return c if op.outputs[0] in self.fixed else scaled(c, self.width)

    def set_const(self, t: int, shape: tuple[int, ...]) -> None:
        if t >= 0 and tuple(shape) != self.shapes[t]:
            self.const_shapes[t] = tuple(shape)
            self.shapes[t] = tuple(shape)

    def set_value(self, t: int, values: list[int]) -> None:
        old = self.g.tensors[t].data
        if [int(v) for v in old.reshape(-1)] != list(values):
            self.const_values[t] = np.asarray(values, dtype=old.dtype).reshape(old.shape)

    def opts(self, op):
        if op.index not in self.options:
            self.options[op.index] = copy.copy(op.options)
        return self.options[op.index]

    def run(self) -> Graph:
        if self.g.shared or self.g.external or any(op.explicit_padding for op in self.g.ops):
            raise ScaleError("the graph went through the compiler's passes: rescale the graph as loaded")
        for t in self.g.inputs:
            s = self.shapes[t]
            if len(s) == 4:
                self.shapes[t] = (s[0], scaled(s[1], self.resolution), scaled(s[2], self.resolution), s[3])
        for op in self.g.ops:
            rule = _RULES.get(op.kind)
            if rule is None:
                if any(self._changed(t) for t in op.inputs if t >= 0):
                    raise ScaleError(f"op {op.index} {op.kind}: its shapes cannot be rescaled (not estimated)")
                continue
            rule(self, op)
            empty = [t for t in op.outputs if t >= 0 and min(self.shapes[t], default=1) <= 0]
            if empty:
                raise ScaleError(f"op {op.index} {op.kind}: its input {self.shapes[op.inputs[0]]} is smaller than "
                                 f"its window: no output")
        return self._graph()

    def _changed(self, t: int) -> bool:
        return self.shapes[t] != tuple(self.g.tensors[t].shape)

    def _graph(self) -> Graph:
        tensors = []
        for i, t in enumerate(self.g.tensors):
            shape = self.shapes[i]
            if shape == tuple(t.shape) and i not in self.const_values:
                tensors.append(t)
                continue
            data, quant = t.data, t.quant
            if i in self.const_values:
                data = self.const_values[i]
            elif data is not None:
                data = np.ascontiguousarray(resample(data, shape))
            if quant is not None and quant.per_channel and quant.axis < len(shape):
                n = shape[quant.axis]
                quant = replace(quant, scale=resample(quant.scale, (n,)), zero_point=resample(quant.zero_point, (n,)))
            tensors.append(replace(t, shape=shape, data=data, quant=quant))
        ops = [replace(op, options=self.options[op.index]) if op.index in self.options else op for op in self.g.ops]
        return replace(self.g, tensors=tensors, ops=ops)


def _same(s: _Scaler, op) -> None:
    for t in op.outputs:
        s.shapes[t] = s.shapes[op.inputs[0]]


def _window_out(o, in_hw: tuple[int, int], filt: tuple[int, int]) -> tuple[int, int]:
    """Output height and width of a sliding window with options `o` (TFLite's ComputeOutSize)."""
    dil = (getattr(o, "dilationHFactor", 1) or 1, getattr(o, "dilationWFactor", 1) or 1)
    return (out_size(o.padding, in_hw[0], filt[0], o.strideH, dil[0]),
            out_size(o.padding, in_hw[1], filt[1], o.strideW, dil[1]))


def _conv(s: _Scaler, op) -> None:
    x, w, b = (op.inputs + [-1])[:3]
    n, h, wd, cin = s.shapes[x]
    old_cin = s.g.tensors[x].shape[3]
    o_old, kh, kw, i_old = s.g.tensors[w].shape
    groups = max(1, old_cin // i_old)
    if cin % groups:
        raise ScaleError(f"op {op.index} CONV_2D: {cin} input channels do not split into {groups} groups")
    cout = s.out_channels(op, o_old)
    cout = max(groups, (cout // groups) * groups)
    s.set_const(w, (cout, kh, kw, cin // groups))
    s.set_const(b, (cout,))
    s.shapes[op.outputs[0]] = (n, *_window_out(op.options, (h, wd), (kh, kw)), cout)


def _depthwise(s: _Scaler, op) -> None:
    x, w, b = (op.inputs + [-1])[:3]
    n, h, wd, cin = s.shapes[x]
    _, kh, kw, c_old = s.g.tensors[w].shape
    mult = max(1, c_old // s.g.tensors[x].shape[3])
    s.set_const(w, (1, kh, kw, cin * mult))
    s.set_const(b, (cin * mult,))
    s.shapes[op.outputs[0]] = (n, *_window_out(op.options, (h, wd), (kh, kw)), cin * mult)


def _transpose_conv(s: _Scaler, op) -> None:
    shape_t, w, x = op.inputs[:3]
    b = op.inputs[3] if len(op.inputs) > 3 else -1
    n, h, wd, cin = s.shapes[x]
    o_old, kh, kw, _ = s.g.tensors[w].shape
    cout = s.out_channels(op, o_old)
    o = op.options

    def size(i: int, k: int, stride: int) -> int:  # Keras Conv2DTranspose without output_padding
        return i * stride if o.padding == 0 else i * stride + max(k - stride, 0)

    out = (n, size(h, kh, o.strideH), size(wd, kw, o.strideW), cout)
    if s.shapes[x] != tuple(s.g.tensors[x].shape) or cout != o_old:
        s.set_value(shape_t, list(out))
    else:
        out = tuple(s.g.tensors[op.outputs[0]].shape)
    s.set_const(w, (cout, kh, kw, cin))
    s.set_const(b, (cout,))
    s.shapes[op.outputs[0]] = out


def _fully_connected(s: _Scaler, op) -> None:
    x, w, b = (op.inputs + [-1])[:3]
    old_x, new_x = tuple(s.g.tensors[x].shape), s.shapes[x]
    units, feats = s.g.tensors[w].shape
    rows = int(np.prod(old_x)) // feats
    if old_x and old_x[-1] == feats:        # one row per leading index: the last dim is the features
        feats_new, rows_new = new_x[-1], int(np.prod(new_x[:-1], dtype=np.int64))
    else:                                    # flattening: the rows stay, the features absorb the rest
        feats_new, rows_new = int(np.prod(new_x)) // rows, rows
    u = s.out_channels(op, units)
    s.set_const(w, (u, feats_new))
    s.set_const(b, (u,))
    keep = getattr(op.options, "keepNumDims", False)
    s.shapes[op.outputs[0]] = (*new_x[:-1], u) if keep else (rows_new, u)


def _pool(s: _Scaler, op) -> None:
    n, h, wd, c = s.shapes[op.inputs[0]]
    _, oh, ow, _ = s.g.tensors[op.inputs[0]].shape
    o = op.options
    if (o.filterHeight, o.filterWidth) == (oh, ow) and tuple(s.g.tensors[op.outputs[0]].shape[1:3]) == (1, 1) \
            and (h, wd) != (oh, ow):             # a global pool stays global
        o = s.opts(op)
        if (o.strideH, o.strideW) == (o.filterHeight, o.filterWidth):
            o.strideH, o.strideW = h, wd
        o.filterHeight, o.filterWidth = h, wd
    s.shapes[op.outputs[0]] = (n, *_window_out(o, (h, wd), (o.filterHeight, o.filterWidth)), c)


def _pad(s: _Scaler, op) -> None:
    pads = s.g.tensors[op.inputs[1]].data.reshape(-1, 2)
    s.shapes[op.outputs[0]] = tuple(d + int(a) + int(b) for d, (a, b) in zip(s.shapes[op.inputs[0]], pads))


def _reduce(s: _Scaler, op) -> None:
    shape = s.shapes[op.inputs[0]]
    axes = {int(a) % len(shape) for a in s.g.tensors[op.inputs[1]].data.reshape(-1)}
    keep = getattr(op.options, "keepDims", False)
    s.shapes[op.outputs[0]] = tuple(1 if i in axes else d for i, d in enumerate(shape) if keep or i not in axes)


def _elementwise(s: _Scaler, op) -> None:
    acts = [t for t in op.inputs if t >= 0 and not s.g.tensors[t].is_const]
    out = np.broadcast_shapes(*(s.shapes[t] for t in acts)) if acts else s.shapes[op.outputs[0]]
    old_out = tuple(s.g.tensors[op.outputs[0]].shape)
    for t in op.inputs:
        if t >= 0 and s.g.tensors[t].is_const and len(s.shapes[t]):   # a constant operand follows the broadcast
            old = s.shapes[t]
            lead = len(out) - len(old)
            s.set_const(t, tuple(out[lead + i] if d > 1 and d == old_out[lead + i] else d for i, d in enumerate(old)))
    s.shapes[op.outputs[0]] = tuple(int(d) for d in out)


def _concat(s: _Scaler, op) -> None:
    shapes = [s.shapes[t] for t in op.inputs if t >= 0]
    axis = op.options.axis % len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(sh[axis] for sh in shapes)
    s.shapes[op.outputs[0]] = tuple(out)


def _view(s: _Scaler, op) -> None:
    """RESHAPE/SQUEEZE/EXPAND_DIMS: runs of dims with equal products map onto each other; a run whose
    input changed puts its new product into the run's one non-1 output dim."""
    x, out_t = op.inputs[0], op.outputs[0]
    old_in, new_in, old_out = tuple(s.g.tensors[x].shape), s.shapes[x], tuple(s.g.tensors[out_t].shape)
    if old_in == new_in:
        s.shapes[out_t] = old_out
        return
    new_out, i, j = list(old_out), 0, 0
    while i < len(old_in) or j < len(old_out):
        i0, j0, pin, pout = i, j, 1, 1
        while True:
            if pin <= pout and i < len(old_in):
                pin *= old_in[i]
                i += 1
            elif j < len(old_out):
                pout *= old_out[j]
                j += 1
            else:
                break
            if pin == pout and (i == len(old_in) or old_in[i] != 1) and (j == len(old_out) or old_out[j] != 1):
                break
        prod_new = int(np.prod(new_in[i0:i], dtype=np.int64))
        if prod_new != pin:
            big = [k for k in range(j0, j) if old_out[k] != 1]
            if len(big) != 1:
                raise ScaleError(f"op {op.index} {op.kind}: {old_in} -> {old_out} cannot follow {new_in}")
            new_out[big[0]] = prod_new
    s.shapes[out_t] = tuple(new_out)
    if op.kind == "RESHAPE":
        if len(op.inputs) > 1 and op.inputs[1] >= 0:
            shape_t = s.g.tensors[op.inputs[1]]
            s.set_value(op.inputs[1], [(-1 if int(v) == -1 else d) for v, d in zip(shape_t.data.reshape(-1), new_out)])
        if op.options is not None and getattr(op.options, "newShape", None):
            s.opts(op).newShape = list(new_out)


def _resize(s: _Scaler, op) -> None:
    n, h, wd, c = s.shapes[op.inputs[0]]
    _, oh, ow, _ = s.g.tensors[op.inputs[0]].shape
    size = [int(v) for v in s.g.tensors[op.inputs[1]].data.reshape(-1)]
    new = [scaled(size[0], h / oh), scaled(size[1], wd / ow)]
    s.set_value(op.inputs[1], new)
    s.shapes[op.outputs[0]] = (n, new[0], new[1], c)


_RULES = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "TRANSPOSE_CONV": _transpose_conv,
          "FULLY_CONNECTED": _fully_connected, "PAD": _pad, "PADV2": _pad, "MIRROR_PAD": _pad,
          "CONCATENATION": _concat, "RESIZE_NEAREST_NEIGHBOR": _resize, "RESIZE_BILINEAR": _resize,
          **{k: _pool for k in POOLS}, **{k: _reduce for k in REDUCE}, **{k: _elementwise for k in ELEMENTWISE},
          **{k: _view for k in VIEWS}, **{k: _same for k in UNARY}}


def scale_graph(g: Graph, resolution: float = 1.0, width: float = 1.0) -> Graph:
    """g re-made for `resolution` x its input's height and width and `width` x its hidden channels
    (see the module doc). Raises ScaleError where an op's new shapes cannot be derived."""
    return _Scaler(g, resolution, width).run()
