"""PAD folding: a spatial PAD / PADV2 whose pad value is the input zero point (a real 0) feeding a
CONV_2D or DEPTHWISE_CONV_2D becomes that op's explicit padding, so the padded copy never exists.

TF exports `ZeroPadding2D` / `tf.pad` before stride-2 depthwise convs (MobileNet, MCUNet); the PAD's
input and its padded copy are then live together and set the peak. Exact: the kernels leave taps
outside the input out of the sum, which equals padding with the input zero point ((zp - zp) * w = 0),
and take the output size from the output tensor, so any extra bottom/right padding is implicit.
Pools are not folded: a padded zero takes part in MAX_POOL's maximum and in AVERAGE_POOL's divisor,
which the pools' own padding leaves out.

    g = fold_pads(g)     # a copy without the foldable PADs (g itself when there is none)
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Op, Tensor
from ..ops._common import explicit_padding_reason
from ..ops.window import window

FOLD_INTO = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _spatial_pads(op: Op, g: Graph) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of a PAD/PADV2 over H and W of an NHWC tensor that folds, else None."""
    if op.kind not in ("PAD", "PADV2") or len(op.inputs) < 2 or len(op.outputs) != 1:
        return None
    inp, pads_t, out = g.tensor(op.inputs[0]), g.tensor(op.inputs[1]), g.tensors[op.outputs[0]]
    if inp is None or pads_t is None or pads_t.data is None or len(inp.shape) != 4:
        return None
    if inp.dtype not in ("int8", "int16") or out.dtype != inp.dtype or not _same_quant(inp, out):
        return None
    pads = np.asarray(pads_t.data).reshape(-1, 2).astype(np.int64)
    if pads.shape != (4, 2) or pads[0].any() or pads[3].any() or (pads < 0).any():
        return None
    value = out.zero_point
    if op.kind == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        cv = g.tensors[op.inputs[2]]
        if cv.data is None or cv.size != 1:
            return None
        value = int(np.asarray(cv.data).reshape(-1)[0])
    if value != inp.zero_point:
        return None
    (top, bottom), (left, right) = pads[1].tolist(), pads[2].tolist()
    return top, bottom, left, right


def _same_quant(a: Tensor, b: Tensor) -> bool:
    return a.scale == b.scale and a.zero_point == b.zero_point


def _folded_padding(reader: Op, g: Graph, source: Tensor, top: int, left: int) -> tuple[int, int] | None:
    """The (top, left) explicit padding of `reader` when it reads `source` (the PAD's input) instead of
    the PAD's output, or None when the windows would not fit the kernels' explicit padding rule."""
    if reader.kind not in FOLD_INTO or reader.options is None:
        return None
    padded, w, out = g.tensors[reader.inputs[0]], g.tensors[reader.inputs[1]], g.tensors[reader.outputs[0]]
    if len(w.shape) != 4 or len(out.shape) != 4:
        return None
    o = reader.options
    stride, dilation = (o.strideH, o.strideW), (o.dilationHFactor, o.dilationWFactor)
    explicit = (tuple(out.shape[1:3]), reader.explicit_padding) if reader.explicit_padding is not None else None
    win = window(o.padding, tuple(padded.shape[1:3]), tuple(w.shape[1:3]), stride, dilation, explicit)
    folded = replace(reader, explicit_padding=(win.pad_h + top, win.pad_w + left))
    if explicit_padding_reason(folded, tuple(source.shape[1:3]), tuple(out.shape[1:3]), tuple(w.shape[1:3]),
                               stride, dilation):
        return None  # a window entirely in the padding
    return folded.explicit_padding


def fold_pads(g: Graph) -> Graph:
    """A copy of g with every foldable PAD folded into its readers (see the module doc)."""
    readers: dict[int, list[int]] = {}
    for op in g.ops:
        for k, t in enumerate(op.inputs):
            if t >= 0:
                readers.setdefault(t, []).append(op.index if k == 0 else -1)  # -1: read as a non-data input
    ops, changed = list(g.ops), False
    for pad in g.ops:
        amounts = _spatial_pads(pad, g)
        out_t = pad.outputs[0]
        if amounts is None or out_t in g.outputs:
            continue
        top, _, left, _ = amounts
        folded = 0
        for r in readers.get(out_t, []):
            padding = None if r < 0 else _folded_padding(ops[r], g, g.tensors[pad.inputs[0]], top, left)
            if padding is None:
                continue
            inputs = [pad.inputs[0], *ops[r].inputs[1:]]
            ops[r] = replace(ops[r], inputs=inputs, explicit_padding=padding)
            folded += 1
        if folded:
            changed = True
            if folded == len(readers[out_t]):
                ops[pad.index] = None  # no reader left
    if not changed:
        return g
    kept = [op for op in ops if op is not None]
    return replace(g, ops=[replace(op, index=i) for i, op in enumerate(kept)])
