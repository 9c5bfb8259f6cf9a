"""Typed intermediate representation of one TFLite subgraph.

The reader fills it, passes rewrite it, the planner and codegen read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: TFLite tensor type name -> (numpy dtype, C type)
DTYPES: dict[str, tuple[Any, str]] = {
    "int8": (np.int8, "int8_t"),
    "uint8": (np.uint8, "uint8_t"),
    "int16": (np.int16, "int16_t"),
    "int32": (np.int32, "int32_t"),
    "int64": (np.int64, "int64_t"),
    "float32": (np.float32, "float"),
    "bool": (np.bool_, "uint8_t"),
}


@dataclass
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray  # float32, shape [1] or [channels]
    zero_point: np.ndarray  # int64, same length as scale
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None  # constant contents (weights), None for activations
    is_variable: bool = False  # state tensors (LSTM/SVDF) that persist across invokes

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def itemsize(self) -> int:
        return np.dtype(DTYPES[self.dtype][0]).itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    @property
    def ctype(self) -> str:
        return DTYPES[self.dtype][1]

    @property
    def scale(self) -> float:
        """Per-tensor scale (first one for per-channel tensors)."""
        return float(self.quant.scale[0]) if self.quant else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.quant.zero_point[0]) if self.quant else 0


@dataclass
class Op:
    index: int
    kind: str  # TFLite builtin name, e.g. "CONV_2D"
    inputs: list[int]  # tensor indices, -1 = optional input left out
    outputs: list[int]
    options: Any = None  # the schema's generated *OptionsT object (or None)
    intermediates: list[int] = field(default_factory=list)
    version: int = 1
    #: (top, left) padding override for conv/depthwise/pooling run on a patch of a larger tensor
    #: (passes/patch.py): the output shape is then the output tensor's, not computed from the padding
    explicit_padding: tuple[int, int] | None = None


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    sha256: str = ""
    name: str = "model"
    path: str = ""  #: the file load_model read it from (for messages that name the command to run)
    #: storage the planner may share beyond views/in-place ops: (src, dst, shift) puts dst `shift`
    #: bytes before src in one buffer (passes/patch.py: the stage output over consumed input rows)
    shared: list[tuple[int, int, int]] = field(default_factory=list)
    #: float model inputs/outputs kept outside the arena (passes/float_edges.py): the caller's buffers
    external: tuple[int, ...] = ()

    def tensor(self, index: int) -> Tensor | None:
        return None if index < 0 else self.tensors[index]

    def activation_tensors(self) -> list[int]:
        """Tensors that live in the arena: graph inputs and every non-constant op output."""
        seen: list[int] = []
        for t in self.inputs + [o for op in self.ops for o in op.outputs + op.intermediates]:
            if t >= 0 and t not in seen and not self.tensors[t].is_const and t not in self.external:
                seen.append(t)
        for op in self.ops:
            for t in op.inputs:
                if t >= 0 and self.tensors[t].is_variable and t not in seen:
                    seen.append(t)
        return seen
