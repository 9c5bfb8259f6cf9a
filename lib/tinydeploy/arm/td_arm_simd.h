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

/* The scratch rounded up to a word (LDRD/LDM fault on a byte-aligned address): kernels whose
 * scratch holds words ask for 3 bytes more and start here, whatever alignment the plan used. */
static inline void *td_arm_word_align(void *scratch) {
  return (void *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
}

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

/* Four bytes stored as one word (an unaligned STR on v7E-M). */
static inline void td_arm_write4(void *p, uint32_t v) { memcpy(p, &v, 4); }

/* acc + SXTB16 of the word rotated right by 8 (bytes 1 and 3 added to the two halfwords). */
static inline int32_t td_arm_sxtab16_ror8(int32_t acc, uint32_t v) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(v));
  return r;
}

/* SMMLAR: floor((acc * 2^32 + a * b + 2^31) / 2^32), the rounded high word plus acc. */
static inline int32_t td_arm_smmlar(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}

/* Bytewise signed max / min of four int8 lanes (SSUB8 sets the GE flags that SEL reads). */
static inline uint32_t td_arm_max4(uint32_t a, uint32_t b) {
  uint32_t r, t;
  __asm__("ssub8 %1, %2, %3\n\tsel %0, %2, %3" : "=r"(r), "=&r"(t) : "r"(a), "r"(b) : "cc");
  return r;
}

static inline uint32_t td_arm_min4(uint32_t a, uint32_t b) {
  uint32_t r, t;
  __asm__("ssub8 %1, %2, %3\n\tsel %0, %3, %2" : "=r"(r), "=&r"(t) : "r"(a), "r"(b) : "cc");
  return r;
}

/* Four int32 values in [-128, 127] packed as the bytes of one word (v0 lowest), BFI by BFI. */
static inline uint32_t td_arm_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3) {
  uint32_t w = (uint32_t)v0;
  __asm__("bfi %0, %1, #8, #8" : "+r"(w) : "r"(v1));
  __asm__("bfi %0, %1, #16, #8" : "+r"(w) : "r"(v2));
  __asm__("bfi %0, %1, #24, #8" : "+r"(w) : "r"(v3));
  return w;
}

/* The int8 value v in all four bytes (activation bounds for td_arm_max4 / td_arm_min4). */
static inline uint32_t td_arm_splat4(int32_t v) { return ((uint32_t)v & 0xFFu) * 0x01010101u; }

/* SMULBB / SMULTT: the product of the bottom (top) signed halfwords of a and b. */
static inline int32_t td_arm_smulbb(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smulbb %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

static inline int32_t td_arm_smultt(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smultt %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/* SSAT #8: v saturated to [-128, 127]. */
static inline int32_t td_arm_ssat8(int32_t v) {
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
  return r;
}

#endif /* TD_ARM_SIMD_H */
