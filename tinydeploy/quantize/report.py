"""How much quantization costs: per op output, the float model against the quantized one on the same samples
(LiteRT BUILTIN_REF, every intermediate tensor kept), matched by tensor name; and accuracy on labelled data."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..compile import Graph
from ..evaluate import prepare_inputs, reference_outputs

BOUNDARY = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class LayerError:
    """One op output of the quantized model against the float model's tensor of the same name."""
    op: int
    kind: str
    tensor: str
    snr_db: float      # 10 log10(sum f^2 / sum (f - q)^2); inf when equal
    max_abs: float     # largest |f - q| over the samples
    peak: float        # largest |f|: max_abs relative to it tells how coarse the step is
    lost_db: float | None = None  # SNR of its noisiest input minus snr_db: what this op adds (None: unknown)


def _interpreter(content: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                     experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    return it


def _set_inputs(it, arrays: list[np.ndarray], s: int) -> None:
    for d, x in zip(it.get_input_details(), arrays):
        it.set_tensor(d["index"], np.ascontiguousarray(x[s]).reshape(d["shape"]).astype(d["dtype"]))


def _snr(sig: float, noise: float) -> float:
    return math.inf if noise == 0 else (-math.inf if sig == 0 else 10 * math.log10(sig / noise))


def layer_errors(float_model: bytes, quant_model: bytes, quant_graph: Graph, samples: list[np.ndarray],
                 limit: int = 64) -> list[LayerError]:
    """Per op output of the quantized model (QUANTIZE/DEQUANTIZE left out), over the first `limit` samples
    (float32 [N, *shape] per input)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LiteRT warns that preserving all tensors costs memory
        fi, qi = _interpreter(float_model), _interpreter(quant_model)
    float_index = {d["name"]: d["index"] for d in fi.get_tensor_details()}
    qdetails = {d["index"]: d for d in qi.get_tensor_details()}
    ops = qi._get_ops_details()
    # every integer activation with a float twin: graph inputs and op outputs
    seen = [d["index"] for d in qi.get_input_details()] + [t for op in ops for t in op["outputs"]]
    # at float edges the float tensor's name sits on the other side of the QUANTIZE / DEQUANTIZE
    alias = {}
    for op in ops:
        if op["op_name"] == "DEQUANTIZE":
            alias[op["inputs"][0]] = qdetails[op["outputs"][0]]["name"]
        elif op["op_name"] == "QUANTIZE" and qdetails[op["inputs"][0]]["dtype"] == np.float32:
            alias[op["outputs"][0]] = qdetails[op["inputs"][0]]["name"]
    measured = {}  # quantized tensor index -> float tensor index
    for t in dict.fromkeys(seen):
        d = qdetails[t]
        name = d["name"] if d["name"] in float_index else alias.get(t)
        if name in float_index and np.issubdtype(d["dtype"], np.integer) and \
                len(d["quantization_parameters"]["scales"]) == 1:
            measured[t] = float_index[name]
    n = min(limit, samples[0].shape[0])
    qsamples = prepare_inputs(quant_graph, [x[:n] for x in samples])
    sums = {t: np.zeros(4) for t in measured}  # signal, noise, max abs error, peak
    for s in range(n):
        _set_inputs(fi, samples, s)
        _set_inputs(qi, qsamples, s)
        fi.invoke()
        qi.invoke()
        for t, fidx in measured.items():
            f = fi.get_tensor(fidx).astype(np.float64).reshape(-1)
            qp = qdetails[t]["quantization_parameters"]
            q = (qi.get_tensor(t).astype(np.float64).reshape(-1) - qp["zero_points"][0]) * qp["scales"][0]
            if f.size != q.size:
                continue
            err, acc = f - q, sums[t]
            acc[0] += f @ f
            acc[1] += err @ err
            acc[2] = max(acc[2], np.abs(err).max(initial=0))
            acc[3] = max(acc[3], np.abs(f).max(initial=0))
    snr = {t: _snr(a[0], a[1]) for t, a in sums.items()}
    out = []
    for op in ops:
        outs = [t for t in op["outputs"] if t in measured]
        if op["op_name"] in BOUNDARY or not outs:
            continue
        t = outs[0]
        ins = [i for i in op["inputs"] if i >= 0 and i in measured]
        lost = min(snr[i] for i in ins) - snr[t] if ins and all(not math.isinf(snr[i]) for i in ins) \
            and not math.isinf(snr[t]) else None
        out.append(LayerError(op["index"], op["op_name"], qdetails[t]["name"], snr[t], float(sums[t][2]),
                              float(sums[t][3]), lost))
    return out


def most_lost(layers: list[LayerError]) -> LayerError | None:
    """The layer that adds the most quantization noise (its SNR drop over its inputs')."""
    known = [e for e in layers if e.lost_db is not None]
    return max(known, key=lambda e: e.lost_db) if known else None


def worst(layers: list[LayerError]) -> LayerError | None:
    return min(layers, key=lambda e: e.snr_db) if layers else None


def accuracy(model: bytes, graph: Graph, inputs: list[np.ndarray], labels: np.ndarray) -> float:
    """Top-1 accuracy of output 0 under LiteRT BUILTIN_REF (float inputs quantized for integer models)."""
    out = reference_outputs(model, prepare_inputs(graph, inputs))[0]
    pred = out.reshape(out.shape[0], -1).argmax(axis=1)
    return float((pred == labels[: len(pred)]).mean())
