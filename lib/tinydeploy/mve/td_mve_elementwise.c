/*
 * ADD / SUB / MUL int8 of same-shape inputs for Cortex-M55/M85 with Helium (MVE): the arm-mve variants of
 * td_add_s8, td_sub_s8 and td_mul_s8 (td_elementwise.c), bit-exact with them. Four elements per vector in
 * int32 lanes, the reference's arithmetic lane by lane: VQRDMULH is TFLite's saturating rounding doubling
 * high multiply, and a rounding right shift (ties away from zero) is VRSHL after subtracting one from
 * negative values (saturating). A shift of 0 skips that step (a constant of each instantiation).
 */
#include "td_mve_dw.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>

#define TD_MVE_INLINE static inline __attribute__((always_inline))

/* td_mul_by_quantized_mult_dr for a shift <= 0 (right: the shift is < 0; shift as VRSHL wants it). */
TD_MVE_INLINE int32x4_t td_mve_rq_right(int32x4_t x, int32_t m, int32_t shift, int right) {
  x = vqrdmulhq_n_s32(x, m);
  return right ? vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift) : x;
}

/* The output zero point, then the activation (which lies inside int8: saturation too), then the store. */
TD_MVE_INLINE void td_mve_out(int8_t *o, int32x4_t x, int32_t zp, int32x4_t lo, int32x4_t hi, mve_pred16_t pr,
                              int tail) {
  x = vminq_s32(vmaxq_s32(vaddq_n_s32(x, zp), lo), hi);
  if (tail)
    vstrbq_p_s32(o, x, pr);
  else
    vstrbq_s32(o, x);
}

/* Four elements of ADD / SUB: ((x + off) << left) requantized per input, summed, requantized. */
typedef struct {
  int32_t off1, off2, m1, s1, m2, s2, mo, so; /* the offsets shifted left */
} td_mve_add_k;

TD_MVE_INLINE int32x4_t td_mve_add4(int32x4_t x, int32x4_t y, int32x4_t scale, td_mve_add_k k, int sub, int r1,
                                    int r2, int ro) {
  x = td_mve_rq_right(vmlasq_n_s32(x, scale, k.off1), k.m1, k.s1, r1);
  y = td_mve_rq_right(vmlasq_n_s32(y, scale, k.off2), k.m2, k.s2, r2);
  return td_mve_rq_right(sub ? vsubq_s32(x, y) : vaddq_s32(x, y), k.mo, k.so, ro);
}

/* ADD / SUB: r1, r2, ro say whether input 1's, input 2's and the output's shift is < 0. */
TD_MVE_INLINE void td_mve_add_loop(const td_add_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o,
                                   int sub, int r1, int r2, int ro) {
  const int32x4_t scale = vdupq_n_s32((int32_t)1 << p->left_shift);
  const int32x4_t lo = vdupq_n_s32(p->activation.min), hi = vdupq_n_s32(p->activation.max);
  const int32_t zp = p->output_offset;
  td_mve_add_k k; /* (locals: the stores through o could alias p) */
  k.off1 = (int32_t)((uint32_t)p->input1_offset << p->left_shift);
  k.off2 = (int32_t)((uint32_t)p->input2_offset << p->left_shift);
  k.m1 = p->input1_multiplier, k.s1 = p->input1_shift, k.m2 = p->input2_multiplier, k.s2 = p->input2_shift;
  k.mo = p->output_multiplier, k.so = p->output_shift;
  int32_t i;
  for (i = n >> 2; i > 0; --i, a += 4, b += 4, o += 4) /* whole vectors, then the tail predicated */
    td_mve_out(o, td_mve_add4(vldrbq_s32(a), vldrbq_s32(b), scale, k, sub, r1, r2, ro), zp, lo, hi, 0, 0);
  if (n & 3) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n & 3));
    td_mve_out(o, td_mve_add4(vldrbq_z_s32(a, pr), vldrbq_z_s32(b, pr), scale, k, sub, r1, r2, ro), zp, lo,
               hi, pr, 1);
  }
}

#define TD_MVE_ADD_FN(NAME, SUB, R1, R2, RO)                                                            \
  static void NAME(const td_add_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o) { \
    td_mve_add_loop(p, n, a, b, o, SUB, R1, R2, RO);                                                 \
  }
