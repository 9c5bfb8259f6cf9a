"""Write tuned parameters back into a .tflite: the buffers of the updated weights and biases replaced,
shapes and quantization (scales, zero points) unchanged, so the inference path deploys the result."""
from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np

from ..compile import schema as S
from ..errors import TinyDeployError


def _unpack(model: bytes):
    try:
        return S.ModelT.InitFromPackedBuf(bytearray(model), 0)
    except Exception as exc:  # noqa: BLE001 - flatbuffers raises assorted errors on corrupt input
        raise TinyDeployError(f"corrupt .tflite ({type(exc).__name__})", "re-export the model") from None


def _pack(m) -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def replace_params(model: bytes, params: dict[int, np.ndarray]) -> bytes:
    """The model with tensor t's constant data replaced by params[t] (same dtype and size). A buffer
    that other tensors share gets a private copy first."""
    m = _unpack(model)
    sg = m.subgraphs[0]
    users: dict[int, int] = {}
    for t in sg.tensors:
        users[t.buffer] = users.get(t.buffer, 0) + 1
    for index, values in params.items():
        t = sg.tensors[index]
        old = m.buffers[t.buffer]
        size = len(old.data) if old.data is not None else 0
        data = np.ascontiguousarray(values).view(np.uint8).reshape(-1)
        if size != data.size:
            raise TinyDeployError(f"tensor {index} holds {size} bytes, the tuned values {data.size}",
                                  "write parameters of the model they were trained from")
        if users[t.buffer] > 1:
            users[t.buffer] -= 1
            m.buffers.append(S.BufferT())
            t.buffer = len(m.buffers) - 1
        m.buffers[t.buffer].data = data.copy()
    return _pack(m)


def with_outputs(model: bytes, extra: list[int]) -> bytes:
    """The model with `extra` tensors appended to the subgraph's outputs (to read saved activations)."""
    m = _unpack(model)
    sg = m.subgraphs[0]
    outs = [int(o) for o in sg.outputs]
    sg.outputs = outs + [t for t in extra if t not in outs]
    return _pack(m)


def write_tuned(model: bytes, params: dict[int, np.ndarray], out: str | Path) -> Path:
    """Write the tuned .tflite to `out` atomically (a temp file renamed)."""
    out = Path(out)
    data = replace_params(model, params)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TinyDeployError(f"cannot write {out}: {exc.strerror}", "check the folder and its permissions") from None
    return out
