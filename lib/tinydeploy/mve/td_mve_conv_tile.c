/*
 * The tile of the arm-mve conv kernels (td_mve_conv.c): three pixels' fields times the filters two at a
 * time (the mve conv layout, td_mve_conv.h), six VMLADAVA per 16 columns in a tail-predicated loop
 * (DLSTP/LETP: the last 16 columns are read with the lanes past K off); then the outputs
 * requantized four channels at a time, bit-exact with td_mul_by_quantized_mult_dr (two-step rounding):
 *   - the left shift (shift > 0) wraps: VSHL;
 *   - the rounding doubling high product is VQRDMULH: (2 a b + 2^31) >> 32 equals gemmlowp's
 *     (a b + nudge) / 2^31 (nudge 2^30, or 1 - 2^30 for a negative product, truncating), and both
 *     saturate the one overflow (INT32_MIN * INT32_MIN);
 *   - the rounding right shift by r rounds ties away from zero: negative values first lose one
 *     (VQADD of -1: only INT32_MIN saturates, and its result is the same), then VRSHL by -r rounds half up.
 */
#include "td_mve_conv.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>

#include "td_mve_conv_tile.h"

/*
 * One pair of filters (w: their rows chunk-interleaved, padded to 16; advanced past them) x fields x0,
 * x1, x2: accumulators to acc[0, 1], acc[s, s + 1], acc[2 s, 2 s + 1]. In asm: VMLADAVA takes even
 * registers only ("Te"), and the tail-predicated loop counts in lr.
 */
static inline const int8_t *td_mve_tile_3x2(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w,
                                            int32_t k, const int32_t *bias, int32_t *acc, int32_t s) {
  int32_t a0 = bias[0], a1 = bias[1], c0 = a0, c1 = a1, d0 = a0, d1 = a1;
#if defined(__OPTIMIZE__)
  __asm__("dlstp.8 lr, %[k]\n"
          "1:\n\t"
          "vldrb.8 q0, [%[w]], #16\n\t"
          "vldrb.8 q1, [%[w]], #16\n\t"
          "vldrb.8 q2, [%[x0]], #16\n\t"
          "vmladava.s8 %[a0], q2, q0\n\t"
          "vmladava.s8 %[a1], q2, q1\n\t"
          "vldrb.8 q2, [%[x1]], #16\n\t"
          "vmladava.s8 %[c0], q2, q0\n\t"
          "vmladava.s8 %[c1], q2, q1\n\t"
          "vldrb.8 q2, [%[x2]], #16\n\t"
          "vmladava.s8 %[d0], q2, q0\n\t"
          "vmladava.s8 %[d1], q2, q1\n\t"
          "letp lr, 1b"
          : [a0] "+Te"(a0), [a1] "+Te"(a1), [c0] "+Te"(c0), [c1] "+Te"(c1), [d0] "+Te"(d0), [d1] "+Te"(d1),
            [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w)
          : [k] "r"(k)
          : "q0", "q1", "q2", "lr", "memory");
#else /* -O0 keeps a frame pointer: too few registers left for the asm; the same loop in intrinsics */
  int32_t j;
  for (j = k; j > 0; j -= 16, w += 32, x0 += 16, x1 += 16, x2 += 16) {
    const mve_pred16_t pr = vctp8q((uint32_t)j);
    const int8x16_t u = vldrbq_z_s8(w, pr), v = vldrbq_z_s8(w + 16, pr);
    int8x16_t x = vldrbq_z_s8(x0, pr);
    a0 = vmladavaq_s8(a0, x, u);
    a1 = vmladavaq_s8(a1, x, v);
    x = vldrbq_z_s8(x1, pr);
    c0 = vmladavaq_s8(c0, x, u);
    c1 = vmladavaq_s8(c1, x, v);
    x = vldrbq_z_s8(x2, pr);
    d0 = vmladavaq_s8(d0, x, u);
    d1 = vmladavaq_s8(d1, x, v);
  }
#endif
  acc[0] = a0;
  acc[1] = a1;
  acc[s] = c0;
  acc[s + 1] = c1;
  acc[2 * s] = d0;
  acc[2 * s + 1] = d1;
  return w;
}

