"""The training step as C: the inference C of the model (saved activations kept as extra outputs, updated
parameters made writable) with `<p>_train_step(input, label, lr)` appended in the same file.

All activations and gradients live in one planned buffer (memory.py): the inference arena, the
gradients in its free bytes and after it. The state between steps is static: float32 masters (and
momentum) of the updated parameters, their quantized copies in RAM, the gradient exponents.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass

import numpy as np

from ..compile import CompiledModel, Graph, PlanOptions, compile_graph
from ..errors import TinyDeployError
from .graph import MASKED, TrainGraph
from .memory import TrainPlan, plan_training
from .numerics import GRAD_BYTES, act_range, exp_table, geometry, param_factors, param_layout, weight_scales


@dataclass
class TrainC:
    prefix: str
    model: CompiledModel  # the inference part (its graph has the saved activations as outputs)
    train: TrainGraph
    header: str
    source: str
    plan: TrainPlan  # the one buffer (forward arena + gradients)
    state_bytes: int  # masters, momentum, the updated parameters' RAM copies

    @property
    def buffer_bytes(self) -> int:
        return self.plan.buffer_bytes


def _floats(values) -> str:
    """float32 values as C literals: 9 significant digits name each float32 exactly."""
    return ", ".join(_float(v) for v in np.asarray(values, np.float32))


def _float(v: np.float32) -> str:
    text = f"{float(v):.9g}" if np.isfinite(v) else "0"
    return text + ("f" if any(c in text for c in ".e") else ".0f")


def _ints(values) -> str:
    return ", ".join(str(int(v)) for v in np.asarray(values).ravel())


def _geom(name: str, g: Graph, op) -> str:
    gm = geometry(g, op)
    return (f"static const td_train_geom {name} = {{{gm.ih}, {gm.iw}, {gm.ic}, {gm.oh}, {gm.ow}, {gm.oc}, "
            f"{gm.kh}, {gm.kw}, {gm.sh}, {gm.sw}, {gm.dh}, {gm.dw}, {gm.ph}, {gm.pw}, {gm.mult}}};")


def _writable(source: str, p: str, t: int) -> str:
    pat = re.compile(rf"static const TD_WEIGHTS_MEM (int8_t|int32_t) {p}_t{t}\[(\d+)\] TD_CONST_ALIGN TD_WEIGHTS_ATTR =")
    if len(pat.findall(source)) != 1:
        raise TinyDeployError(f"tensor {t} is not one constant array in the generated C",
                              "report this model: the training code generator cannot find its parameter")
    return pat.sub(rf"\1 {p}_t{t}[\2] =", source)


def _top1(p: str, m: CompiledModel, g: Graph) -> list[str]:
    """C lines: the first largest element of the model's output after the forward, into <p>_top."""
    out = g.outputs[0]
    return [f"  {{ const int8_t *z = (const int8_t *)(arena + {m.tensor_offsets[out]}UL); int32_t i; {p}_top = 0;",
            f"    for (i = 1; i < {g.tensors[out].size}; i++) if (z[i] > z[{p}_top]) {p}_top = (int)i; }}"]


