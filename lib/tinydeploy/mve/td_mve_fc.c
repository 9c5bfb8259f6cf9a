/*
 * FULLY_CONNECTED int8 for Cortex-M cores with Helium (MVE): the arm-mve variant of td_fully_connected_s8
 * (symmetric weights), bit-exact with it (single-rounding requantization, td_mul_by_quantized_mult).
 *
 * The weights come in the mve conv layout (td_mve_conv.h: rows in pairs, chunk-interleaved, padded to
 * 16, each pair after its biases, which have the input offset folded in). Each input row is read 16
 * bytes at a time (the last vector tail-predicated) against two weight rows: two VMLADAVA per input
 * vector. The outputs are few (one per row and unit), so they are requantized one at a time.
 */
#include "td_mve_conv.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>
#include <string.h>

#include "td_kernel.h"

static inline int8_t td_mve_fc_out(const td_fc_params *p, int32_t acc, int32_t o) {
  const int32_t ch = td_requant_channel(&p->requant, o);
  return (int8_t)td_clamp(td_mul_by_quantized_mult(acc, p->requant.multiplier[ch], p->requant.shift[ch]) +
                              p->output_offset, p->activation.min, p->activation.max);
}

static inline int32_t td_mve_fc_bias(const int8_t *w) {
  int32_t b;
  memcpy(&b, w, 4);
  return b;
}

void td_fully_connected_s8_mve(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                               int8_t *output) {
  const int32_t depth = p->accum_depth, units = p->output_depth, kp = (depth + 15) & ~(int32_t)15;
  int32_t b, o, j;
  for (b = 0; b < p->batches; ++b, input += depth, output += units) {
    const int8_t *w = weights;
    for (o = 0; o + 2 <= units; o += 2) { /* a pair of rows, chunk-interleaved */
      int32_t a0 = td_mve_fc_bias(w), a1 = td_mve_fc_bias(w + 4);
      const int8_t *x = input;
      w += 8;
      for (j = depth; j > 0; j -= 16, x += 16, w += 32) {
        const mve_pred16_t pr = vctp8q((uint32_t)j);
        const int8x16_t v = vldrbq_z_s8(x, pr);
        a0 = vmladavaq_s8(a0, v, vldrbq_z_s8(w, pr));
        a1 = vmladavaq_s8(a1, v, vldrbq_z_s8(w + 16, pr));
      }
      output[o] = td_mve_fc_out(p, a0, o);
      output[o + 1] = td_mve_fc_out(p, a1, o + 1);
    }
    if (o < units) { /* the last row of an odd count: a plain padded row */
      int32_t a0 = td_mve_fc_bias(w);
      w += 4;
      for (j = 0; j < kp; j += 16) {
        const mve_pred16_t pr = vctp8q((uint32_t)(depth - j));
        a0 = vmladavaq_s8(a0, vldrbq_z_s8(input + j, pr), vldrbq_z_s8(w + j, pr));
      }
      output[o] = td_mve_fc_out(p, a0, o);
    }
  }
}

#else
typedef int td_mve_fc_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
