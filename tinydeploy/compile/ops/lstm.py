"""UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer 8x8->16 variant (what the TFLite converter emits
for int8 models): int8 input/output/output state, int16 cell state, int8 weights, int32 biases;
CIFG, peephole (int16), layer norm (int16) and projection optional; time-major or batch-major.

Every constant is computed as LiteRT's unidirectional_sequence_lstm.cc Prepare does it:
effective scales in float32 arithmetic (some parts in double), zero points folded into
"effective biases" (PrecomputeZeroPointTimesWeightWithBias), quantized clips truncated.
"""
from __future__ import annotations

import math

import numpy as np

from ..codegen.emitter import CStruct
from ..ir import Graph, Op, Tensor
from ..quant import quantize_multiplier
from . import OpLowering, register
from ._common import tensors

F32 = np.float32

# input tensor indices (lstm_shared.h)
INPUT = 0
I2G = {"input": 1, "forget": 2, "cell": 3, "output": 4}
R2G = {"input": 5, "forget": 6, "cell": 7, "output": 8}
C2G = {"input": 9, "forget": 10, "output": 11}
BIAS = {"input": 12, "forget": 13, "cell": 14, "output": 15}
PROJ_W, PROJ_B, OUT_STATE, CELL_STATE = 16, 17, 18, 19
LN = {"input": 20, "forget": 21, "cell": 22, "output": 23}
GATES = ("input", "forget", "cell", "output")
#: td_lstm_gate's fields, and those of them that are pointers
_GATE_FIELDS = ("input_weights", "input_bias", "input_multiplier", "input_shift", "recurrent_weights",
                "recurrent_bias", "recurrent_multiplier", "recurrent_shift", "cell_weights", "cell_multiplier",
                "cell_shift", "layer_norm_weights", "layer_norm_bias", "layer_norm_multiplier", "layer_norm_shift",
                "variance_guard")
_GATE_POINTERS = {f for f in _GATE_FIELDS if f.endswith(("_weights", "_bias"))}


def _opt(ins: list, i: int) -> Tensor | None:
    return ins[i] if i < len(ins) else None


def _scale(t: Tensor | None) -> np.float32:
    return F32(1.0) if t is None else F32(t.quant.scale[0])


def _wrap32(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.int64)
    return ((v + 2**31) % 2**32 - 2**31).astype(np.int64)


def _cell_log2(scale: float) -> int | None:
    """TFLite CheckedLog2 (float arithmetic): the exponent when scale is a power of two."""
    x_log2 = F32(F32(math.log(F32(scale))) * F32(1.0 / F32(math.log(F32(2.0)))))
    rounded = F32(math.floor(abs(float(x_log2)) + 0.5) * (1 if x_log2 >= 0 else -1))
    return int(rounded) if abs(float(F32(x_log2 - rounded))) < 1e-3 else None


def _effective_bias(weights: Tensor | None, zero_point: int, bias: Tensor | None) -> np.ndarray | None:
    """bias + zero_point * row sums of the weights, in wrapping int32 (LiteRT's precompute)."""
    if weights is None:
        return None
    rows = weights.shape[0]
    out = np.zeros(rows, np.int64) if bias is None else bias.data.astype(np.int64).reshape(-1)[:rows]
    if zero_point != 0:
        row_sums = weights.data.astype(np.int64).reshape(rows, -1).sum(axis=1)
        out = _wrap32(out + _wrap32(row_sums * zero_point))
    return _wrap32(out)


class _Layout:
    """Everything check() and emit() need, read once from the op."""

    def __init__(self, op: Op, g: Graph) -> None:
        ins, outs = tensors(g, op)
        self.ins, self.out = ins, outs[0] if outs else None
        self.inter = [g.tensors[i] if i >= 0 else None for i in op.intermediates]
        self.opts = op.options
        self.input = ins[INPUT]
        self.use_cifg = _opt(ins, I2G["input"]) is None
        self.use_peephole = _opt(ins, C2G["output"]) is not None
        self.use_projection = _opt(ins, PROJ_W) is not None
        self.use_layer_norm = len(ins) == 24 and _opt(ins, LN["forget"]) is not None
        self.out_state, self.cell_state = _opt(ins, OUT_STATE), _opt(ins, CELL_STATE)
        self.time_major = bool(getattr(self.opts, "timeMajor", False))

    def t(self, index: int) -> Tensor | None:
        return _opt(self.ins, index)


