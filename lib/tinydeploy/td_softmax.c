/* SOFTMAX / LOG_SOFTMAX reference kernels, bit-exact with TFLite's reference integer kernels. */
#include "td_softmax.h"

#include "td_fixedpoint.h"
#include "td_math.h"

/* Integer bits of the fixed-point formats used by TFLite's quantized softmax. */
#define TD_SOFTMAX_DIFF_BITS 5  /* scaled input differences: Q5.26 */
#define TD_SOFTMAX_ACCUM_BITS 12 /* sum of exponentials: Q12.19 */

/* exp((input - max) * beta * scale) in Q0 for an int8 difference above diff_min. */
static int32_t td_softmax_exp_q0(const td_softmax_params *p, int32_t diff) {
  const int32_t scaled = td_mul_by_quantized_mult_dr(diff, p->input_multiplier, p->input_shift);
  return td_fp_exp_on_negative_values(scaled, TD_SOFTMAX_DIFF_BITS);
}

static int32_t td_row_max_s8(const int8_t *in, int32_t depth) {
  int32_t c, m = -128;
  for (c = 0; c < depth; ++c) m = in[c] > m ? in[c] : m;
  return m;
}

/* Shared int8-input softmax; out_bits is 8 or 16 (output zero point at the type's minimum). */
static void td_softmax_s8_impl(const td_softmax_params *p, const int8_t *input, int8_t *out8,
                               int16_t *out16) {
  const int32_t out_min = out16 ? (int32_t)-32768L : -128;
  const int32_t out_max = out16 ? (int32_t)32767 : 127;
  const int32_t out_bits = out16 ? 16 : 8;
  int32_t i, c;
  for (i = 0; i < p->outer_size; ++i) {
    const int8_t *in = input + i * p->depth;
    const int32_t max_in_row = td_row_max_s8(in, p->depth);
    int32_t sum_of_exps = 0; /* Q12 */
    int32_t num_bits_over_unit, shifted_scale, exponent;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      if (diff >= p->diff_min) {
        sum_of_exps = td_fp_add(sum_of_exps, td_fp_rescale(td_softmax_exp_q0(p, diff), 0, TD_SOFTMAX_ACCUM_BITS));
      }
    }
    shifted_scale = td_fp_get_reciprocal(sum_of_exps, TD_SOFTMAX_ACCUM_BITS, &num_bits_over_unit);
    exponent = td_clamp(num_bits_over_unit + 31 - out_bits, 0, 31); /* TFLite checks 0..31 */
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      int32_t v = out_min;
      if (diff >= p->diff_min) {
        const int32_t e = td_softmax_exp_q0(p, diff);
        v = td_rounding_divide_by_pot(td_fp_mul(shifted_scale, e), exponent) + out_min;
        v = td_clamp(v, out_min, out_max);
      }
      if (out16) {
        out16[i * p->depth + c] = (int16_t)v;
      } else {
        out8[i * p->depth + c] = (int8_t)v;
      }
    }
  }
}

void td_softmax_s8(const td_softmax_params *p, const int8_t *input, int8_t *output) {
  td_softmax_s8_impl(p, input, output, (int16_t *)0);
}

void td_softmax_s8_s16(const td_softmax_params *p, const int8_t *input, int16_t *output) {
  td_softmax_s8_impl(p, input, (int8_t *)0, output);
}

/* Interpolated lookup in a 513-entry int16 table over the whole int16 input range. */
static int16_t td_lut_lookup_s16(int32_t value, const TD_WEIGHTS_MEM int16_t *lut) {
  const int32_t u = value + 32768L; /* 0 .. 65535 */
  const int32_t index = u >> 7;
  const int32_t offset = u & 0x7F;
  const int32_t base = lut[index];
  const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
  const int32_t delta = td_fp_asr((int32_t)slope * offset + 64, 7);
  return (int16_t)(base + delta);
}

void td_softmax_s16(const td_softmax_params *p, const int16_t *input, int16_t *output) {
  int32_t i, c;
  for (i = 0; i < p->outer_size; ++i) {
    const int16_t *in = input + i * p->depth;
    int16_t *out = output + i * p->depth;
    int32_t max_in_row = -32768L;
    int32_t sum_of_exps = 0; /* Q16.15 */
    int32_t headroom_plus_one, shifted_sum, right_shift, recip;
    int64_t round;
    for (c = 0; c < p->depth; ++c) max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
    /* exp() of every element, kept in the output row until the sum is known */
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      const int32_t scaled = td_mul_by_quantized_mult_dr(diff, p->input_multiplier, p->input_shift);
      const int32_t sym = td_clamp(td_fp_add(scaled, 32767), -32768L, 32767);
      out[c] = td_lut_lookup_s16(sym, p->exp_lut);
      sum_of_exps += out[c];
    }
    /* 1 / sum from the 1/(1+x) table, x = sum normalised to [1, 2) minus one */
    headroom_plus_one = td_fp_clz32((uint32_t)sum_of_exps);
    shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    recip = td_lut_lookup_s16(td_clamp(shifted_sum - 98304L, -32768L, 32767), p->recip_lut);
    right_shift = 31 - headroom_plus_one;
    round = (int64_t)1 << (right_shift - 1);
    for (c = 0; c < p->depth; ++c) {
      const int64_t prod = (int64_t)out[c] * (int64_t)recip + round;
      const int32_t result = (int32_t)td_fp_asr64(prod, right_shift);
      out[c] = (int16_t)td_clamp(result, 0, 32767);
    }
  }
}

void td_log_softmax_s8(const td_softmax_params *p, const int8_t *input, int8_t *output) {
  /* output: [-16, 0] mapped to int8 with scale 1/16 and zero point 127 */
  const int32_t output_integer_bits = 4;
  int32_t i, c;
  for (i = 0; i < p->outer_size; ++i) {
    const int8_t *in = input + i * p->depth;
    int8_t *out = output + i * p->depth;
    const int32_t max_in_row = td_row_max_s8(in, p->depth);
    int32_t sum_of_exps = 0; /* Q12 */
    int32_t log_sum_of_exps, adjusted_diff_min;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t scaled = td_mul_by_quantized_mult_dr(diff, p->input_multiplier, p->input_shift);
        sum_of_exps = td_fp_add(sum_of_exps,
                                td_fp_rescale(td_fp_exp_on_negative_values(scaled, TD_SOFTMAX_DIFF_BITS), 0,
                                              TD_SOFTMAX_ACCUM_BITS));
      }
    }
    log_sum_of_exps = td_fp_log_x_ge_1(sum_of_exps, TD_SOFTMAX_ACCUM_BITS, TD_SOFTMAX_DIFF_BITS); /* Q5 */
    adjusted_diff_min = td_max32(
        p->diff_min - 1,
        td_mul_by_quantized_mult_dr(td_fp_add(log_sum_of_exps, TD_INT32_MIN), p->reverse_multiplier, p->reverse_shift));
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_in_row;
      int32_t v = -128;
      if (diff > adjusted_diff_min) {
        const int32_t scaled = td_mul_by_quantized_mult_dr(diff, p->input_multiplier, p->input_shift);
        v = td_rounding_divide_by_pot(td_fp_sub(scaled, log_sum_of_exps),
                                      31 - TD_SOFTMAX_DIFF_BITS - output_integer_bits) + 127;
        v = td_clamp(v, -128, 127);
      }
      out[c] = (int8_t)v;
    }
  }
}
