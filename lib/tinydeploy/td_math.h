/*
 * Fixed-point arithmetic with TFLite's exact rounding (gemmlowp semantics).
 * Everything is static inline so that kernels compile it in place.
 */
#ifndef TD_MATH_H
#define TD_MATH_H

#include <stdint.h>

#define TD_INT32_MIN ((int32_t)(-2147483647L - 1))
#define TD_INT32_MAX ((int32_t)2147483647L)

static inline int32_t td_max32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t td_min32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t td_clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/** (a * b * 2) >> 32 rounded to nearest, saturating the single overflow case. */
static inline int32_t td_sat_round_doubling_high_mul(int32_t a, int32_t b) {
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  if (a == b && a == TD_INT32_MIN) return TD_INT32_MAX;
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/** x / 2^exponent rounded to nearest, ties away from zero. */
static inline int32_t td_rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** x << shift with 32-bit wrap-around (no undefined behaviour). */
static inline int32_t td_shl32(int32_t x, int32_t shift) {
  return (int32_t)((uint32_t)x << shift);
}

/*
 * x * multiplier * 2^shift, multiplier in Q31 (TFLite MultiplyByQuantizedMultiplier).
 * LiteRT is built with TFLITE_SINGLE_ROUNDING: one rounding of the 64-bit product.
 * Define TD_DOUBLE_ROUNDING for the older gemmlowp-style two-step rounding.
 */
static inline int32_t td_mul_by_quantized_mult(int32_t x, int32_t multiplier, int32_t shift) {
#ifdef TD_DOUBLE_ROUNDING
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(td_shl32(x, left), multiplier), right);
#else
  const int32_t total_shift = 31 - shift;
  return (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << (total_shift - 1))) >> total_shift);
#endif
}

/** Same for a multiplier < 1 given as a non-positive left shift. */
static inline int32_t td_mul_by_quantized_mult_smaller_than_one(int32_t x, int32_t multiplier,
                                                                int32_t left_shift) {
#ifdef TD_DOUBLE_ROUNDING
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(x, multiplier), -left_shift);
#else
  return td_mul_by_quantized_mult(x, multiplier, left_shift);
#endif
}

/** Same for a multiplier > 1 given as a non-negative left shift. */
static inline int32_t td_mul_by_quantized_mult_greater_than_one(int32_t x, int32_t multiplier,
                                                                int32_t left_shift) {
#ifdef TD_DOUBLE_ROUNDING
  return td_sat_round_doubling_high_mul(td_shl32(x, left_shift), multiplier);
#else
  return td_mul_by_quantized_mult(x, multiplier, left_shift);
#endif
}

/**
 * 64-bit accumulator version used by 16x8 kernels: round(x * multiplier / 2^(31 - shift)) with
 * the full Q31 multiplier (LiteRT's single-rounding int64 overload). |x| < 2^47, shift < 8.
 * The 78-bit product is formed from two 32-bit halves, since not every target has int128.
 */
static inline int32_t td_mul_by_quantized_mult_64(int64_t x, int32_t multiplier, int32_t shift) {
#ifdef TD_DOUBLE_ROUNDING
  const int32_t reduced = multiplier < 0x7FFF0000L ? ((multiplier + ((int32_t)1 << 15)) >> 16) : 0x7FFF;
  const int32_t total = 15 - shift;
  return (int32_t)((x * (int64_t)reduced + ((int64_t)1 << (total - 1))) >> total);
#else
  const int32_t s = 31 - shift;                        /* 24 .. 62 */
  const int64_t hi = x >> 32;                          /* signed high half, |hi| < 2^15 */
  const uint64_t lo = (uint64_t)x & 0xFFFFFFFFu;       /* unsigned low half */
  const uint64_t low_sum = lo * (uint64_t)multiplier + ((uint64_t)1 << (s - 1));
  const int64_t top = hi * (int64_t)multiplier + (int64_t)(low_sum >> 32);
  if (s >= 32) return (int32_t)(top >> (s - 32));
  return (int32_t)(top * ((int64_t)1 << (32 - s)) + (int64_t)((low_sum & 0xFFFFFFFFu) >> s));
#endif
}

/*
 * Two-step (gemmlowp) rounding, whatever TD_DOUBLE_ROUNDING says: LiteRT 2.3.0's BUILTIN_REF
 * convolution kernels (CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV) requantize this way although
 * other kernels (FULLY_CONNECTED) round once. Rounding doubling high multiply, then a rounding
 * right shift; the left shift wraps like TFLite's x * (1 << shift).
 */
static inline int32_t td_mul_by_quantized_mult_dr(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(td_shl32(x, left), multiplier), right);
}

/**
 * 64-bit accumulator, two-step version (TFLite's int64 MultiplyByQuantizedMultiplier without
 * single rounding): the multiplier is first rounded to 16 bits. shift < 15, |x| < 2^47.
 */
static inline int32_t td_mul_by_quantized_mult_64_dr(int64_t x, int32_t multiplier, int32_t shift) {
  const int32_t reduced = multiplier < (int32_t)0x7FFF0000L ? ((multiplier + ((int32_t)1 << 15)) >> 16)
                                                            : (int32_t)0x7FFF;
  const int32_t total = 15 - shift;
  return (int32_t)((x * (int64_t)reduced + ((int64_t)1 << (total - 1))) >> total);
}

#endif /* TD_MATH_H */
