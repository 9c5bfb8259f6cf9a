/*
 * Building blocks of the riscv kernels (lib/tinydeploy/riscv/; not for generated code): the two-step
 * requantization of LiteRT's conv kernels (td_mul_by_quantized_mult_dr) in fewer instructions, and the
 * interleaved byte copy of the im2col fields.
 */
#ifndef TD_RISCV_KERNEL_H
#define TD_RISCV_KERNEL_H

#include "td_kernel.h"

/* An inner loop kept out of its caller, so the caller's values do not crowd its registers (GCC and clang
 * inline static functions called once; other compilers decide for themselves). */
#if defined(__GNUC__) || defined(__clang__)
#define TD_RV_NOINLINE __attribute__((noinline))
#else
#define TD_RV_NOINLINE
#endif

/*
 * The rounding doubling high multiply of td_mul_by_quantized_mult_dr, exact for m != INT32_MIN (Q31
 * multipliers are in [0, 2^31)): it adds 2^30 for ab >= 0 and 1 - 2^30 for ab < 0, then truncates toward
 * zero; for ab < 0 that is ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), the same floor as for
 * ab >= 0: one add and an arithmetic shift.
 */
static inline int32_t td_rv_high_mul(int32_t x, int32_t m) {
  return (int32_t)(((int64_t)x * m + ((int64_t)1 << 30)) >> 31);
}

static inline int32_t td_rv_out(int32_t x, int32_t zero_point, int32_t lo, int32_t hi) {
  x += zero_point;
  return x < lo ? lo : (x > hi ? hi : x);
}

/* td_mul_by_quantized_mult_dr(acc, m, s) + zero_point, clamped to [lo, hi]. */
static inline int32_t td_rv_requant(int32_t acc, int32_t m, int32_t s, int32_t zero_point, int32_t lo,
                                    int32_t hi) {
  if (s > 0) return td_rv_out(td_rv_high_mul(td_shl32(acc, s), m), zero_point, lo, hi);
  return td_rv_out(td_rounding_divide_by_pot(td_rv_high_mul(acc, m), -s), zero_point, lo, hi);
}

/* td_rv_requant for a shift s = -right <= 0 (no left shift; the rounding shift by 0 is the identity). */
static inline int32_t td_rv_requant_down(int32_t acc, int32_t m, int32_t right, int32_t zero_point, int32_t lo,
                                         int32_t hi) {
  return td_rv_out(td_rounding_divide_by_pot(td_rv_high_mul(acc, m), right), zero_point, lo, hi);
}

/* n bytes of src to every third byte of dst (one pixel's slot of a three-pixel field); returns the end. */
static inline int8_t *td_rv_copy3(int8_t *dst, const int8_t *src, int32_t n) {
  for (; n >= 4; n -= 4, src += 4, dst += 12) {
    dst[0] = src[0];
    dst[3] = src[1];
    dst[6] = src[2];
    dst[9] = src[3];
  }
  for (; n > 0; --n, dst += 3) *dst = *src++;
  return dst;
}

/* n copies of v to every third byte of dst; returns the end. */
static inline int8_t *td_rv_fill3(int8_t *dst, int8_t v, int32_t n) {
  for (; n > 0; --n, dst += 3) *dst = v;
  return dst;
}

#endif /* TD_RISCV_KERNEL_H */
