"""The training graph: from an int8 Graph and an Update, the forward activations the backward reads
(saved), the backward ops pruned to the updated parameters, and the loss on the logits.

A tensor gets a gradient only when it both depends on an updated parameter and reaches the logits: the
backward stops at the earliest updated layer (its input gets no gradient), frozen layers after it only
pass the gradient on.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..compile import Graph
from ..errors import TinyDeployError
from .spec import Update, parse_update

#: op kind -> indices of the inputs a gradient flows to (data inputs)
DATA_INPUTS = {"FULLY_CONNECTED": (0,), "CONV_2D": (0,), "DEPTHWISE_CONV_2D": (0,), "ADD": (0, 1),
               "AVERAGE_POOL_2D": (0,), "MAX_POOL_2D": (0,), "MEAN": (0,), "RESHAPE": (0,), "SQUEEZE": (0,)}
WEIGHTED = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")
MASKED = WEIGHTED + ("ADD",)  # clamp masks from the saved int8 output (fused RELU/RELU6, int8 saturation)
_SUPPORTED = ", ".join(sorted(DATA_INPUTS)) + ", SOFTMAX (last op)"


@dataclass
class BackOp:
    """The backward of forward op `op`: gradient of `out` to `grad_inputs`, and parameter gradients."""

    op: int
    kind: str
    out: int
    grad_inputs: list[int]
    weights: bool = False
    bias: bool = False


@dataclass
class TrainGraph:
    graph: Graph
    update: Update
    logits: int  # the tensor the loss reads (the SOFTMAX's input when the model ends in one)
    beta: float = 1.0  # the final SOFTMAX's beta (1 without one)
    backward: list[BackOp] = field(default_factory=list)  # in the order they run (reverse schedule)
    grads: list[int] = field(default_factory=list)  # tensors that carry a gradient
    saved: list[int] = field(default_factory=list)  # activations the backward reads

    @property
    def params(self) -> list[int]:
        return self.update.tensors(self.graph)

    def updated_count(self, t: int) -> int:
        """How many leading elements of parameter t are updated (a PCT% share: the first output channels)."""
        tensor = self.graph.tensors[t]
        for op in self.update.weights:
            if self.graph.ops[op].inputs[1] == t and self.update.channels(op) is not None:
                return self.update.channels(op) * (tensor.size // tensor.shape[0])
        return tensor.size


def _fail(problem: str, fix: str = "") -> TinyDeployError:
    return TinyDeployError(problem, fix or f"training supports {_SUPPORTED} on the gradient path; "
                                           "update only layers after the unsupported op")


def _check_model(g: Graph) -> tuple[int, float]:
    """(logits tensor, softmax beta) of a single-input, single-output int8 classifier with batch 1."""
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise _fail(f"training needs one input and one output, the model has {len(g.inputs)} and "
                    f"{len(g.outputs)}", "train a single-input classifier")
    for t in (g.inputs[0], g.outputs[0]):
        if g.tensors[t].dtype != "int8" or (g.tensors[t].shape[:1] or (1,))[0] != 1:
            raise _fail(f"training needs int8 input and output with batch 1, {g.tensors[t].name!r} is "
                        f"{g.tensors[t].dtype}{list(g.tensors[t].shape)}",
                        "quantize the model to int8 I/O (tinydeploy quantize without --float-io)")
    last = next((op for op in g.ops if g.outputs[0] in op.outputs), None)
    if last is not None and last.kind == "SOFTMAX":
        beta = float(getattr(last.options, "beta", 1.0) or 1.0)
        return last.inputs[0], beta
    return g.outputs[0], 1.0


def _check_op(g: Graph, op) -> None:
    if op.kind not in DATA_INPUTS:
        raise _fail(f"op {op.index} ({op.kind}) is on the gradient path and has no training backward")
    tensors = [g.tensors[t] for t in op.inputs[:1] + op.outputs]
    if any(t.dtype != "int8" or t.quant is None for t in tensors):
        raise _fail(f"op {op.index} ({op.kind}): training needs int8 activations", "quantize the model to int8")
    if op.kind in WEIGHTED:
        w = g.tensors[op.inputs[1]]
        if w.dtype != "int8" or not w.is_const:
            raise _fail(f"op {op.index} ({op.kind}): its weights are not constant int8", "quantize to int8")
        if op.kind == "CONV_2D" and w.shape[3] != g.tensors[op.inputs[0]].shape[-1]:
            raise _fail(f"op {op.index} (CONV_2D) is a grouped convolution", "training supports groups=1")
        if len(op.inputs) > 2 and op.inputs[2] >= 0 and g.tensors[op.inputs[2]].dtype != "int32":
            raise _fail(f"op {op.index} ({op.kind}): its bias is not int32", "quantize to int8")
    if op.kind == "ADD" and g.tensors[op.inputs[0]].shape != g.tensors[op.inputs[1]].shape:
        raise _fail(f"op {op.index} (ADD) broadcasts", "training supports ADD of equal shapes")
    if op.kind == "MEAN":
        axes = g.tensors[op.inputs[1]].data
        if len(g.tensors[op.inputs[0]].shape) != 4 or axes is None or sorted(int(a) for a in axes.ravel()) != [1, 2]:
            raise _fail(f"op {op.index} (MEAN) is not a spatial mean", "training supports MEAN over axes 1,2")
    if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D") and \
            (len(g.tensors[op.inputs[0]].shape) != 4 or g.tensors[op.inputs[0]].shape[0] != 1):
        raise _fail(f"op {op.index} ({op.kind}): training needs batch 1 NHWC", "use batch 1")


def build_train_graph(g: Graph, update: Update | str) -> TrainGraph:
    """The training graph of g for an Update (or an update spec string)."""
    if isinstance(update, str):
        update = parse_update(update, g)
    logits, beta = _check_model(g)
    updated = set(update.ops)
    depends: set[int] = set()  # tensors that depend on an updated parameter
    for op in g.ops:
        if op.index in updated or any(t in depends for t in op.inputs if t >= 0):
            depends.update(op.outputs)
    reaches = {logits}  # tensors from which the logits are reached
    for op in reversed(g.ops):
        if any(t in reaches for t in op.outputs):
            reaches.update(t for t in op.inputs if t >= 0 and not g.tensors[t].is_const)
    grads = [t for t in g.activation_tensors() if t in depends and t in reaches]
    if logits not in grads:
        raise _fail("no updated parameter reaches the logits", "update layers before the output")
    tg = TrainGraph(graph=g, update=update, logits=logits, beta=beta, grads=grads)
    saved = [logits]
    for op in reversed(g.ops):
        if not op.outputs or op.outputs[0] not in grads:
            continue
        _check_op(g, op)
        ins = [op.inputs[i] for i in DATA_INPUTS[op.kind] if op.inputs[i] in grads]
        b = BackOp(op=op.index, kind=op.kind, out=op.outputs[0], grad_inputs=ins,
                   weights=op.index in update.weights, bias=op.index in update.biases)
        tg.backward.append(b)
        need = [op.outputs[0]] if op.kind in MASKED else []
        if b.weights or op.kind == "MAX_POOL_2D":
            need.append(op.inputs[0])
        saved += [t for t in need if t not in saved]
    tg.saved = saved
    return tg