/* The last filter of an odd count (a padded row) x the three fields, into acc[0], acc[s], acc[2 s]. */
static inline void td_mve_tile_3x1(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w, int32_t k,
                                   int32_t b, int32_t *acc, int32_t s) {
  int32_t a = b, c = b, d = b;
  __asm__("dlstp.8 lr, %[k]\n"
          "1:\n\t"
          "vldrb.8 q0, [%[w]], #16\n\t"
          "vldrb.8 q2, [%[x0]], #16\n\t"
          "vmladava.s8 %[a], q2, q0\n\t"
          "vldrb.8 q2, [%[x1]], #16\n\t"
          "vmladava.s8 %[c], q2, q0\n\t"
          "vldrb.8 q2, [%[x2]], #16\n\t"
          "vmladava.s8 %[d], q2, q0\n\t"
          "letp lr, 1b"
          : [a] "+Te"(a), [c] "+Te"(c), [d] "+Te"(d), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w)
          : [k] "r"(k)
          : "q0", "q2", "lr", "memory");
  acc[0] = a;
  acc[s] = c;
  acc[2 * s] = d;
}

/* Four accumulators to outputs (before the byte store): see the file comment. */
static inline int32x4_t td_mve_rq(int32x4_t v, int32x4_t mult, int32x4_t left, int32x4_t right, int32_t offset,
                                  int32x4_t lo, int32x4_t hi) {
  v = vqrdmulhq_s32(vshlq_s32(v, left), mult);
  v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31));
  v = vaddq_n_s32(vrshlq_s32(v, right), offset);
  return vminq_s32(vmaxq_s32(v, lo), hi);
}

/* The three pixels' accumulators (rows of s words in acc) to their output bytes. */
static void td_mve_conv_requant(const td_conv_params *p, const int32_t *acc, int32_t s, int8_t *o0, int8_t *o1,
                                int8_t *o2) {
  const int32_t n = p->output.c, offset = p->output_offset;
  const int32x4_t lo = vdupq_n_s32(p->activation.min), hi = vdupq_n_s32(p->activation.max);
  const int32x4_t zero = vdupq_n_s32(0);
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier, *shift = p->requant.shift;
  int32x4_t m = vdupq_n_s32(mult[0]), sh = vdupq_n_s32(shift[0]);
  int32x4_t left = vmaxq_s32(sh, zero), right = vminq_s32(sh, zero);
  int32_t oc;
  for (oc = 0; oc < n; oc += 4) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n - oc));
    if (p->requant.per_channel) {
      m = vldrwq_z_s32(mult + oc, pr);
      sh = vldrwq_z_s32(shift + oc, pr);
      left = vmaxq_s32(sh, zero);
      right = vminq_s32(sh, zero);
    }
    vstrbq_p_s32(o0 + oc, td_mve_rq(vldrwq_s32(acc + oc), m, left, right, offset, lo, hi), pr);
    vstrbq_p_s32(o1 + oc, td_mve_rq(vldrwq_s32(acc + s + oc), m, left, right, offset, lo, hi), pr);
    vstrbq_p_s32(o2 + oc, td_mve_rq(vldrwq_s32(acc + 2 * s + oc), m, left, right, offset, lo, hi), pr);
  }
}

void td_mve_conv_3px(const td_conv_params *p, int32_t k, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                     const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias, int32_t *acc,
                     int8_t *o0, int8_t *o1, int8_t *o2) {
  const int32_t out_c = p->output.c, s = (out_c + 3) & ~(int32_t)3; /* s: a pixel's accumulators */
  const int8_t *w = weights;
  int32_t oc;
  for (oc = 0; oc + 2 <= out_c; oc += 2) w = td_mve_tile_3x2(x0, x1, x2, w, k, bias + oc, acc + oc, s);
  if (oc < out_c) td_mve_tile_3x1(x0, x1, x2, w, k, bias[oc], acc + oc, s);
  td_mve_conv_requant(p, acc, s, o0, o1, o2);
}

#else
typedef int td_mve_conv_tile_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
