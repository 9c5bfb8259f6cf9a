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
#include <string.h>

#include "td_mve_conv_tile.h"

/* Two int32 biases at the head of a pair in the weight stream (any alignment). */
static inline int32_t td_mve_bias_at(const int8_t *w) {
  int32_t b;
  memcpy(&b, w, 4);
  return b;
}

/*
 * One pair of filters (w: their biases, then their rows chunk-interleaved; returned past them) x fields
 * x0, x1, x2: accumulators to acc[0, 1], acc[4, 5], acc[8, 9] (td_mve_acc_at). In asm: VMLADAVA takes
 * even registers only ("Te"), the tail-predicated loop counts in lr, and k comes from the stack (ten
 * registers: enough left with a frame pointer at any optimization level).
 */
static inline const int8_t *td_mve_tile_3x2(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w,
                                            int32_t k, int32_t *acc) {
  int32_t a0, a1, c0, c1, d0, d1;
  __asm__("ldrd %[c0], %[c1], [%[w]]\n\t"
          "ldrd %[d0], %[d1], [%[w]]\n\t"
          "ldrd %[a0], %[a1], [%[w]], #8\n\t"
          "ldr lr, %[k]\n\t"
          "dlstp.8 lr, lr\n"
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
          : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [c0] "=&Te"(c0), [c1] "=&Te"(c1), [d0] "=&Te"(d0), [d1] "=&Te"(d1),
            [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w)
          : [k] "m"(k)
          : "q0", "q1", "q2", "lr", "memory");
  acc[0] = a0;
  acc[1] = a1;
  acc[4] = c0;
  acc[5] = c1;
  acc[8] = d0;
  acc[9] = d1;
  return w;
}

/* One pair in td_mve_tile_3x4: its biases, the dot products, its accumulators at acc + OFF bytes (0 or 8);
 * then the fields rewound by the bytes each advanced (K rounded up to 16). k, kp and acc live on the stack. */
#define TD_MVE_PAIR_ASM(OFF)                                                                      \
  "ldrd %[c0], %[c1], [%[w]]\n\t"                                                                  \
  "ldrd %[d0], %[d1], [%[w]]\n\t"                                                                  \
  "ldrd %[a0], %[a1], [%[w]], #8\n\t"                                                              \
  "ldr lr, %[k]\n\t"                                                                               \
  "dlstp.8 lr, lr\n"                                                                               \
  "1:\n\t"                                                                                         \
  "vldrb.8 q0, [%[w]], #16\n\t"                                                                    \
  "vldrb.8 q1, [%[w]], #16\n\t"                                                                    \
  "vldrb.8 q2, [%[x0]], #16\n\t"                                                                   \
  "vmladava.s8 %[a0], q2, q0\n\t"                                                                  \
  "vmladava.s8 %[a1], q2, q1\n\t"                                                                  \
  "vldrb.8 q2, [%[x1]], #16\n\t"                                                                   \
  "vmladava.s8 %[c0], q2, q0\n\t"                                                                  \
  "vmladava.s8 %[c1], q2, q1\n\t"                                                                  \
  "vldrb.8 q2, [%[x2]], #16\n\t"                                                                   \
  "vmladava.s8 %[d0], q2, q0\n\t"                                                                  \
  "vmladava.s8 %[d1], q2, q1\n\t"                                                                  \
  "letp lr, 1b\n\t"                                                                                \
  "ldr lr, %[acc]\n\t"                                                                             \
  "strd %[a0], %[a1], [lr, #" #OFF "]\n\t"                                                         \
  "strd %[c0], %[c1], [lr, #16 + " #OFF "]\n\t"                                                    \
  "strd %[d0], %[d1], [lr, #32 + " #OFF "]\n\t"                                                    \
  "ldr lr, %[kp]\n\t"                                                                              \
  "sub %[x0], %[x0], lr\n\t"                                                                       \
  "sub %[x1], %[x1], lr\n\t"                                                                       \
  "sub %[x2], %[x2], lr\n\t"

/*
 * `groups` groups of four filters (two pairs each) x the three fields, wholly in asm (ten registers and lr;
 * the rest on the stack): the accumulators of group g to acc + 12 g (td_mve_acc_at order). Returns w past them.
 */
