"""The oracle: LiteRT with the reference op resolver (bit-exact with TFLM's reference kernels)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import TinyDeployError


def reference_outputs(model: str | Path | bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Run LiteRT BUILTIN_REF on a batch: inputs[i] is [N, *shape_i]; returns [N, *out_shape] arrays."""
    from ai_edge_litert import interpreter as lit

    kwargs = {"model_content": bytes(model)} if isinstance(model, (bytes, bytearray)) else \
        {"model_path": str(model)}
    try:
        it = lit.Interpreter(experimental_op_resolver_type=lit.OpResolverType.BUILTIN_REF, **kwargs)
        it.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise TinyDeployError(f"LiteRT refused the model: {str(exc).strip().splitlines()[0]}") from None
    ins, outs = it.get_input_details(), it.get_output_details()
    n = int(inputs[0].shape[0]) if inputs else 1
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for s in range(n):
        it.reset_all_variables()
        for d, x in zip(ins, inputs):
            it.set_tensor(d["index"], np.ascontiguousarray(x[s]).reshape(d["shape"]).astype(d["dtype"]))
        it.invoke()
        for k, d in enumerate(outs):
            results[k].append(it.get_tensor(d["index"]).copy())
    return [np.stack(r) for r in results]
