"""arm-mve FULLY_CONNECTED (td_fully_connected_s8_mve, lib/tinydeploy/mve/td_mve_fc.c): int8 with symmetric
weights; two rows per input vector, VMLADAVA over 16 columns. Other FCs go to the arm-dsp or reference kernel."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._arm import folded_bias
from .._common import activation, requant, tensors
from .._mve import mve_weights


@variant_kernel("FULLY_CONNECTED", "arm-mve")
class MveFullyConnected(VariantKernel):
    header = "td_mve_conv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        (inp, w, *_), (out,) = tensors(g, op)
        symmetric = w.quant is None or not w.quant.zero_point.any()
        return inp.dtype == "int8" and out.dtype == "int8" and symmetric

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp, w, *rest), (out,) = tensors(g, op)
        depth, units = w.shape[-1], w.shape[0]
        p = e.params("td_fc_params", [
            ("batches", inp.size // depth), ("accum_depth", depth), ("output_depth", units),
            ("input_offset", -inp.zero_point), ("filter_offset", 0), ("output_offset", out.zero_point),
            ("requant", requant(e, g, op, inp, w, out, units)), ("activation", activation(op, out)),
        ])
        data = w.data.reshape(units, depth)
        bias_t = rest[0] if rest else None
        bias = folded_bias(None if bias_t is None else bias_t.data, data, -inp.zero_point)
        e.call("td_fully_connected_s8_mve", p, e.ptr(op.inputs[0], const=True),
               e.const_array(mve_weights(data, bias), "int8_t", "weights_mve", flash=True), e.ptr(op.outputs[0]))