@register("UNIDIRECTIONAL_SEQUENCE_LSTM")
class UnidirectionalSequenceLstm(OpLowering):
    header = "td_lstm.h"

    def check(self, op: Op, g: Graph) -> str | None:
        if len(op.inputs) not in (20, 24) or len(op.outputs) != 1:
            return f"expects 20 or 24 inputs and 1 output (got {len(op.inputs)} and {len(op.outputs)})"
        L = _Layout(op, g)
        inp, out = L.input, L.out
        if inp is None or inp.dtype == "float32":
            return "float and hybrid LSTMs are not supported (quantize the model fully to int8)"
        if inp.dtype != "int8" or out.dtype != "int8":
            return f"type {inp.dtype}->{out.dtype} is not supported (the integer LSTM is int8 in and out)"
        if len(inp.shape) != 3:
            return "the input must be 3-D ([time, batch, features] or [batch, time, features])"
        if getattr(L.opts, "diagonalRecurrentTensors", False):
            return "diagonal recurrent weights are not supported"
        for name in ("forget", "cell", "output"):
            if L.t(I2G[name]) is None or L.t(R2G[name]) is None or L.t(BIAS[name]) is None:
                return f"the {name} gate's weights and bias are required"
        if (L.t(I2G["input"]) is None) != (L.t(R2G["input"]) is None):
            return "input gate weights must be all present or all absent (CIFG)"
        for idx in list(I2G.values()) + list(R2G.values()) + [PROJ_W]:
            t = L.t(idx)
            if t is not None and (t.dtype != "int8" or not t.is_const or len(t.shape) != 2):
                return f"input {idx}: weights must be constant 2-D int8"
        for idx in list(BIAS.values()) + [PROJ_B]:
            t = L.t(idx)
            if t is not None and (t.dtype != "int32" or not t.is_const):
                return f"input {idx}: biases must be constant int32"
        for idx in list(C2G.values()) + (list(LN.values()) if len(L.ins) == 24 else []):
            t = L.t(idx)
            if t is not None and (t.dtype != "int16" or not t.is_const):
                return f"input {idx}: peephole and layer norm weights must be constant int16"
        n_cell, n_input = L.t(I2G["output"]).shape
        n_output = L.t(R2G["output"]).shape[1]
        if inp.shape[2] != n_input:
            return "input features do not match the weights"
        if L.use_peephole:
            if L.t(C2G["forget"]) is None or (not L.use_cifg and L.t(C2G["input"]) is None):
                return "peephole weights must be all present or all absent"
            if n_output > n_cell:
                return "peephole with n_output > n_cell is not supported (the reference reads out of bounds)"
        elif L.t(C2G["input"]) is not None or L.t(C2G["forget"]) is not None:
            return "peephole weights must be all present or all absent"
        if not L.use_projection:
            if L.t(PROJ_B) is not None:
                return "projection bias without projection weights"
            if n_output != n_cell:
                return "without projection n_output must equal n_cell"
        if L.use_layer_norm:
            for name in GATES:
                if (L.t(LN[name]) is None) != (name == "input" and L.use_cifg):
                    return "layer norm coefficients must be present for every gate"
        st, cs = L.out_state, L.cell_state
        if st is None or cs is None or not st.is_variable or not cs.is_variable or st.is_const or cs.is_const:
            return "output state and cell state must be variable tensors"
        if st.dtype != "int8" or cs.dtype != "int16":
            return "output state must be int8 and cell state int16"
        batches = inp.shape[1] if L.time_major else inp.shape[0]
        if st.size != batches * n_output or cs.size != batches * n_cell:
            return "state sizes do not match batch * units"
        if len(L.inter) != 5 or L.inter[4] is None or L.inter[4].quant is None:
            return "the integer LSTM needs 5 intermediate tensors, the last (hidden) quantized"
        if L.use_layer_norm and any(t is None or t.quant is None for t in L.inter[:4]):
            return "a layer-norm LSTM needs quantized gate intermediates"
        need_quant = [inp, out, st, cs] + [L.t(i) for i in range(1, len(L.ins)) if i not in (OUT_STATE, CELL_STATE)
                                             and L.t(i) is not None and L.t(i).dtype != "int32"]
        if any(t.quant is None for t in need_quant):
            return "all tensors must be quantized"
        cell_log2 = _cell_log2(cs.scale)
        if cell_log2 is None:
            return "the cell state scale must be a power of two"
        if not -15 <= cell_log2 <= -9:
            # LiteRT's ApplyTanh has no case for these: the hidden state gets a stale buffer, not tanh(cell)
            return (f"cell state scale 2^{cell_log2} is not supported: LiteRT computes tanh(cell) only for "
                    f"2^-15 .. 2^-9 (its own results are wrong outside); calibrate with a representative "
                    f"dataset whose cell state spans +-1 .. +-64")
        if float(getattr(L.opts, "cellClip", 0.0)) < 0 or float(getattr(L.opts, "projClip", 0.0)) < 0:
            return "negative clip values"
        if L.use_layer_norm:
            for name in GATES:
                t = L.t(LN[name])
                if t is not None and not -19 <= quantize_multiplier(float(_scale(t)))[1] <= 18:
                    return "layer norm coefficient scale out of range"
        return None

    def scratch_bytes(self, op: Op, g: Graph) -> int:
        """td_lstm_s8_scratch_size(): 4 int16 gate buffers and one int8 hidden buffer per step
        (checked against the C function in debug builds, TD_CHECK_SCRATCH)."""
        L = _Layout(op, g)
        n_cell = L.t(I2G["output"]).shape[0]
        nb = L.input.shape[1] if L.time_major else 1
        return 9 * nb * n_cell

    def macs(self, op: Op, g: Graph) -> int:
        L = _Layout(op, g)
        steps = L.input.shape[0] * L.input.shape[1]
        w = sum(t.size for t in (L.t(i) for i in list(I2G.values()) + list(R2G.values()) + [PROJ_W])
                if t is not None)
        return steps * w

    def emit(self, op: Op, g: Graph, e) -> None:
        L = _Layout(op, g)
        inp, st, cs = L.input, L.out_state, L.cell_state
        n_cell, n_input = L.t(I2G["output"]).shape
        n_output = L.t(R2G["output"]).shape[1]
        time_steps, batches = (inp.shape[0], inp.shape[1]) if L.time_major else (inp.shape[1], inp.shape[0])
        cell_log2 = _cell_log2(cs.scale)
        input_scale, state_scale = _scale(inp), _scale(st)
        if L.use_layer_norm:
            inter_scale = [F32(t.quant.scale[0]) for t in L.inter[:4]]
        else:
            inter_scale = [F32(2.0**-12)] * 4
        hidden_scale, hidden_zp = F32(L.inter[4].quant.scale[0]), int(L.inter[4].quant.zero_point[0])

        def qm(real) -> tuple[int, int]:
            return quantize_multiplier(float(F32(real)))

        gates: dict[str, CStruct] = {}
        for k, name in enumerate(GATES):
            wi, wr = L.t(I2G[name]), L.t(R2G[name])
            if wi is None:  # CIFG input gate: unused
                gates[name] = CStruct("td_lstm_gate", [(f, "NULL" if f in _GATE_POINTERS else 0) for f in _GATE_FIELDS])
                continue
            ln = L.t(LN[name]) if L.use_layer_norm else None
            bias = L.t(BIAS[name])
            mi, si = qm(F32(_scale(wi) * input_scale) / inter_scale[k])
            mr, sr = qm(F32(_scale(wr) * state_scale) / inter_scale[k])
            bi = _effective_bias(wi, -inp.zero_point, None if L.use_layer_norm else bias)
            br = _effective_bias(wr, -st.zero_point, None)
            gate: list[tuple[str, object]] = [
                ("input_weights", e.ptr(op.inputs[I2G[name]], flash=True)),
                ("input_bias", e.const_array(bi, "int32_t", f"{name}_in_bias", flash=True)),
                ("input_multiplier", mi), ("input_shift", si),
                ("recurrent_weights", e.ptr(op.inputs[R2G[name]], flash=True)),
                ("recurrent_bias", e.const_array(br, "int32_t", f"{name}_rec_bias", flash=True)),
                ("recurrent_multiplier", mr), ("recurrent_shift", sr),
            ]
            cw = L.t(C2G[name]) if name in C2G and L.use_peephole else None
            if cw is not None:
                mc, sc = qm(2.0**cell_log2 * float(_scale(cw)) / float(inter_scale[k]))
                gate += [("cell_weights", e.ptr(op.inputs[C2G[name]], flash=True)),
                         ("cell_multiplier", mc), ("cell_shift", sc)]
            else:
                gate += [("cell_weights", "NULL"), ("cell_multiplier", 0), ("cell_shift", 0)]
            if ln is not None:
                ml, sl = quantize_multiplier(float(_scale(ln)))
                guard = max(1, int(F32(10000) * _scale(ln)))
                gate += [("layer_norm_weights", e.ptr(op.inputs[LN[name]], flash=True)),
                         ("layer_norm_bias", e.ptr(op.inputs[BIAS[name]], flash=True)),
                         ("layer_norm_multiplier", ml), ("layer_norm_shift", sl), ("variance_guard", guard)]
            else:
                gate += [("layer_norm_weights", "NULL"), ("layer_norm_bias", "NULL"), ("layer_norm_multiplier", 0),
                         ("layer_norm_shift", 0), ("variance_guard", 0)]
            gates[name] = CStruct("td_lstm_gate", gate)

        mh, sh = qm(2.0**-15 / float(hidden_scale) * 2.0**-15)
        cell_clip = float(F32(getattr(L.opts, "cellClip", 0.0) or 0.0))
        q_cell_clip = int(min(max(float(F32(cell_clip) / F32(cs.scale)), -32768.0), 32767.0)) if cell_clip > 0 else 0
        proj_clip = float(F32(getattr(L.opts, "projClip", 0.0) or 0.0))
        q_proj_clip = int(min(max(float(F32(proj_clip) / _scale(L.out)), -128.0), 127.0)) if proj_clip > 0 else 0
        fields: list[tuple[str, object]] = [
            ("time_steps", time_steps), ("batches", batches), ("n_input", n_input), ("n_cell", n_cell),
            ("n_output", n_output), ("time_major", int(L.time_major)), ("use_cifg", int(L.use_cifg)),
            *((f"gate_{name}", gates[name]) for name in GATES),
            ("cell_scale", cell_log2), ("cell_clip", q_cell_clip),
            ("hidden_multiplier", mh), ("hidden_shift", sh), ("hidden_zero_point", hidden_zp),
            ("projection_clip", q_proj_clip), ("output_state_zero_point", st.zero_point),
        ]
        if L.use_projection:
            pw = L.t(PROJ_W)
            mp, sp = qm(F32(_scale(pw) * hidden_scale) / state_scale)
            pb = _effective_bias(pw, hidden_zp, L.t(PROJ_B))
            fields += [("projection_weights", e.ptr(op.inputs[PROJ_W], flash=True)),
                       ("projection_bias", e.const_array(pb, "int32_t", "proj_bias", flash=True)),
                       ("projection_multiplier", mp), ("projection_shift", sp)]
        else:
            fields += [("projection_weights", "NULL"), ("projection_bias", "NULL"), ("projection_multiplier", 0),
                       ("projection_shift", 0)]
        p = e.params("td_lstm_params", fields)
        e.call("td_lstm_s8", p, e.ptr(op.inputs[INPUT], const=True), e.ptr(op.inputs[OUT_STATE]),
               e.ptr(op.inputs[CELL_STATE]), e.ptr(op.outputs[0]), e.scratch(f"td_lstm_s8_scratch_size({p})"))
