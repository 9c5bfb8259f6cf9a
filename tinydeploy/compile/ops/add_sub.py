"""ADD and SUB: int8, and int16 (general rescaling or TFLite's power-of-two path), with
fused activations and numpy broadcasting. Also home of the broadcast helpers that MUL,
MAXIMUM and MINIMUM share (`broadcast_check`, `bcast_field`, `bcast_fields`)."""
from __future__ import annotations

import math

import numpy as np

from ..codegen.emitter import CStruct
from ..ir import Graph, Op, Tensor
from ..quant import quantize_multiplier
from . import OpLowering, register
from ._arm import uses_arm_dsp
from ._arm_elementwise import add_arm_fields
from ._common import activation, check_fused_activation, tensors

#: must match TD_BCAST_MAX_DIMS in td_elementwise.h
MAX_BCAST_DIMS = 6


# ---- broadcasting (shared with mul.py and maximum_minimum.py) ------------------------------

def broadcast_plan(s1: tuple[int, ...], s2: tuple[int, ...], out: tuple[int, ...]):
    """(shape, stride1, stride2) of the fused loop nest, outermost first, or None when the
    output shape is not the broadcast of the two input shapes."""
    try:
        want = tuple(int(d) for d in np.broadcast_shapes(tuple(s1), tuple(s2)))
    except ValueError:
        return None
    if tuple(out) != want and not (len(want) == 0 and tuple(out) in ((), (1,))):
        return None
    n = max(len(s1), len(s2), len(out), 1)
    o = [1] * (n - len(out)) + list(out)
    a = [1] * (n - len(s1)) + list(s1)
    b = [1] * (n - len(s2)) + list(s2)

    def strides(shape):
        st, acc = [0] * n, 1
        for i in range(n - 1, -1, -1):
            st[i] = 0 if shape[i] == 1 else acc
            acc *= shape[i]
        return st

    sa, sb = strides(a), strides(b)
    dims = [(o[i], sa[i], sb[i]) for i in range(n) if o[i] != 1]
    if not dims:
        return [1], [1], [1]
    fused = [list(dims[-1])]
    for ext, x, y in reversed(dims[:-1]):
        inner = fused[0]
        if x == inner[1] * inner[0] and y == inner[2] * inner[0]:
            inner[0] *= ext  # contiguous (or broadcast in both) with the inner loop: fuse
        else:
            fused.insert(0, [ext, x, y])
    return [f[0] for f in fused], [f[1] for f in fused], [f[2] for f in fused]


def broadcast_check(g: Graph, op: Op) -> str | None:
    a, b = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    out = g.tensors[op.outputs[0]]
    plan = broadcast_plan(a.shape, b.shape, out.shape)
    if plan is None:
        return f"shapes {list(a.shape)} and {list(b.shape)} do not broadcast to {list(out.shape)}"
    if len(plan[0]) > MAX_BCAST_DIMS:
        return f"broadcast needs {len(plan[0])} loop dimensions (at most {MAX_BCAST_DIMS} supported)"
    return None


def bcast_fields(g: Graph, op: Op) -> list[tuple[str, object]]:
    """The td_bcast fields (rank and the three arrays as C initializers) for e.params."""
    a, b = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    out = g.tensors[op.outputs[0]]
    shape, sa, sb = broadcast_plan(a.shape, b.shape, out.shape)
    pad = MAX_BCAST_DIMS - len(shape)

    def arr(v):
        return "{" + ", ".join(f"{int(x)}L" if abs(int(x)) > 32767 else str(int(x)) for x in v) + "}"

    return [("rank", len(shape)), ("shape", arr(shape + [1] * pad)), ("stride1", arr(sa + [0] * pad)),
            ("stride2", arr(sb + [0] * pad))]


def bcast_field(g: Graph, op: Op) -> CStruct:
    """The td_bcast (nested in a params struct) for the op's inputs and output."""
    return CStruct("td_bcast", bcast_fields(g, op))


