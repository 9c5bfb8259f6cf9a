"""Read a .tflite flatbuffer (through the generated schema) into the IR."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from ...errors import TinyDeployError
from ..ir import DTYPES, Graph, Op, Quant, Tensor
from . import schema as S

_TYPE_NAMES = {v: k.lower() for k, v in vars(S.TensorType).items() if not k.startswith("_")}
_OP_NAMES = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
_NP_OF = {"float32": np.float32, "float16": np.float16, "int32": np.int32, "uint8": np.uint8,
          "int64": np.int64, "bool": np.bool_, "int16": np.int16, "int8": np.int8,
          "float64": np.float64, "uint32": np.uint32, "uint16": np.uint16, "uint64": np.uint64}


def _c_identifier(stem: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z_]", "_", stem).lower().strip("_") or "model"
    return "m_" + name if name[0].isdigit() else name


def load_model(path: str | Path) -> Graph:
    """Load a .tflite file; raise TinyDeployError with a clear message when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise TinyDeployError(f"model file not found: {path}", "check the path")
    g = parse_model(path.read_bytes(), name=_c_identifier(path.stem))
    g.path = str(path)
    return g


def parse_model(buf: bytes, name: str = "model") -> Graph:
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise TinyDeployError("not a TensorFlow Lite model (no TFL3 identifier)",
                              "pass a .tflite file written by the TFLite converter")
    try:
        model = S.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    except Exception as exc:  # flatbuffers raises assorted errors on corrupt input
        raise TinyDeployError(f"corrupt or truncated .tflite file ({type(exc).__name__})",
                              "re-export the model") from None
    if not model.subgraphs:
        raise TinyDeployError("the model has no subgraph", "re-export the model")
    try:
        graph = _to_ir(model, buf)
    except (IndexError, TypeError, ValueError, AttributeError) as exc:
        raise TinyDeployError(f"corrupt or truncated .tflite file ({exc})", "re-export the model") from None
    graph.sha256 = hashlib.sha256(buf).hexdigest()
    graph.name = name
    return graph


def _buffer_bytes(model, buf: bytes, index: int) -> bytes | None:
    if index <= 0 or index >= len(model.buffers or []):
        return None
    b = model.buffers[index]
    if b.data is not None and len(b.data):
        return np.asarray(b.data, dtype=np.uint8).tobytes()
    if b.offset > 1 and b.size:  # large models keep buffers after the flatbuffer
        if b.offset + b.size > len(buf):
            raise ValueError("buffer points past the end of the file")
        return buf[b.offset:b.offset + b.size]
    return None


def _quant(q) -> Quant | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scale = np.asarray(q.scale, dtype=np.float32)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0] * len(scale), dtype=np.int64)
    if zp.size == 1 and scale.size > 1:
        zp = np.repeat(zp, scale.size)
    return Quant(scale=scale, zero_point=zp, axis=int(q.quantizedDimension))


def _to_ir(model, buf: bytes) -> Graph:
    sg = model.subgraphs[0]
    tensors: list[Tensor] = []
    for i, t in enumerate(sg.tensors or []):
        dtype = _TYPE_NAMES.get(t.type, f"type{t.type}")
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        raw = _buffer_bytes(model, buf, t.buffer)
        data = None
        if raw is not None:
            if dtype not in _NP_OF:
                raise ValueError(f"tensor {i} has constant data of unsupported type {dtype}")
            data = np.frombuffer(raw, dtype=_NP_OF[dtype]).copy()
            data = data.reshape(shape) if data.size == int(np.prod(shape, dtype=np.int64)) else data
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name or f"t{i}")
        tensors.append(Tensor(index=i, name=name, shape=shape, dtype=dtype, quant=_quant(t.quantization),
                              data=data, is_variable=bool(t.isVariable)))
    ops: list[Op] = []
    codes = model.operatorCodes or []
    for i, o in enumerate(sg.operators or []):
        code = codes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        kind = _OP_NAMES.get(builtin, f"BUILTIN_{builtin}")
        if kind == "CUSTOM":
            cc = code.customCode
            kind = "CUSTOM:" + (cc.decode() if isinstance(cc, bytes) else str(cc))
        ops.append(Op(index=i, kind=kind, inputs=[int(x) for x in (o.inputs if o.inputs is not None else [])],
                      outputs=[int(x) for x in (o.outputs if o.outputs is not None else [])],
                      options=o.builtinOptions,
                      intermediates=[int(x) for x in (o.intermediates if o.intermediates is not None else [])],
                      version=int(code.version or 1)))
    return Graph(tensors=tensors, ops=ops, inputs=[int(x) for x in sg.inputs],
                 outputs=[int(x) for x in sg.outputs])


def supported_dtype(dtype: str) -> bool:
    return dtype in DTYPES
