"""Float32 edges around an integer graph: a QUANTIZE op in front of every integer input and a DEQUANTIZE
op after every integer output (the layout TensorFlow's converter writes for float I/O), by editing the
flatbuffer with the generated object API. ai-edge-quantizer quantizes a model's inputs and outputs too, so
`--float-io` on a float .tflite takes this step. And a signature for models written without one (the
quantizer calibrates through a signature runner)."""
from __future__ import annotations

import flatbuffers

from ..compile import schema as S


def _opcode(model, kind: int) -> int:
    for i, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == kind:
            return i
    oc = S.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = kind, min(kind, 127), 1
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _float_twin(sg, index: int, suffix: str) -> int:
    """A float32 tensor shaped as tensor `index`, without quantization or data; returns its index."""
    src = sg.tensors[index]
    t = S.TensorT()
    t.shape, t.shapeSignature = list(src.shape), src.shapeSignature
    name = src.name or b"t"
    t.name = name + suffix.encode() if isinstance(name, bytes) else f"{name}{suffix}"
    t.type, t.buffer = S.TensorType.FLOAT32, 0
    sg.tensors.append(t)
    return len(sg.tensors) - 1


def _pack(model, size: int) -> bytes:
    fb = flatbuffers.Builder(size + 1024)
    fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
    return bytes(fb.Output())


def ensure_signature(content: bytes) -> bytes:
    """The model as is when it has a signature; else with 'serving_default' over subgraph 0's inputs
    (input_0, ...) and outputs (output_0, ...)."""
    model = S.ModelT.InitFromPackedBuf(bytearray(content), 0)
    if model.signatureDefs:
        return content
    sg = model.subgraphs[0]
    sig = S.SignatureDefT()
    sig.signatureKey, sig.subgraphIndex = "serving_default", 0
    sig.inputs, sig.outputs = [], []
    for kind, tensors, maps in (("input", sg.inputs, sig.inputs), ("output", sg.outputs, sig.outputs)):
        for k, t in enumerate(tensors):
            tm = S.TensorMapT()
            tm.name, tm.tensorIndex = f"{kind}_{k}", int(t)
            maps.append(tm)
    model.signatureDefs = [sig]
    return _pack(model, len(content))


def add_float_edges(content: bytes) -> bytes:
    """The model with float32 inputs and outputs (integer ones wrapped in QUANTIZE / DEQUANTIZE)."""
    model = S.ModelT.InitFromPackedBuf(bytearray(content), 0)
    sg = model.subgraphs[0]
    integer = (S.TensorType.INT8, S.TensorType.INT16)
    renamed: dict[int, int] = {}
    q, dq = _opcode(model, S.BuiltinOperator.QUANTIZE), _opcode(model, S.BuiltinOperator.DEQUANTIZE)
    front, back = [], []
    for edges, opcode, ops, is_input in ((sg.inputs, q, front, True), (sg.outputs, dq, back, False)):
        for k, tid in enumerate(edges):
            if sg.tensors[tid].type in integer:
                f = renamed[tid] = _float_twin(sg, tid, "_float")
                op = S.OperatorT()
                op.opcodeIndex = opcode
                op.inputs, op.outputs = ([f], [tid]) if is_input else ([tid], [f])
                ops.append(op)
                edges[k] = f
    sg.operators = front + list(sg.operators or []) + back
    for sig in model.signatureDefs or []:
        for tm in list(sig.inputs or []) + list(sig.outputs or []):
            tm.tensorIndex = renamed.get(tm.tensorIndex, tm.tensorIndex)
    return _pack(model, len(content))
