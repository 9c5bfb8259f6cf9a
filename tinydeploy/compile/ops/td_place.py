"""Internal ops of patch-based inference (passes/patch.py); they never appear in .tflite files.

TD_CROP copies a box of its input (begin, size per dimension) into its own output: a tile's input
region read from the full tensor. TD_PLACE copies its whole input into a box of its output: a
tile's result written into the stage output. Both are one strided copy (td_copy_nd). When the
planner put the two buffers at the same address (a tile whose box is contiguous, stored as a view
into the full tensor), there is nothing to copy and nothing is emitted.

A TD_CROP from a float32 NHWC tensor into an int8/int16 one quantizes the box (td_quantize_f32_*, a
call per row of the box, one for full-width boxes): a patch stage that starts at the model's float
input edge QUANTIZE reads each tile straight from the caller's float buffer. Under the AVR kernels an
integer crop from the model input reads it through a `__memx` pointer, so the input may sit in flash.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..ir import Graph, Op
from . import OpLowering, register
from ._shape_ops import contiguous_strides, emit_copy_nd, too_many_dims

#: element types moved (the copy never looks at the values)
_TYPES = ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")


@dataclass(frozen=True)
class RegionOptions:
    """The box in the full tensor: begin and size per dimension (NHWC for patches)."""

    begin: tuple[int, ...]
    size: tuple[int, ...]


def region_offset(shape, begin) -> int:
    """Element index of `begin` in a row-major tensor of `shape`."""
    return sum(int(b) * s for b, s in zip(begin, contiguous_strides(shape)))


def region_span(shape, begin, size) -> tuple[int, int]:
    """[first, last + 1) element indices that a box touches in a row-major tensor of `shape`."""
    last = [int(b) + int(s) - 1 for b, s in zip(begin, size)]
    return region_offset(shape, begin), region_offset(shape, last) + 1


@register("TD_CROP", "TD_PLACE")
class Region(OpLowering):
    header = "td_shape_ops.h"

    def _full_and_box(self, op: Op, g: Graph):
        inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        return (inp, out) if op.kind == "TD_CROP" else (out, inp)

    def check(self, op: Op, g: Graph) -> str | None:
        if len(op.inputs) != 1 or len(op.outputs) != 1 or op.inputs[0] < 0:
            return f"{op.kind} needs 1 input and 1 output"
        o = op.options
        if not isinstance(o, RegionOptions):
            return f"{op.kind} needs RegionOptions"
        full, box = self._full_and_box(op, g)
        if op.kind == "TD_CROP" and full.dtype == "float32" and box.dtype in QUANTIZED:
            return _quantizing_crop_reason(full, box, o)
        if full.dtype != box.dtype or full.dtype not in _TYPES:
            return f"type {full.dtype} -> {box.dtype} is not supported"
        rank = len(full.shape)
        if len(o.begin) != rank or len(o.size) != rank or tuple(box.shape) != tuple(o.size):
            return f"box {o.begin}+{o.size} does not match shapes {list(full.shape)} / {list(box.shape)}"
        if any(b < 0 or s < 1 or b + s > d for b, s, d in zip(o.begin, o.size, full.shape)):
            return f"box {o.begin}+{o.size} is out of the bounds of {list(full.shape)}"
        strides = contiguous_strides(full.shape)
        return too_many_dims(o.size, strides, contiguous_strides(o.size))

    def emit(self, op: Op, g: Graph, e) -> None:
        o = op.options
        full, box = self._full_and_box(op, g)
        full_strides, box_strides = contiguous_strides(full.shape), contiguous_strides(o.size)
        at = region_offset(full.shape, o.begin)
        full_t, box_t = (op.inputs[0], op.outputs[0]) if op.kind == "TD_CROP" else (op.outputs[0], op.inputs[0])
        if full.dtype != box.dtype:
            _emit_quantizing_crop(op, g, e)
            return
        f_off = e.offsets.get(full_t)  # None: outside the arena (a model input in the caller's buffer)
        if f_off is not None and e.offsets.get(box_t) == f_off + at * full.itemsize and \
                is_contiguous_box(full.shape, o.begin, o.size):
            e.comment("the box is stored in place in the full tensor: nothing to copy")
            return
        src, dst = e.ptr(op.inputs[0], const=True), e.ptr(op.outputs[0])
        if op.kind == "TD_CROP" and reads_flash(e.kernels) and full_t in e.external:
            src = f"{e.prefix}_io_flash[{e.external[full_t]}]"  # the caller's input, maybe in flash (__memx)
            emit_copy_nd(e, o.size, full_strides, box_strides, at, 0, full.itemsize, src, dst, "crop",
                         "td_copy_nd_memx")
        elif op.kind == "TD_CROP":
            emit_copy_nd(e, o.size, full_strides, box_strides, at, 0, full.itemsize, src, dst, "crop")
        else:
            emit_copy_nd(e, o.size, box_strides, full_strides, 0, at, full.itemsize, src, dst, "place")


def reads_flash(kernels: str) -> bool:
    """An integer TD_CROP from a model input outside the arena reads it through a TD_WEIGHTS_MEM pointer (an
    image in flash on AVR: codegen/float_io.py's <name>_invoke_io_flash) under these kernels."""
    return kernels == "avr"


def is_contiguous_box(shape, begin, size) -> bool:
    """True when the box's elements are one contiguous run of the row-major tensor."""
    lo, hi = region_span(shape, begin, size)
    n = 1
    for s in size:
        n *= int(s)
    return hi - lo == n


#: element types a TD_CROP may quantize a float32 box into (the kernels of a patch stage)
QUANTIZED = ("int8", "int16")


def _quantizing_crop_reason(full, box, o: RegionOptions) -> str | None:
    """Why a float32 -> integer TD_CROP cannot be compiled: NHWC batch 1, every channel, and a per-tensor
    quantization or one per channel (the last axis)."""
    q = box.quant
    if len(full.shape) != 4 or full.shape[0] != 1 or tuple(box.shape) != tuple(o.size) or len(o.begin) != 4:
        return f"a quantizing crop needs batch-1 NHWC tensors (got {list(full.shape)} -> {list(box.shape)})"
    if o.begin[3] != 0 or o.size[3] != full.shape[3]:
        return "a quantizing crop takes every channel"
    if any(b < 0 or s < 1 or b + s > d for b, s, d in zip(o.begin, o.size, full.shape)):
        return f"box {o.begin}+{o.size} is out of the bounds of {list(full.shape)}"
    if q is None or (q.scale.size > 1 and (q.axis != 3 or q.scale.size != box.shape[3])):
        return "a quantizing crop needs a per-tensor or last-axis quantization"
    return None


def _emit_quantizing_crop(op: Op, g: Graph, e) -> None:
    """td_quantize_f32_<s8|s16> over each row of the box (one call when the rows are contiguous)."""
    from .quantize import SHORT, affine_fields

    full, box = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    (_, y0, x0, _), (_, bh, bw, c) = op.options.begin, op.options.size
    rows, row = (1, bh * bw * c) if bw == full.shape[2] else (bh, bw * c)
    fields = dict(affine_fields(e, box))
    if fields["channels"] > 1:  # per channel: pixels x channels
        fields.update(outer=row // c, inner=1)
    else:
        fields.update(outer=1, inner=row)
    p = e.params("td_affine_params", list(fields.items()), "crop_q")
    fn = f"td_quantize_f32_{SHORT[box.dtype]}"
    at = (y0 * full.shape[2] + x0) * c
    src = e.ptr(op.inputs[0], const=True) + (f" + {at}" if at else "")
    dst = e.ptr(op.outputs[0])
    if rows == 1:
        e.call(fn, p, src, dst)
        return
    e.line(f"{{ int32_t r; for (r = 0; r < {rows}; ++r) {fn}({p}, {src} + r * {full.shape[2] * c}, "
           f"{dst} + r * {row}); }}")
