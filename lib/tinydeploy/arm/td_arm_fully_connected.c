/*
 * FULLY_CONNECTED int8 for Arm cores with the DSP extension (Cortex-M4/M7/M33/M55): the arm-dsp
 * variant of td_fully_connected_s8, bit-exact with it (same single-rounding requantization).
 *
 * The compiler prepares two constants at conversion time (ops/_arm.py):
 *   - the weights in the order this loop reads them (td_fully_connected.h, "arm-dsp weight layout"):
 *     output rows in blocks of four, each block column group by column group (four bytes of row 0,
 *     four of row 1, 2, 3), then the block's leftover columns column by column, then the leftover
 *     rows (output_depth % 4) as plain rows; the byte count is unchanged;
 *   - the bias with the input offset folded in: bias[o] + input_offset * sum_d w[o][d] (int32,
 *     wrapping like the reference accumulator), so the loop multiplies the raw int8 input.
 * Four input bytes are sign-extended once into two halfword pairs (SXTB16, and SXTB16 of the word
 * rotated by 8: bytes 0,2 and 1,3); each weight word is split the same way, and SMLAD adds two
 * products at a time. Four rows share one input load, one extension and one weight pointer.
 */
#include "td_fully_connected.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_simd.h"
#include "td_kernel.h"

/* One output element: the reference epilogue (bias, requantization, offset, clamp). */
static inline int8_t td_arm_fc_out(const td_fc_params *p, const TD_WEIGHTS_MEM int32_t *bias, int32_t acc, int32_t o) {
  const int32_t ch = td_requant_channel(&p->requant, o);
  return TD_REQUANT_OUTPUT(int8_t, int32_t, TD_BIAS_S32, td_arm_requant, p, bias, acc, o, ch);
}

/* Four output rows (one weight block) for one input row; returns the end of the block. */
static const TD_WEIGHTS_MEM int8_t *td_arm_fc_block4(const td_fc_params *p, const int8_t *in, const TD_WEIGHTS_MEM int8_t *w,
                                      const TD_WEIGHTS_MEM int32_t *bias, int8_t *out, int32_t o) {
  const int32_t depth = p->accum_depth, d4 = depth & ~(int32_t)3;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, d;
  for (d = 0; d < d4; d += 4) {
    const uint32_t x = td_arm_read4(in + d);
    const int32_t x02 = __sxtb16((int32_t)x), x13 = td_arm_sxtb16_ror8(x);
    a0 = td_arm_dot4(a0, td_arm_read4(w), x02, x13);
    a1 = td_arm_dot4(a1, td_arm_read4(w + 4), x02, x13);
    a2 = td_arm_dot4(a2, td_arm_read4(w + 8), x02, x13);
    a3 = td_arm_dot4(a3, td_arm_read4(w + 12), x02, x13);
    w += 16;
  }
  for (; d < depth; ++d) { /* leftover columns: the four rows' weights of column d */
    const int32_t x = in[d];
    a0 += w[0] * x;
    a1 += w[1] * x;
    a2 += w[2] * x;
    a3 += w[3] * x;
    w += 4;
  }
  out[o] = td_arm_fc_out(p, bias, a0, o);
  out[o + 1] = td_arm_fc_out(p, bias, a1, o + 1);
  out[o + 2] = td_arm_fc_out(p, bias, a2, o + 2);
  out[o + 3] = td_arm_fc_out(p, bias, a3, o + 3);
  return w;
}

/* One leftover output row (a plain row of weights); returns the end of the row. */
static const TD_WEIGHTS_MEM int8_t *td_arm_fc_row(const td_fc_params *p, const int8_t *in, const TD_WEIGHTS_MEM int8_t *w,
                                   const TD_WEIGHTS_MEM int32_t *bias, int8_t *out, int32_t o) {
  const int32_t depth = p->accum_depth, d4 = depth & ~(int32_t)3;
  int32_t acc = 0, d;
  for (d = 0; d < d4; d += 4) {
    const uint32_t x = td_arm_read4(in + d);
    acc = td_arm_dot4(acc, td_arm_read4(w + d), __sxtb16((int32_t)x), td_arm_sxtb16_ror8(x));
  }
  for (; d < depth; ++d) acc += w[d] * in[d];
  out[o] = td_arm_fc_out(p, bias, acc, o);
  return w + depth;
}

void td_fully_connected_s8_arm_dsp(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                                   const TD_WEIGHTS_MEM int32_t *bias, int8_t *output) {
  const int32_t units = p->output_depth, u4 = units & ~(int32_t)3;
  int32_t b, o;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in = input + b * p->accum_depth;
    int8_t *out = output + b * units;
    const TD_WEIGHTS_MEM int8_t *w = weights;
    for (o = 0; o < u4; o += 4) w = td_arm_fc_block4(p, in, w, bias, out, o);
    for (; o < units; ++o) w = td_arm_fc_row(p, in, w, bias, out, o);
  }
}

#else
typedef int td_arm_fully_connected_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
