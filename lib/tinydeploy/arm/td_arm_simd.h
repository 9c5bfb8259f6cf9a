/*
 * Building blocks of the arm-dsp kernels (Cortex-M4/M7/M33/M55, __ARM_FEATURE_DSP): word loads,
 * SXTB16 pairs, SMLAD dot products and the requantizations, each bit-exact with its td_math.h twin.
 * Include only under #if defined(__ARM_FEATURE_DSP).
 */
#ifndef TD_ARM_SIMD_H
#define TD_ARM_SIMD_H

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#include "td_math.h"

/* Four bytes as one word (an unaligned LDR on v7E-M; memcpy keeps C's aliasing rules). */
static inline uint32_t td_arm_read4(const void *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* SXTB16 of the word rotated right by 8: bytes 1 and 3 sign-extended to halfwords. */
static inline int32_t td_arm_sxtb16_ror8(uint32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* acc + the four products of one weight word and the extended input pair (x02, x13). */
static inline int32_t td_arm_dot4(int32_t acc, uint32_t w, int32_t x02, int32_t x13) {
  acc = __smlad(__sxtb16((int32_t)w), x02, acc);
  return __smlad(td_arm_sxtb16_ror8(w), x13, acc);
}

/*
 * td_mul_by_quantized_mult (single rounding), the same value with fewer instructions for the usual
 * shift <= -2: the product's high word (SMULL) rounded by k = -shift - 1 bits. round(x * m / 2^(32 + k))
 * only reads the high word: the low word is a fraction below one that cannot carry across a multiple
 * of 2^k.
 */
static inline int32_t td_arm_requant(int32_t x, int32_t multiplier, int32_t shift) {
#ifndef TD_DOUBLE_ROUNDING
  if (shift <= -2) {
    const int32_t k = -shift - 1;
    const int32_t hi = (int32_t)(((int64_t)x * multiplier) >> 32);
    return (hi + ((int32_t)1 << (k - 1))) >> k;
  }
#endif
  return td_mul_by_quantized_mult(x, multiplier, shift);
}

/*
 * td_mul_by_quantized_mult_dr (two-step rounding, the conv family), the same value with fewer
 * instructions. The rounding doubling high multiply of a Q31 multiplier (0 < m < 2^31, so never the
 * saturating case) is floor((x * m + 2^30) / 2^31) for both signs; the rounding right shift by e
 * (ties away from zero) is floor((v + 2^(e-1) - [v < 0]) / 2^e), computed as the reference does when
 * v + 2^(e-1) could overflow.
 */
static inline int32_t td_arm_requant_dr(int32_t x, int32_t multiplier, int32_t shift) {
  int32_t v;
  if (shift > 0) x = td_shl32(x, shift);
  v = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
  if (shift >= 0) return v;
  if (v > TD_INT32_MAX - ((int32_t)1 << (-shift - 1))) return td_rounding_divide_by_pot(v, -shift);
  return (v + ((int32_t)1 << (-shift - 1)) + (v >> 31)) >> -shift;
}

#endif /* TD_ARM_SIMD_H */
