"""Build small TFLite models directly with the generated flatbuffer object API (ModelT ... Pack).

Much faster than a TensorFlow conversion per test case, and it can express any
quantization parameters, shapes and options the tests want to try.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flatbuffers
import numpy as np

from ..compile import schema as S

_TYPES = {"float32": S.TensorType.FLOAT32, "int32": S.TensorType.INT32, "uint8": S.TensorType.UINT8,
          "int64": S.TensorType.INT64, "bool": S.TensorType.BOOL, "int16": S.TensorType.INT16,
          "int8": S.TensorType.INT8}


class ModelBuilder:
    """Collects tensors and ops of one subgraph; `build()` returns the .tflite bytes."""

    def __init__(self) -> None:
        self.tensors: list[Any] = []
        self.buffers: list[Any] = [S.BufferT()]
        self.operators: list[Any] = []
        self.opcodes: list[Any] = []
        self._opcode_index: dict[tuple[int, int], int] = {}

    def tensor(self, shape: Sequence[int], dtype: str = "int8", scale: float | Sequence[float] | None = None,
               zero_point: int | Sequence[int] | None = None, data: np.ndarray | None = None,
               axis: int = 0, name: str | None = None, variable: bool = False) -> int:
        """Add a tensor (constant when `data` is given); returns its index."""
        t = S.TensorT()
        t.shape = [int(d) for d in shape]
        t.type = _TYPES[dtype]
        t.name = name or f"t{len(self.tensors)}"
        t.isVariable = variable
        if scale is not None:
            q = S.QuantizationParametersT()
            q.scale = [float(s) for s in np.atleast_1d(scale)]
            zp = np.atleast_1d(zero_point if zero_point is not None else 0)
            q.zeroPoint = [int(z) for z in (np.repeat(zp, len(q.scale)) if zp.size == 1 else zp)]
            q.quantizedDimension = axis
            t.quantization = q
        if data is not None:
            b = S.BufferT()
            b.data = np.ascontiguousarray(np.asarray(data).astype(dtype if dtype != "bool" else np.bool_)) \
                .view(np.uint8).reshape(-1)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, kind: str, inputs: Sequence[int], outputs: Sequence[int], options: Any = None,
           version: int = 1, intermediates: Sequence[int] = ()) -> None:
        code = getattr(S.BuiltinOperator, kind)
        key = (code, version)
        if key not in self._opcode_index:
            oc = S.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
            self.opcodes.append(oc)
            self._opcode_index[key] = len(self.opcodes) - 1
        o = S.OperatorT()
        o.opcodeIndex = self._opcode_index[key]
        o.inputs = [int(i) for i in inputs]
        o.outputs = [int(i) for i in outputs]
        if intermediates:
            o.intermediates = [int(i) for i in intermediates]
        if options is not None:
            o.builtinOptionsType = getattr(S.BuiltinOptions, type(options).__name__[:-1])
            o.builtinOptions = options
        self.operators.append(o)

    def build(self, inputs: Sequence[int], outputs: Sequence[int]) -> bytes:
        sg = S.SubGraphT()
        sg.tensors, sg.operators = self.tensors, self.operators
        sg.inputs, sg.outputs = list(inputs), list(outputs)
        sg.name = "main"
        m = S.ModelT()
        m.version = 3
        m.operatorCodes, m.subgraphs, m.buffers = self.opcodes, [sg], self.buffers
        m.description = "tinydeploy test model"
        fb = flatbuffers.Builder(1024)
        fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())


def options(name: str, **fields: Any) -> Any:
    """Make a builtin options object, e.g. options("Conv2DOptions", strideW=2, padding=0)."""
    obj = getattr(S, name + "T")()
    for k, v in fields.items():
        if not hasattr(obj, k):
            raise AttributeError(f"{name} has no field {k}")
        setattr(obj, k, v)
    return obj


def single_fc(n_in: int, n_out: int, seed: int, out_scale: float = 0.2, out_zp: int = 4,
              names: tuple[str, str] = ("x", "y")) -> bytes:
    """x[1, n_in] int8 -> FULLY_CONNECTED n_out (random int8 weights, int32 bias, no activation)."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor([1, n_in], "int8", 0.05, -3, name=names[0])
    w = b.tensor([n_out, n_in], "int8", 0.01, 0, data=rng.integers(-127, 128, (n_out, n_in)))
    bias = b.tensor([n_out], "int32", 0.0005, 0, data=rng.integers(-3000, 3000, n_out))
    y = b.tensor([1, n_out], "int8", out_scale, out_zp, name=names[1])
    b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions", fusedActivationFunction=0))
    return b.build([x], [y])