/* the input with the larger scale has shift 0 (multiplier 2^30); the output shift is < 0 but in corners */
TD_MVE_ADD_FN(td_mve_add_0rr, 0, 0, 1, 1)
TD_MVE_ADD_FN(td_mve_add_r0r, 0, 1, 0, 1)
TD_MVE_ADD_FN(td_mve_add_any, 0, 1, 1, 1)
TD_MVE_ADD_FN(td_mve_sub_0rr, 1, 0, 1, 1)
TD_MVE_ADD_FN(td_mve_sub_r0r, 1, 1, 0, 1)
TD_MVE_ADD_FN(td_mve_sub_any, 1, 1, 1, 1)

/* Any other shifts (a shift of 0 must skip the rounding shift, which would subtract one from negative
 * values): the same loop with the choices made per vector. */
static void td_mve_add_any_shift(const td_add_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o,
                                 int sub) {
  td_mve_add_loop(p, n, a, b, o, sub, p->input1_shift < 0, p->input2_shift < 0, p->output_shift < 0);
}

static void td_mve_add_pick(const td_add_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o, int sub) {
  const int r1 = p->input1_shift < 0, r2 = p->input2_shift < 0, ro = p->output_shift < 0;
  if (ro && !r1 && r2)
    (sub ? td_mve_sub_0rr : td_mve_add_0rr)(p, n, a, b, o);
  else if (ro && r1 && !r2)
    (sub ? td_mve_sub_r0r : td_mve_add_r0r)(p, n, a, b, o);
  else if (ro && r1 && r2)
    (sub ? td_mve_sub_any : td_mve_add_any)(p, n, a, b, o);
  else
    td_mve_add_any_shift(p, n, a, b, o, sub);
}

void td_add_s8_mve(const td_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_mve_add_pick(p, size, input1, input2, output, 0);
}

void td_sub_s8_mve(const td_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_mve_add_pick(p, size, input1, input2, output, 1);
}

/* Four elements of MUL: (x + off1) (y + off2), then the output requantization (left or right shift). */
TD_MVE_INLINE int32x4_t td_mve_mul4(int32x4_t x, int32x4_t y, int32_t off1, int32_t off2, int32_t m, int32_t s,
                                    int right) {
  const int32x4_t r = vmulq_s32(vaddq_n_s32(x, off1), vaddq_n_s32(y, off2));
  return right ? td_mve_rq_right(r, m, s, 1) : vqrdmulhq_n_s32(vshlq_r_s32(r, s), m);
}

/* MUL: (x1 + off1) (x2 + off2), then the output requantization: left shift, or right (shift < 0). */
TD_MVE_INLINE void td_mve_mul_loop(const td_mul_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o,
                                   int right) {
  const int32x4_t lo = vdupq_n_s32(p->activation.min), hi = vdupq_n_s32(p->activation.max);
  const int32_t off1 = p->input1_offset, off2 = p->input2_offset;
  const int32_t m = p->output_multiplier, s = p->output_shift, zp = p->output_offset;
  int32_t i;
  for (i = n >> 2; i > 0; --i, a += 4, b += 4, o += 4)
    td_mve_out(o, td_mve_mul4(vldrbq_s32(a), vldrbq_s32(b), off1, off2, m, s, right), zp, lo, hi, 0, 0);
  if (n & 3) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n & 3));
    td_mve_out(o, td_mve_mul4(vldrbq_z_s32(a, pr), vldrbq_z_s32(b, pr), off1, off2, m, s, right), zp, lo, hi, pr, 1);
  }
}

static void td_mve_mul_right(const td_mul_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o) {
  td_mve_mul_loop(p, n, a, b, o, 1);
}

static void td_mve_mul_left(const td_mul_params *p, int32_t n, const int8_t *a, const int8_t *b, int8_t *o) {
  td_mve_mul_loop(p, n, a, b, o, 0);
}

void td_mul_s8_mve(const td_mul_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output) {
  (p->output_shift < 0 ? td_mve_mul_right : td_mve_mul_left)(p, size, input1, input2, output);
}

#else
typedef int td_mve_elementwise_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
