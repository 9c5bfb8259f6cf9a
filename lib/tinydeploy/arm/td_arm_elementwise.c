/*
 * int8 ADD, SUB and MUL of same-shape inputs for Arm cores with the DSP extension (Cortex-M4/M7/M33/
 * M55): the arm-dsp variants of td_add_s8 / td_sub_s8 / td_mul_s8, bit-exact with them (LiteRT's
 * two-step rounding), on constants the compiler derived at conversion time (td_elementwise.h).
 *
 * Each two-step requantization (rounding doubling high multiply, then a rounding right shift, ties
 * away from zero) is one SMMLAR, whose accumulator carries the second rounding, the sign correction
 * and the output zero point, plus one arithmetic shift: no 64-bit shifts, no branches. ADD: the
 * larger-scale input's term is exact (multiplier 2^30, shift 0), so it is one MLA; MUL: the offsets
 * and the doubling are SXTAB16 / SADD16 on halfword pairs and the products SMULBB / SMULTT.
 * Outputs are saturated with SSAT; a fused activation narrower than int8 is applied four bytes at a
 * time (SSUB8 + SEL), for ADD / SUB in a second pass over the output. Elements are read before the
 * output element of the same index is written, so the output may share memory with input 1.
 */
#include "td_elementwise.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_simd.h"

#define TD_ARM_ALWAYS_INLINE static inline __attribute__((always_inline))

/* The output stage: RDBP(SRDHM(raw2 / 2, m), shift) + zero point, saturated to int8. */
TD_ARM_ALWAYS_INLINE int32_t td_arm_out(int32_t raw2, int32_t m, int32_t round, int32_t shift) {
  return td_arm_ssat8(td_arm_smmlar(raw2, m, round + (raw2 >> 31)) >> shift);
}

/* Four int8 outputs: clamped to [lo4, hi4] bytewise and stored as one word, or stored as they are. */
TD_ARM_ALWAYS_INLINE void td_arm_store4(int8_t *out, int32_t v0, int32_t v1, int32_t v2, int32_t v3, uint32_t lo4,
                                        uint32_t hi4, int clamp) {
  if (clamp) {
    td_arm_write4(out, td_arm_min4(td_arm_max4(td_arm_pack4(v0, v1, v2, v3), lo4), hi4));
  } else {
    out[0] = (int8_t)v0;
    out[1] = (int8_t)v1;
    out[2] = (int8_t)v2;
    out[3] = (int8_t)v3;
  }
}

/* ---- ADD / SUB ---------------------------------------------------------------------------- */

/* The constants of td_add_arm_params in registers (the output may alias anything they live in). */
typedef struct {
  int32_t t_offset, g_offset, g_mult, g_round, g_shift, o_mult, o_round, o_shift;
} td_arm_add_k;

/* One output element (before the activation) from xt, the exact input, and xg, the rescaled one;
 * ts and gs are their coefficients in raw2 (literals in the fast loops, so the MLAs become shifts). */
TD_ARM_ALWAYS_INLINE int32_t td_arm_add_one(const td_arm_add_k *k, int32_t xt, int32_t xg, int32_t ts, int32_t gs) {
  const int32_t d = xg * (1 << 21) + k->g_offset; /* (xg + offset) << 21 */
  const int32_t g = td_arm_smmlar(d, k->g_mult, k->g_round + (d >> 31)) >> k->g_shift;
  const int32_t raw2 = k->t_offset + xt * ts + g * gs;
  return td_arm_out(raw2, k->o_mult, k->o_round, k->o_shift);
}

/* Without an activation clamp: four elements per iteration, each stored before the next is read. */
TD_ARM_ALWAYS_INLINE void td_arm_add_loop(td_arm_add_k k, const int8_t *xt, const int8_t *xg, int8_t *out,
                                          int32_t n, int32_t ts, int32_t gs) {
  int32_t i;
  for (i = n >> 2; i > 0; --i) {
    out[0] = (int8_t)td_arm_add_one(&k, xt[0], xg[0], ts, gs);
    out[1] = (int8_t)td_arm_add_one(&k, xt[1], xg[1], ts, gs);
    out[2] = (int8_t)td_arm_add_one(&k, xt[2], xg[2], ts, gs);
    out[3] = (int8_t)td_arm_add_one(&k, xt[3], xg[3], ts, gs);
    xt += 4;
    xg += 4;
    out += 4;
  }
  for (i = n & 3; i > 0; --i) *out++ = (int8_t)td_arm_add_one(&k, *xt++, *xg++, ts, gs);
}