def same_shapes(g: Graph, op: Op) -> bool:
    """True when TFLite sees no broadcast (ProcessBroadcastShapes): equal shapes after padding
    the shorter one with leading 1s."""
    a, b = tuple(g.tensors[op.inputs[0]].shape), tuple(g.tensors[op.inputs[1]].shape)
    n = max(len(a), len(b))
    return (1,) * (n - len(a)) + a == (1,) * (n - len(b)) + b


def check_quantized_operands(ts: list[Tensor | None], dtypes: tuple[str, ...]) -> str | None:
    """Common checks for quantized elementwise ops: types, per-tensor quantization, scales."""
    for t in ts:
        if t is None:
            return "missing input"
        if t.dtype not in dtypes:
            return f"type {t.dtype} is not supported (only {'/'.join(dtypes)})"
        if t.quant is None:
            return f"tensor {t.name!r} is not quantized"
        if t.quant.scale.size != 1:
            return f"tensor {t.name!r} has per-channel quantization (needs one scale)"
        if not (float(t.scale) > 0 and math.isfinite(float(t.scale))):
            return f"tensor {t.name!r} has scale {t.scale} (must be positive)"
    return None


def check_quantized_binary(op: Op, g: Graph) -> str | None:
    """ADD, SUB, MUL: two inputs and one output, int8 or int16, quantized per tensor."""
    ins, outs = tensors(g, op)
    if len(ins) != 2 or len(outs) != 1:
        return "needs 2 inputs and 1 output"
    return check_quantized_operands([ins[0], ins[1], outs[0]], ("int8", "int16"))


class QuantizedBinary(OpLowering):
    """ADD, SUB and MUL: two quantized operands, broadcast; the output may overwrite input 0."""

    header = "td_elementwise.h"
    inplace = True  # safe when input 0 has the output's shape and type (see td_elementwise.h)

    def check(self, op: Op, g: Graph) -> str | None:
        reason = check_quantized_binary(op, g)
        if reason:
            return reason
        (a, b), (out,) = tensors(g, op)
        return self.check_operands(op, g, a, b, out)

    def check_operands(self, op: Op, g: Graph, a: Tensor, b: Tensor, out: Tensor) -> str | None:
        """The op's own rules for the operand types and quantization."""
        raise NotImplementedError


# ---- ADD / SUB -----------------------------------------------------------------------------

def checked_log2(x: float) -> tuple[bool, int]:
    """TFLite CheckedLog2 in float: (is power of two within 1e-3 in log2, rounded log2)."""
    x32 = np.float32(x)
    lg = np.float32(np.log(x32)) * np.float32(1.0 / np.log(np.float32(2.0)))
    r = np.float32(math.floor(abs(float(lg)) + 0.5) * (1 if lg >= 0 else -1))
    return bool(np.float32(abs(np.float32(lg - r))) < np.float32(1e-3)), int(r)


def _pot_path(op: Op, a: Tensor, b: Tensor, out: Tensor) -> tuple[bool, int, int, int]:
    """(uses the int16 power-of-two path, log2 in1, log2 in2, log2 out) as TFLite Prepare decides.
    Without AddOptions/SubOptions LiteRT takes the general path (found against the oracle)."""
    if out.dtype != "int16":
        return False, 0, 0, 0
    opts = op.options
    if opts is None or not bool(getattr(opts, "potScaleInt16", False)):
        return False, 0, 0, 0
    (p1, l1), (p2, l2), (p3, l3) = checked_log2(a.scale), checked_log2(b.scale), checked_log2(out.scale)
    return (p1 and p2 and p3), l1, l2, l3


def add_multipliers(a: Tensor, b: Tensor, out: Tensor, left_shift: int):
    """(in1 mult, in1 shift, in2 mult, in2 shift, out mult, out shift, real output multiplier),
    in double from the float32 scales as TFLite's Prepare."""
    s1, s2, so = float(np.float32(a.scale)), float(np.float32(b.scale)), float(np.float32(out.scale))
    twice_max = 2.0 * max(s1, s2)
    real1, real2 = s1 / twice_max, s2 / twice_max
    real_out = twice_max / (float(1 << left_shift) * so)
    m1, sh1 = quantize_multiplier(real1)
    m2, sh2 = quantize_multiplier(real2)
    mo, sho = quantize_multiplier(real_out)
    return m1, sh1, m2, sh2, mo, sho, real_out


