/*
 * gemmlowp-style fixed-point functions (exp, 1/(1+x), reciprocal, log) with the exact
 * rounding and saturation of TFLite's reference kernels (softmax, log-softmax).
 *
 * A value "in Qm" is a raw int32_t holding x * 2^(31 - m), i.e. m integer bits and
 * 31 - m fractional bits. Everything is static inline; additions wrap (computed on
 * uint32_t) so that no path has undefined behaviour.
 */
#ifndef TD_FIXEDPOINT_H
#define TD_FIXEDPOINT_H

#include <stdint.h>

#include "td_math.h"

/** a + b with two's-complement wrap-around. */
static inline int32_t td_fp_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

/** a - b with two's-complement wrap-around. */
static inline int32_t td_fp_sub(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

/** Arithmetic (flooring) right shift that does not rely on implementation-defined >> of negatives. */
static inline int32_t td_fp_asr(int32_t x, int32_t shift) {
  return x >= 0 ? (x >> shift) : (int32_t)~((~x) >> shift);
}

/** Same for 64-bit values. */
static inline int64_t td_fp_asr64(int64_t x, int32_t shift) {
  return x >= 0 ? (x >> shift) : (int64_t)~((~x) >> shift);
}

/** Fixed-point product (Qa * Qb -> Q(a+b)): saturating rounding doubling high multiply. */
static inline int32_t td_fp_mul(int32_t a, int32_t b) { return td_sat_round_doubling_high_mul(a, b); }

/** x * 2^exponent, exponent >= 0: left shift saturating to the int32 range. */
static inline int32_t td_fp_sat_shl(int32_t x, int32_t exponent) {
  int32_t threshold;
  if (exponent == 0) return x;
  threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) return TD_INT32_MAX;
  if (x < -threshold) return TD_INT32_MIN;
  return td_shl32(x, exponent);
}

/** Change the number of integer bits of a raw value (gemmlowp Rescale): Q(src) -> Q(dst). */
static inline int32_t td_fp_rescale(int32_t x, int32_t src_integer_bits, int32_t dst_integer_bits) {
  const int32_t exponent = src_integer_bits - dst_integer_bits;
  if (exponent > 0) return td_fp_sat_shl(x, exponent);
  if (exponent < 0) return td_rounding_divide_by_pot(x, -exponent);
  return x;
}

/** (a + b) / 2 rounded half away from zero. */
static inline int32_t td_fp_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/** a + b saturated to the int32 range. */
static inline int32_t td_fp_sat_add(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  return sum > TD_INT32_MAX ? TD_INT32_MAX : (sum < TD_INT32_MIN ? TD_INT32_MIN : (int32_t)sum);
}

/** a - b saturated to the int32 range. */
static inline int32_t td_fp_sat_sub(int32_t a, int32_t b) {
  const int64_t diff = (int64_t)a - (int64_t)b;
  return diff > TD_INT32_MAX ? TD_INT32_MAX : (diff < TD_INT32_MIN ? TD_INT32_MIN : (int32_t)diff);
}

/** Number of leading zero bits of a 32-bit value (32 for 0). */
static inline int32_t td_fp_clz32(uint32_t x) {
  int32_t n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000UL)) {
    x <<= 1;
    ++n;
  }
  return n;
}

/** exp(a) for a in [-1/4, 0), a and result in Q0 (Taylor series around -1/8). */
static inline int32_t td_fp_exp_on_interval_neg_quarter_0(int32_t a) {
  const int32_t constant_term = 1895147668L; /* exp(-1/8) */
  const int32_t one_third = 715827883L;
  const int32_t x = td_fp_add(a, (int32_t)1 << 28); /* a + 1/8 */
  const int32_t x2 = td_fp_mul(x, x);
  const int32_t x3 = td_fp_mul(x2, x);
  const int32_t x4 = td_fp_mul(x2, x2);
  const int32_t x4_over_4 = td_rounding_divide_by_pot(x4, 2);
  const int32_t poly = td_rounding_divide_by_pot(
      td_fp_add(td_fp_mul(td_fp_add(x4_over_4, x3), one_third), x2), 1);
  return td_fp_add(constant_term, td_fp_mul(constant_term, td_fp_add(x, poly)));
}

/**
 * exp(a) for a <= 0 given in Q(integer_bits) (0 < integer_bits < 31); result in Q0.
 * gemmlowp's exp_on_negative_values: exp of a mod 1/4 times a barrel shifter of exp(-2^k).
 */