/* A fused activation narrower than int8, four bytes at a time (SSUB8 + SEL), after the loop. */
static void td_arm_clamp_s8(int8_t *out, int32_t n, int32_t lo, int32_t hi) {
  const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
  for (; n >= 4; n -= 4, out += 4) td_arm_write4(out, td_arm_min4(td_arm_max4(td_arm_read4(out), lo4), hi4));
  for (; n > 0; --n, ++out) *out = (int8_t)td_clamp(*out, lo, hi);
}

void td_add_s8_arm_dsp(const td_add_arm_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  const int8_t *xt = p->swap ? input2 : input1, *xg = p->swap ? input1 : input2;
  const int32_t n = p->size;
  td_arm_add_k k;
  k.t_offset = p->t_offset;
  k.g_offset = p->g_offset;
  k.g_mult = p->g_multiplier;
  k.g_round = p->g_round;
  k.g_shift = p->g_shift;
  k.o_mult = p->output_multiplier;
  k.o_round = p->output_round;
  k.o_shift = p->output_shift;
  /* the three coefficient pairs the compiler emits, as literals: the MLAs become shifted adds */
  if (p->g_scale < 0) {
    td_arm_add_loop(k, xt, xg, output, n, 1 << 20, -2); /* SUB, input 2 rescaled */
  } else if (p->t_scale < 0) {
    td_arm_add_loop(k, xt, xg, output, n, -(1 << 20), 2); /* SUB, input 1 rescaled */
  } else {
    td_arm_add_loop(k, xt, xg, output, n, 1 << 20, 2); /* ADD */
  }
  if (p->activation.min > -128 || p->activation.max < 127) {
    td_arm_clamp_s8(output, n, p->activation.min, p->activation.max);
  }
}

/* ---- MUL ------------------------------------------------------------------------------------ */

TD_ARM_ALWAYS_INLINE void td_arm_mul_loop(const td_mul_arm_params *p, const int8_t *a, const int8_t *b, int8_t *out,
                                          int clamp) {
  const int32_t off1 = p->input1_offset, off2 = p->input2_offset;
  const int32_t o1 = (int32_t)(((uint32_t)off1 & 0xFFFFu) * 0x10001u); /* off1 in both halfwords */
  const int32_t o2 = (int32_t)(((uint32_t)off2 & 0xFFFFu) * 0x10001u);
  const int32_t m = p->output_multiplier, round = p->output_round, shift = p->output_shift;
  const int32_t lo = p->activation.min, hi = p->activation.max;
  const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
  const int32_t n = p->size;
  int32_t i;
  for (i = n >> 2; i > 0; --i) {
    const uint32_t wa = td_arm_read4(a), wb = td_arm_read4(b);
    const int32_t a02 = __sxtab16(o1, (int32_t)wa), a13 = td_arm_sxtab16_ror8(o1, wa);
    int32_t b02 = __sxtab16(o2, (int32_t)wb), b13 = td_arm_sxtab16_ror8(o2, wb);
    b02 = (int32_t)__sadd16(b02, b02); /* 2 (x2 + off2): the output stage works on twice the product */
    b13 = (int32_t)__sadd16(b13, b13);
    td_arm_store4(out, td_arm_out(td_arm_smulbb(a02, b02), m, round, shift),
                  td_arm_out(td_arm_smulbb(a13, b13), m, round, shift),
                  td_arm_out(td_arm_smultt(a02, b02), m, round, shift),
                  td_arm_out(td_arm_smultt(a13, b13), m, round, shift), lo4, hi4, clamp);
    a += 4;
    b += 4;
    out += 4;
  }
  for (i = n & 3; i > 0; --i) {
    const int32_t prod2 = 2 * (*a++ + off1) * (*b++ + off2);
    *out++ = (int8_t)td_clamp(td_arm_out(prod2, m, round, shift), lo, hi);
  }
}

void td_mul_s8_arm_dsp(const td_mul_arm_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  if (p->activation.min > -128 || p->activation.max < 127) {
    td_arm_mul_loop(p, input1, input2, output, 1);
  } else {
    td_arm_mul_loop(p, input1, input2, output, 0);
  }
}

#else
typedef int td_arm_elementwise_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