@register("ADD", "SUB")
class AddSub(QuantizedBinary):
    def check_operands(self, op: Op, g: Graph, a: Tensor, b: Tensor, out: Tensor) -> str | None:
        if not (a.dtype == b.dtype == out.dtype):
            return f"type combination {a.dtype}/{b.dtype}->{out.dtype} is not supported"
        reason = check_fused_activation(op) or broadcast_check(g, op)
        if reason:
            return reason
        if out.dtype == "int16":
            if a.zero_point or b.zero_point or out.zero_point:
                return "int16 operands need zero point 0"
            pot, l1, l2, lo = _pot_path(op, a, b, out)
            if pot:
                s1, s2 = l1 - lo, l2 - lo
                if not (s1 == 0 or s2 == 0) or s1 > 0 or s2 > 0:
                    return ("int16 power-of-two scales: one input must have the output scale and the "
                            "other a smaller one (TFLite rejects this)")
                if op.kind == "ADD" and not same_shapes(g, op):
                    return "int16 power-of-two-scale ADD does not support broadcasting (TFLite neither)"
                return None
        else:
            for t in (a, b, out):
                if not -128 <= t.zero_point <= 127:
                    return f"zero point {t.zero_point} is outside the int8 range"
        *_, real_out = add_multipliers(a, b, out, 20 if out.dtype == "int8" else 15)
        if real_out >= 1.0:  # ADD: TFLite aborts; SUB: its double-rounding kernel shifts by a negative amount
            return "output scale is too small relative to the input scales (2 * max input scale / output scale >= 2^" \
                f"{20 if out.dtype == 'int8' else 15})"
        return None

    def macs(self, op: Op, g: Graph) -> int:
        return g.tensors[op.outputs[0]].size

    def emit(self, op: Op, g: Graph, e) -> None:
        (a, b), (out,) = tensors(g, op)
        s16 = out.dtype == "int16"
        name = "td_add" if op.kind == "ADD" else "td_sub"
        pot, l1, l2, lout = _pot_path(op, a, b, out)
        if pot:
            p = e.params("td_add_pot_params", [
                ("input1_right_shift", lout - l1), ("input2_right_shift", lout - l2),
                ("activation", activation(op, out)), ("bcast", bcast_field(g, op)),
            ])
            fn = name + "_s16_pot"
        else:
            left_shift = 15 if s16 else 20
            mults = add_multipliers(a, b, out, left_shift)
            arm = uses_arm_dsp(e.kernels) and not s16 and same_shapes(g, op) and add_arm_fields(op.kind, a, b, out, mults)
            if arm:  # arm-dsp: same shapes, each requantization one SMMLAR (SUB: negative coefficient)
                p = e.params("td_add_arm_params", [("size", out.size), *arm, ("activation", activation(op, out))])
                e.call("td_add_s8_arm_dsp", p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True),
                       e.ptr(op.outputs[0]))
                return
            m1, sh1, m2, sh2, mo, sho, _ = mults
            p = e.params("td_add_params", [
                ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point),
                ("output_offset", out.zero_point), ("left_shift", left_shift),
                ("input1_multiplier", m1), ("input1_shift", sh1),
                ("input2_multiplier", m2), ("input2_shift", sh2),
                ("output_multiplier", mo), ("output_shift", sho),
                ("activation", activation(op, out)), ("bcast", bcast_field(g, op)),
            ])
            fn = name + ("_s16" if s16 else "_s8")
        e.call(fn, p, e.ptr(op.inputs[0], const=True), e.ptr(op.inputs[1], const=True), e.ptr(op.outputs[0]))
