"""arm-mve FULLY_CONNECTED (td_fully_connected_s8_mve, lib/tinydeploy/mve/td_mve_fc.c): int8 with symmetric
weights; two rows per input vector, VMLADAVA over 16 columns. Other FCs go to the arm-dsp or reference kernel."""
from __future__ import annotations

from ...ir import Graph, Op
from .. import VariantKernel, variant_kernel
from .._arm import folded_bias
from .._common import tensors
from .._mve import mve_weights
from .._params import fc_params, int8_symmetric


@variant_kernel("FULLY_CONNECTED", "arm-mve")
class MveFullyConnected(VariantKernel):
    header = "td_mve_conv.h"

    def accepts(self, op: Op, g: Graph) -> bool:
        return int8_symmetric(op, g, out_too=True)

    def emit(self, op: Op, g: Graph, e) -> None:
        (inp, w, *rest), (out,) = tensors(g, op)
        depth, units = w.shape[-1], w.shape[0]
        p = fc_params(e, g, op)
        data = w.data.reshape(units, depth)
        bias_t = rest[0] if rest else None
        bias = folded_bias(None if bias_t is None else bias_t.data, data, -inp.zero_point)
        e.call("td_fully_connected_s8_mve", p, e.ptr(op.inputs[0], const=True),
               e.const_array(mve_weights(data, bias), "int8_t", "weights_mve", flash=True), e.ptr(op.outputs[0]))