static inline const int8_t *td_mve_tile_3x4(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w,
                                            int32_t k, int32_t *acc, int32_t groups) {
  int32_t a0, a1, c0, c1, d0, d1, kp = (k + 15) & ~(int32_t)15;
  __asm__("2:\n\t" TD_MVE_PAIR_ASM(0) TD_MVE_PAIR_ASM(8)
          "ldr lr, %[acc]\n\t"
          "add lr, lr, #48\n\t"
          "str lr, %[acc]\n\t"
          "ldr lr, %[n]\n\t"
          "subs lr, lr, #1\n\t"
          "str lr, %[n]\n\t"
          "bne 2b"
          : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [c0] "=&Te"(c0), [c1] "=&Te"(c1), [d0] "=&Te"(d0), [d1] "=&Te"(d1),
            [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [w] "+r"(w), [acc] "+m"(acc), [n] "+m"(groups)
          : [k] "m"(k), [kp] "m"(kp)
          : "q0", "q1", "q2", "lr", "cc", "memory");
  return w;
}

/* The last filter of an odd count (its bias, then its padded row) x the three fields, into acc[0], acc[4],
 * acc[8]. */
static inline void td_mve_tile_3x1(const int8_t *x0, const int8_t *x1, const int8_t *x2, const int8_t *w, int32_t k,
                                   int32_t *acc) {
  int32_t a = td_mve_bias_at(w), c = a, d = a;
  w += 4;
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
  acc[4] = c;
  acc[8] = d;
}

/* Four accumulators to outputs (before the byte store): see the file comment. `left`: some shift > 0. */
#define TD_MVE_INLINE static inline __attribute__((always_inline))

TD_MVE_INLINE int32x4_t td_mve_rq(int32x4_t v, int32x4_t mult, int32x4_t shift, int32_t offset, int32x4_t lo,
                                  int32x4_t hi, int left) {
  const int32x4_t zero = vdupq_n_s32(0);
  const int32x4_t right = left ? vminq_s32(shift, zero) : shift;
  if (left) v = vshlq_s32(v, vmaxq_s32(shift, zero));
  v = vqrdmulhq_s32(v, mult);
  v = vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31));
  v = vaddq_n_s32(vrshlq_s32(v, right), offset);
  return vminq_s32(vmaxq_s32(v, lo), hi);
}

/*
 * The accumulators of three pixels (td_mve_acc_at order: per four channels, four of each pixel) to
 * o0, o1, o2; per-channel or per-tensor, with or without left shifts (constant arguments: each call
 * below is inlined into its own loop). The last group of four stores only the channels that exist.
 */
TD_MVE_INLINE void td_mve_rq_loop(const td_conv_params *p, const int32_t *acc, int8_t *o0, int8_t *o1, int8_t *o2,
                                  int per_channel, int left) {
  const int32_t n = p->output.c, offset = p->output_offset;
  const int32x4_t lo = vdupq_n_s32(p->activation.min), hi = vdupq_n_s32(p->activation.max);
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier, *shift = p->requant.shift;
  int32x4_t m = vdupq_n_s32(mult[0]), sh = vdupq_n_s32(shift[0]);
  int32_t oc;
  for (oc = 0; oc + 4 <= n; oc += 4, acc += 12, o0 += 4, o1 += 4, o2 += 4) {
    if (per_channel) {
      m = vldrwq_s32(mult + oc);
      sh = vldrwq_s32(shift + oc);
    }
    vstrbq_s32(o0, td_mve_rq(vldrwq_s32(acc), m, sh, offset, lo, hi, left));
    vstrbq_s32(o1, td_mve_rq(vldrwq_s32(acc + 4), m, sh, offset, lo, hi, left));
    vstrbq_s32(o2, td_mve_rq(vldrwq_s32(acc + 8), m, sh, offset, lo, hi, left));
  }
  if (oc < n) {
    const mve_pred16_t pr = vctp32q((uint32_t)(n - oc));
    if (per_channel) {
      m = vldrwq_z_s32(mult + oc, pr);
      sh = vldrwq_z_s32(shift + oc, pr);
    }
    vstrbq_p_s32(o0, td_mve_rq(vldrwq_s32(acc), m, sh, offset, lo, hi, left), pr);
    vstrbq_p_s32(o1, td_mve_rq(vldrwq_s32(acc + 4), m, sh, offset, lo, hi, left), pr);
    vstrbq_p_s32(o2, td_mve_rq(vldrwq_s32(acc + 8), m, sh, offset, lo, hi, left), pr);
  }
}

int td_mve_conv_left_shifts(const td_conv_params *p) {
  const int32_t n = p->requant.per_channel ? p->output.c : 1;
  int32_t i;
  for (i = 0; i < n; ++i) {
    if (p->requant.shift[i] > 0) return 1;
  }
  return 0;
}

void td_mve_conv_3px(const td_conv_params *p, int32_t k, int left, const int8_t *x0, const int8_t *x1,
                     const int8_t *x2, const TD_WEIGHTS_MEM int8_t *weights, int32_t *acc, int8_t *o0, int8_t *o1,
                     int8_t *o2) {
  const int32_t out_c = p->output.c;
  const int8_t *w = weights;
  int32_t oc = 0;
  if (out_c >= 4) {
    w = td_mve_tile_3x4(x0, x1, x2, w, k, acc, out_c >> 2);
    oc = out_c & ~(int32_t)3;
  }
  for (; oc + 2 <= out_c; oc += 2) w = td_mve_tile_3x2(x0, x1, x2, w, k, td_mve_acc_at(acc, oc));
  if (oc < out_c) td_mve_tile_3x1(x0, x1, x2, w, k, td_mve_acc_at(acc, oc));
  if (p->requant.per_channel) {
    if (left) td_mve_rq_loop(p, acc, o0, o1, o2, 1, 1);
    else td_mve_rq_loop(p, acc, o0, o1, o2, 1, 0);
  } else {
    if (left) td_mve_rq_loop(p, acc, o0, o1, o2, 0, 1);
    else td_mve_rq_loop(p, acc, o0, o1, o2, 0, 0);
  }
}

#else
typedef int td_mve_conv_tile_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