static inline int32_t td_fp_exp_on_negative_values(int32_t a, int32_t integer_bits) {
  static const int32_t multipliers[7] = {1672461947L, 1302514674L, 790015084L, 290630308L,
                                         39332535L,   720401L,     242L};
  const int32_t fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_one_quarter = td_fp_sub(a & (one_quarter - 1), one_quarter);
  const int32_t remainder = td_fp_sub(a_mod_quarter_minus_one_quarter, a);
  int32_t result = td_fp_exp_on_interval_neg_quarter_0(
      td_fp_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
  int32_t k;
  for (k = -2; k <= 4; ++k) {
    if (integer_bits > k) {
      const int32_t bit = (int32_t)((uint32_t)1 << (fractional_bits + k));
      if (remainder & bit) result = td_fp_mul(result, multipliers[k + 2]);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -(int32_t)((uint32_t)1 << (36 - integer_bits)); /* -32.0 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = TD_INT32_MAX; /* One() in Q0 */
  return result;
}

/** 1 / (1 + a) for a in [0, 1), a and result in Q0 (three Newton-Raphson steps). */
static inline int32_t td_fp_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t half_denominator = td_fp_rounding_half_sum(a, TD_INT32_MAX);
  const int32_t c48_over_17 = 1515870810L;     /* Q2 */
  const int32_t cneg32_over_17 = -1010580540L; /* Q2 */
  const int32_t one_q2 = (int32_t)1 << 29;
  int32_t x = td_fp_add(c48_over_17, td_fp_mul(half_denominator, cneg32_over_17)); /* Q2 */
  int32_t i;
  for (i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = td_fp_mul(half_denominator, x);      /* Q2 */
    const int32_t one_minus = td_fp_sub(one_q2, half_denominator_times_x);       /* Q2 */
    x = td_fp_add(x, td_fp_rescale(td_fp_mul(x, one_minus), 4, 2));               /* Q4 -> Q2 */
  }
  /* x / 2 taken as Q1 (same raw), then rescaled to Q0 */
  return td_fp_rescale(x, 1, 0);
}

/**
 * Reciprocal of x given in Q(x_integer_digits), x >= 1: returns 1/x in Q0 scaled up by
 * 2^num_bits_over_unit (TFLite GetReciprocal).
 */
static inline int32_t td_fp_get_reciprocal(int32_t x, int32_t x_integer_digits,
                                           int32_t *num_bits_over_unit) {
  const int32_t headroom_plus_one = td_fp_clz32((uint32_t)x);
  const int32_t shifted_sum_minus_one =
      (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  return td_fp_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

/** x * 2^exponent (exponent >= 0) saturating; TFLite SaturatingRoundingMultiplyByPOTParam. */
static inline int32_t td_fp_sat_shl_param(int32_t x, int32_t exponent) { return td_fp_sat_shl(x, exponent); }

/**
 * log(x) for x >= 1 given in Q(input_integer_bits); result in Q(output_integer_bits)
 * (TFLite log_x_for_x_greater_than_or_equal_to_1).
 */
static inline int32_t td_fp_log_x_ge_1(int32_t x, int32_t input_integer_bits, int32_t output_integer_bits) {
  const int32_t accum_bits = output_integer_bits + 1;
  const int32_t log_2 = 1488522236L;
  const int32_t sqrt_sqrt_half = 1805811301L;
  const int32_t sqrt_half = 1518500250L;
  const int32_t one_quarter = 536870912L;
  const int32_t alpha_n = 117049297L;
  const int32_t alpha_d = 127690142L;
  const int32_t alpha_i = 1057819769L;
  const int32_t alpha_f = 638450708L;
  const int32_t shifted_quarter = td_fp_rescale(one_quarter, 0, accum_bits);
  const int32_t z_a = x;
  const int32_t z_a_headroom_plus_1 = td_fp_clz32((uint32_t)z_a);
  const int32_t r_a_tmp = td_fp_sat_shl_param(z_a, z_a_headroom_plus_1 - 1);
  const int32_t r_a_raw = td_fp_sat_shl_param(td_fp_mul(r_a_tmp, sqrt_half), 1);
  const int32_t z_a_pow_2_adj = td_fp_sat_add(
      td_fp_sat_shl_param(input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits), shifted_quarter);
  const int32_t z_b = td_fp_mul(z_a, sqrt_half);
  const int32_t z_b_headroom = td_fp_clz32((uint32_t)z_b) - 1;
  const int32_t r_b_raw = td_fp_sat_shl_param(z_a, z_b_headroom);
  const int32_t z_b_pow_2_adj = td_fp_sat_sub(
      td_fp_sat_shl_param(input_integer_bits - z_b_headroom, 31 - accum_bits), shifted_quarter);
  const int32_t r = td_min32(r_a_raw, r_b_raw);
  const int32_t z_pow_2_adj = td_max32(z_a_pow_2_adj, z_b_pow_2_adj);
  const int32_t p = td_fp_rounding_half_sum(r, sqrt_sqrt_half);
  int32_t q = td_fp_sub(r, sqrt_sqrt_half);
  int32_t common_sq, num, denom_minus_one_0, recip_denom, num_scaled;
  q = td_fp_add(q, q);
  common_sq = td_fp_mul(q, q);
  num = td_fp_add(td_fp_mul(q, r), td_fp_mul(td_fp_mul(q, common_sq), alpha_n));
  denom_minus_one_0 = td_fp_add(
      td_fp_mul(p, td_fp_add(td_fp_add(alpha_i, q), td_fp_mul(alpha_d, common_sq))),
      td_fp_mul(alpha_f, q));
  recip_denom = td_fp_one_over_one_plus_x_for_x_in_0_1(denom_minus_one_0);
  num_scaled = td_fp_rescale(num, 0, accum_bits);
  return td_fp_rescale(td_fp_add(td_fp_mul(z_pow_2_adj, log_2), td_fp_mul(num_scaled, recip_denom)),
                       accum_bits, output_integer_bits);
}

#endif /* TD_FIXEDPOINT_H */