def generate_train_c(tg: TrainGraph, prefix: str | None = None, momentum: float = 0.0,
                     keep_grads: bool = False) -> TrainC:
    """The training step of tg as C (reference kernels, host or board). keep_grads: no gradient buffer is
    reused, so that all gradients can be read after a step (tests)."""
    g0 = tg.graph
    p = prefix or g0.name
    g = copy.copy(g0)
    g.outputs = list(g0.outputs) + [t for t in tg.saved if t not in g0.outputs and t not in g0.inputs]
    m = compile_graph(g, p, PlanOptions(fold_pad=False))
    P = p.upper()
    src = f"#define {P}_NO_STATIC_ARENA /* the training buffer holds the arena */\n" + m.source
    for t in tg.params:
        src = _writable(src, p, t)
    plan = plan_training(tg, m.arena_bytes, m.lower_bound_bytes, m.tensor_offsets, keep_grads)
    offsets = plan.grad_offsets
    d, body = [], []
    static = 4 * (len(tg.grads) + 1)
    d.append(f"#ifndef {P}_TRAIN_NO_STATIC_BUFFER")
    d.append(f"static uint8_t {p}_train_buffer[{P}_TRAIN_BUFFER_BYTES] TD_ALIGN(16);")
    d.append("#endif")
    d.append(f"static int32_t {p}_grad_e[{len(tg.grads) + 1}];")
    d.append(f"static const int32_t {p}_exp[256] = {{{_ints(exp_table(g0.tensors[tg.logits].scale, tg.beta))}}};")
    index = {t: i for i, t in enumerate(tg.grads)}

    def act(t: int) -> str:
        if t == g0.inputs[0]:
            return "input"
        return f"(const int8_t *)(arena + {m.tensor_offsets[t]}UL)"

    def gp(t: int) -> str:
        return f"(td_grad_t *)(arena + {offsets[t]}UL)"

    def ge(t: int) -> str:
        return f"&{p}_grad_e[{index[t]}]"

    params = []
    for t in tg.params:
        op = next(o for o in g0.ops if len(o.inputs) > 2 and t in o.inputs[1:3])
        bias = op.inputs[2] == t
        n = tg.updated_count(t)
        ch, inner = param_layout(g0, op, bias)
        vel = f"{p}_v{t}" if momentum else "NULL"
        d.append(f"static float {p}_m{t}[{n}];")
        if momentum:
            d.append(f"static float {p}_v{t}[{n}];")
        d.append(f"static const float {p}_f{t}[{ch}] = {{{_floats(param_factors(g0, op, bias))}}};")
        q8, q32 = (f"{p}_t{t}", "NULL") if g0.tensors[t].dtype == "int8" else ("NULL", f"{p}_t{t}")
        d.append(f"static const td_train_param {p}_p{t} = {{{p}_m{t}, {vel}, {p}_f{t}, {ch}, {inner}, {n}, {q8}, "
                 f"{q32}}};")
        static += 4 * n * (2 if momentum else 1) + g0.tensors[t].nbytes
        params.append((t, n))
    seen: set[int] = {tg.logits}
    body.append(f"  float loss = td_train_ce_grad({act(tg.logits)}, {g0.tensors[tg.logits].size}, label, {p}_exp, "
                f"{gp(tg.logits)}, {ge(tg.logits)});")
    for step, b in enumerate(tg.backward, start=1):
        op = g0.ops[b.op]
        n_out = g0.tensors[b.out].size
        g_, e_ = gp(b.out), f"{p}_grad_e[{index[b.out]}]"
        body.append(f"  /* op {b.op}: {b.kind} backward */")
        if b.kind in MASKED:
            lo, hi = act_range(g0, op)
            body.append(f"  td_train_mask({g_}, {act(b.out)}, {n_out}, {lo}, {hi});")
        if b.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN") and \
                (b.grad_inputs or b.weights):
            d.append(_geom(f"{p}_geom{b.op}", g0, op))
        if b.kind in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D") and b.grad_inputs:
            r, k = weight_scales(g0.tensors[op.inputs[1]].quant.scale)
            ch = param_layout(g0, op, True)[0]
            d.append(f"static const int32_t {p}_r{b.op}[{ch}] = {{{_ints(np.resize(r, ch))}}};")
        for t in b.grad_inputs:
            first = t not in seen
            dst, dst_e = (gp(t), ge(t)) if first else \
                (f"(td_grad_t *)(arena + {plan.scratch_offsets[(step, t)]}UL)", f"&{p}_grad_e[{len(tg.grads)}]")
            if b.kind in ("RESHAPE", "SQUEEZE", "ADD"):
                body.append(f"  memcpy({dst}, {g_}, {GRAD_BYTES * n_out}u); *{dst_e} = {e_};")
            elif b.kind == "FULLY_CONNECTED":
                w = g0.tensors[op.inputs[1]]
                body.append(f"  td_train_fc_dx({g_}, {e_}, {p}_t{op.inputs[1]}, {p}_r{b.op}, {k}, {w.shape[0]}, "
                            f"{w.size // w.shape[0]}, {dst}, {dst_e});")
            elif b.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                fn = "conv" if b.kind == "CONV_2D" else "dw"
                body.append(f"  td_train_{fn}_dx(&{p}_geom{b.op}, {g_}, {e_}, {p}_t{op.inputs[1]}, {p}_r{b.op}, "
                            f"{k}, {dst}, {dst_e});")
            elif b.kind == "MAX_POOL_2D":
                body.append(f"  td_train_max_pool_dx(&{p}_geom{b.op}, {g_}, {e_}, {act(op.inputs[0])}, {dst}, {dst_e});")
            else:
                body.append(f"  td_train_avg_pool_dx(&{p}_geom{b.op}, {g_}, {e_}, {dst}, {dst_e});")
            if not first:
                body.append(f"  td_train_grad_add({gp(t)}, {ge(t)}, {dst}, *{dst_e}, {g0.tensors[t].size});")
            seen.add(t)
        x = g0.tensors[op.inputs[0]]
        if b.weights:
            w = g0.tensors[op.inputs[1]]
            if b.kind == "FULLY_CONNECTED":
                body.append(f"  td_train_fc_update({g_}, {e_}, {act(op.inputs[0])}, {x.zero_point}, {w.shape[0]}, "
                            f"{w.size // w.shape[0]}, &{p}_p{op.inputs[1]}, &opt);")
            else:
                fn = "conv" if b.kind == "CONV_2D" else "dw"
                body.append(f"  td_train_{fn}_update(&{p}_geom{b.op}, {g_}, {e_}, {act(op.inputs[0])}, "
                            f"{x.zero_point}, &{p}_p{op.inputs[1]}, &opt);")
        if b.bias:
            ch = g0.tensors[op.inputs[2]].size
            body.append(f"  td_train_bias_update({g_}, {e_}, {n_out // ch}, {ch}, &{p}_p{op.inputs[2]}, &opt);")
    inp = g0.tensors[g0.inputs[0]]
    init = "\n".join(f"  for (i = 0; i < {n}; i++) {p}_m{t}[i] = (float){p}_t{t}[i];" +
                     (f"\n  for (i = 0; i < {n}; i++) {p}_v{t}[i] = 0.0f;" if momentum else "") for t, n in params)
    table = ", ".join(f"{{{p}_t{t}, {p}_m{t}, {f'{p}_v{t}' if momentum else 'NULL'}}}" for t, _ in params)
    src += "\n".join([
        "", "/* ---- training step (tinydeploy/train) ---- */", '#include "td_train.h"', f'#include "{p}_train.h"', *d, "",
        f"static struct {{ void *value; float *master; float *velocity; }} const {p}_params[{len(params)}] = {{{table}}};",
        f"static int {p}_trained, {p}_top;", "",
        f"void {p}_train_init(void) {{", "  int32_t i;", init, f"  {p}_trained = 1;",
        f"#ifndef {P}_TRAIN_NO_STATIC_BUFFER", f"  if (!{p}_arena) {p}_arena = {p}_train_buffer;", "#endif", "}", "",
        f"void *{p}_train_value(int i) {{ return {p}_params[i].value; }}",
        f"float *{p}_train_master(int i) {{ return {p}_params[i].master; }}",
        f"float *{p}_train_velocity(int i) {{ return {p}_params[i].velocity; }}",
        (f"td_grad_t *{p}_train_grad(int i, int32_t *e) {{ *e = {p}_grad_e[i]; return (td_grad_t *)({p}_arena + "
         f"(uint32_t[]){{{_ints([offsets[t] for t in tg.grads])}}}[i]); }}"), "",
        f"float {p}_train_step(const int8_t *input, int label, float lr) {{",
        f"  td_train_sgd opt = {{lr, {_float(np.float32(momentum))}}};",
        f"  if (!{p}_trained) {p}_train_init();",
        f"  uint8_t *const arena = {p}_arena;",
        f"  if (input != (const int8_t *)(arena + {m.tensor_offsets[g0.inputs[0]]}UL))",
        f"    memcpy(arena + {m.tensor_offsets[g0.inputs[0]]}UL, input, {inp.size}u);",
        f"  {p}_invoke();", *_top1(p, m, g0), *body, "  return loss;", "}", "",
        f"int {p}_train_top1(void) {{ return {p}_top; }}", ""])
    header = "\n".join([
        f"/* {p}_train.h: the training step of {p} (generated by tinydeploy). */",
        f"#ifndef {P}_TRAIN_H", f"#define {P}_TRAIN_H", f'#include "{p}.h"', '#include "td_train.h"',
        f"/* One buffer for the forward arena and the gradients (lower bound {plan.lower_bound_bytes} bytes); define",
        f" * {P}_TRAIN_NO_STATIC_BUFFER and call {p}_set_arena(buf) with this many bytes to supply it. */",
        f"#define {P}_TRAIN_BUFFER_BYTES {plan.buffer_bytes}UL",
        f"#define {P}_TRAIN_STATE_BYTES {static}UL  /* masters, momentum, RAM copies of the updated parameters */",
        '#ifdef __cplusplus', 'extern "C" {', '#endif',
        "/** One SGD step on one labelled int8 sample; returns its loss (before the step). */",
        f"float {p}_train_step(const int8_t *input, int label, float lr);",
        "/** Masters (and momentum) from the current parameters, and the arena pointer at the training buffer:",
        f" * the first step calls it; call it first when {p}_invoke() runs before any step. */",
        f"void {p}_train_init(void);",
        f"void *{p}_train_value(int i);", f"float *{p}_train_master(int i);", f"float *{p}_train_velocity(int i);",
        f"td_grad_t *{p}_train_grad(int i, int32_t *e);",
        "/** The model's prediction (first largest output) in the last step's forward, before its update. */",
        f"int {p}_train_top1(void);",
        '#ifdef __cplusplus', '}', '#endif', "#endif", ""])
    return TrainC(prefix=p, model=m, train=tg, header=header, source=src, plan=plan, state_bytes=static)
