/*
 * FULLY_CONNECTED int8 for RV32IMC (kernels="riscv"), bit-exact with td_fully_connected_s8 (symmetric
 * weights): output features in blocks of four over the weights in the riscv conv layout (td_riscv.h; one
 * input row read once per block), the input offset folded into the bias, LiteRT's single rounding.
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

#define TD_RV_FC_OUT(acc, o) \
  ((int8_t)td_clamp(td_mul_by_quantized_mult(acc, mult[(o) & pc], shift[(o) & pc]) + zp, lo, hi))

void td_fully_connected_s8_riscv(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                                 const TD_WEIGHTS_MEM int32_t *bias, int8_t *output) {
  const int32_t depth = p->accum_depth, units = p->output_depth, u4 = units - (units & 3);
  const int32_t d4 = depth - (depth & 3), skip = (4 - (depth & 3)) & 3; /* zeros padding each row to Kp */
  const int32_t pc = p->requant.per_channel ? -1 : 0;
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier, *shift = p->requant.shift;
  const int32_t zp = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  int32_t b, o, d;
  for (b = 0; b < p->batches; ++b, input += depth, output += units) {
    const TD_WEIGHTS_MEM int8_t *w = weights;
    for (o = 0; o < u4; o += 4) {
      int32_t a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3];
      for (d = 0; d < d4; d += 4, w += 16) {
        int32_t x = input[d];
        a0 += x * w[0]; a1 += x * w[1]; a2 += x * w[2]; a3 += x * w[3];
        x = input[d + 1];
        a0 += x * w[4]; a1 += x * w[5]; a2 += x * w[6]; a3 += x * w[7];
        x = input[d + 2];
        a0 += x * w[8]; a1 += x * w[9]; a2 += x * w[10]; a3 += x * w[11];
        x = input[d + 3];
        a0 += x * w[12]; a1 += x * w[13]; a2 += x * w[14]; a3 += x * w[15];
      }
      for (; d < depth; ++d, w += 4) {
        const int32_t x = input[d];
        a0 += x * w[0]; a1 += x * w[1]; a2 += x * w[2]; a3 += x * w[3];
      }
      w += 4 * skip;
      output[o] = TD_RV_FC_OUT(a0, o);
      output[o + 1] = TD_RV_FC_OUT(a1, o + 1);
      output[o + 2] = TD_RV_FC_OUT(a2, o + 2);
      output[o + 3] = TD_RV_FC_OUT(a3, o + 3);
    }
    for (; o < units; ++o, w += skip) { /* leftover features: plain rows */
      int32_t a = bias[o];
      for (d = 0; d < depth; ++d) a += input[d] * *w++;
      output[o] = TD_RV_FC_OUT(a, o);
    }
  }
}

#endif /* __riscv */
