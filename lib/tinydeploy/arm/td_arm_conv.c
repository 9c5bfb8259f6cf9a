/*
 * CONV_2D int8 for Arm cores with the DSP extension: the arm-dsp variant of td_conv_s8 (groups 1),
 * bit-exact with it (the same two-step requantization).
 *
 * Every output pixel is a dot product of its receptive field (K = filter_h * filter_w * filter_c
 * int8, OHWI order) with each filter. Two pixels at a time, the field is gathered (im2col; a 1x1
 * unpadded convolution reads the input pixel directly) and widened once into the scratch as SXTB16
 * halfword pairs; then a 2x2 register tile (two pixels x two output channels) runs SMLAD over it, so
 * each weight word is loaded and extended once per two pixels and each input pair once per two
 * channels. Padding is filled with the input zero point, so the input offset folded into the bias
 * stays exact at the borders.
 *
 * Constants prepared at conversion time (ops/_arm.py, conv_weights_arm_dsp / folded_bias):
 *   - the weights as words: K padded with zeros to Kp (a multiple of 4), output channels in pairs,
 *     each pair group by group (word of channel 2i, word of channel 2i + 1), then a last odd channel;
 *   - the bias with the input offset folded in (never NULL).
 */
#include "td_conv.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_simd.h"
#include "td_kernel.h"

static inline int32_t td_arm_conv_k(const td_conv_params *p) {
  return p->window.filter_h * p->window.filter_w * p->filter_c;
}

/* 1x1 without padding: an output pixel's field is its input pixel, read in place. */
static inline int td_arm_conv_direct(const td_conv_params *p) {
  const td_window *w = &p->window;
  return w->filter_h == 1 && w->filter_w == 1 && w->pad_h == 0 && w->pad_w == 0;
}

int32_t td_conv_s8_arm_dsp_scratch_size(const td_conv_params *p) {
  const int32_t kp = (td_arm_conv_k(p) + 3) & ~(int32_t)3;
  return 4 * kp + (td_arm_conv_direct(p) ? 0 : kp); /* two widened fields (+ one int8 field) */
}

/* n int8 -> n / 2 widened words: per four bytes b0..b3 the words (b0, b2) and (b1, b3), stored
 * every four words (two pixels' fields interleave); a last partial group is completed with zeros. */
static void td_arm_widen(const int8_t *src, int32_t n, int32_t *dst) {
  int32_t i;
  for (i = 0; i + 4 <= n; i += 4, dst += 4) {
    const uint32_t v = td_arm_read4(src + i);
    dst[0] = __sxtb16((int32_t)v);
    dst[1] = td_arm_sxtb16_ror8(v);
  }
  if (i < n) {
    uint32_t v = 0;
    int32_t j;
    for (j = 0; i + j < n; ++j) v |= (uint32_t)(uint8_t)src[i + j] << (8 * j);
    dst[0] = __sxtb16((int32_t)v);
    dst[1] = td_arm_sxtb16_ror8(v);
  }
}

/* n bytes, a word at a time. */
static void td_arm_copy(int8_t *dst, const int8_t *src, int32_t n) {
  int32_t i;
  for (i = 0; i + 4 <= n; i += 4) {
    const uint32_t v = td_arm_read4(src + i);
    memcpy(dst + i, &v, 4);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

static void td_arm_fill(int8_t *dst, int8_t value, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) dst[i] = value;
}

/* The receptive field of the output pixel whose window starts at (y0, x0), int8, padding = pad. */
static void td_arm_conv_gather(const td_conv_params *p, const int8_t *in_b, int32_t y0, int32_t x0, int8_t pad,
                               int8_t *field) {
  const td_window *win = &p->window;
  const int32_t c = p->filter_c, taps = win->filter_w * c;
  const int32_t whole = win->dilation_w == 1 && x0 >= 0 && x0 + win->filter_w <= p->input.w;
  int32_t fy, fx;
  for (fy = 0; fy < win->filter_h; ++fy, field += taps) {
    const int32_t y = y0 + fy * win->dilation_h;
    const int8_t *row = in_b + y * p->input.w * c;
    if (y < 0 || y >= p->input.h) {
      td_arm_fill(field, pad, taps);
    } else if (whole) {
      td_arm_copy(field, row + x0 * c, taps);
    } else {
      for (fx = 0; fx < win->filter_w; ++fx) {
        const int32_t x = x0 + fx * win->dilation_w;
        if (x < 0 || x >= p->input.w) td_arm_fill(field + fx * c, pad, c);
        else td_arm_copy(field + fx * c, row + x * c, c);
      }
    }
  }
}

/* Output pixel `pix`'s field widened into `col` (two words per four values). */
static void td_arm_conv_field(const td_conv_params *p, const int8_t *in_b, int32_t pix, int8_t *field,
                              int32_t *col) {
  const int32_t k = td_arm_conv_k(p);
  if (field == 0) { /* direct */
    const int32_t oy = pix / p->output.w, ox = pix - oy * p->output.w;
    td_arm_widen(in_b + (oy * p->window.stride_h * p->input.w + ox * p->window.stride_w) * p->input.c, k, col);
  } else {
    const int32_t oy = pix / p->output.w, ox = pix - oy * p->output.w;
    td_arm_conv_gather(p, in_b, oy * p->window.stride_h - p->window.pad_h, ox * p->window.stride_w - p->window.pad_w,
                       (int8_t)-p->input_offset, field);
    td_arm_widen(field, k, col);
  }
}

/*
 * One output channel's requantization, prepared once for two pixels: td_mul_by_quantized_mult_dr as
 * SMMULR(acc << (left + 1), multiplier) (the rounding doubling high product, exact while the doubled
 * value fits in int32) and the rounding right shift (v + half - [v < 0]) >> right (exact while v + half
 * fits). `fast` (td_arm_conv_fast) says both hold for every accumulator of the layer.
 */
typedef struct {
  int32_t multiplier, left1, right, half, neg;
} td_arm_rq;

static inline td_arm_rq td_arm_conv_rq(const td_conv_params *p, int32_t oc) {
  const int32_t ch = td_requant_channel(&p->requant, oc), shift = p->requant.shift[ch];
  td_arm_rq q;
  q.multiplier = p->requant.multiplier[ch];
  q.left1 = (shift > 0 ? shift : 0) + 1;
  q.right = shift > 0 ? 0 : -shift;
  q.half = q.right > 0 ? (int32_t)1 << (q.right - 1) : 0;
  q.neg = q.right > 0 ? -1 : 0;
  return q;
}

static inline int32_t td_arm_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/* The reference requantization, out of line: for layers whose accumulators may come near 2^31. */
static __attribute__((noinline)) int32_t td_arm_requant_dr_slow(int32_t acc, td_arm_rq q) {
  return td_mul_by_quantized_mult_dr(acc, q.multiplier, q.left1 - 1 - q.right);
}

static inline int8_t td_arm_conv_out(int32_t acc, td_arm_rq q, int fast, int32_t offset, int32_t lo, int32_t hi) {
  int32_t v;
  if (fast) {
    v = td_arm_smmulr((int32_t)((uint32_t)acc << q.left1), q.multiplier);
    v = (v + q.half + ((v >> 31) & q.neg)) >> q.right;
  } else {
    v = td_arm_requant_dr_slow(acc, q);
  }
  return (int8_t)td_clamp(v + offset, lo, hi);
}

/*
 * Whether td_arm_conv_out may take its fast path for this layer: |accumulator| <= K * 128 * 128 +
 * max |bias| (the accumulator is then exact in int32), shifted left by the largest left shift plus
 * one, stays below 2^30 (so the doubled product input fits, and so does v + half <= 2^30 + 2^30 - 1).
 */
static int td_arm_conv_fast(const td_conv_params *p, const TD_WEIGHTS_MEM int32_t *bias) {
  const int32_t n = p->requant.per_channel ? p->output.c : 1;
  int64_t bound = 0;
  int32_t left = 0, i;
  for (i = 0; i < p->output.c; ++i) {
    const int64_t b = bias[i] < 0 ? -(int64_t)bias[i] : (int64_t)bias[i];
    if (b > bound) bound = b;
  }
  for (i = 0; i < n; ++i) {
    if (p->requant.shift[i] > left) left = p->requant.shift[i];
  }
  bound += (int64_t)td_arm_conv_k(p) * 16384;
  return left < 30 && (bound << (left + 1)) < ((int64_t)1 << 30);
}

/* acc + the SMLAD products of one group: weights (lo16, hi16) with one pixel's words (xa, xb). */
#define TD_ARM_GROUP_ASM                                                                           \
  "ldrd %[wa], %[wb], [%[w]], #8\n\t"                                                              \
  "ldrd %[xa], %[xb], [%[x]], #8\n\t"                                                              \
  "sxtb16 %[wal], %[wa]\n\t"                                                                       \
  "sxtb16 %[wa], %[wa], ror #8\n\t"                                                                \
  "sxtb16 %[wbl], %[wb]\n\t"                                                                       \
  "sxtb16 %[wb], %[wb], ror #8\n\t"                                                                \
  "smlad %[a00], %[wal], %[xa], %[a00]\n\t"                                                        \
  "smlad %[a00], %[wa], %[xb], %[a00]\n\t"                                                         \
  "smlad %[a10], %[wbl], %[xa], %[a10]\n\t"                                                        \
  "smlad %[a10], %[wb], %[xb], %[a10]\n\t"                                                         \
  "ldrd %[xa], %[xb], [%[x]], #8\n\t"                                                              \
  "smlad %[a01], %[wal], %[xa], %[a01]\n\t"                                                        \
  "smlad %[a01], %[wa], %[xb], %[a01]\n\t"                                                         \
  "smlad %[a11], %[wbl], %[xa], %[a11]\n\t"                                                        \
  "smlad %[a11], %[wb], %[xb], %[a11]\n\t"

/*
 * Two pixels' widened fields, interleaved group by group in `cols` (pixel 0's two words, then pixel
 * 1's), times every filter; o1 may be NULL (a lone last pixel).
 */
static void td_arm_conv_2px(const td_conv_params *p, const int32_t *cols, const TD_WEIGHTS_MEM int32_t *w,
                            const TD_WEIGHTS_MEM int32_t *bias, int fast, int8_t *o0, int8_t *o1) {
  const int32_t groups = (td_arm_conv_k(p) + 3) >> 2, channels = p->output.c;
  const int32_t offset = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  const int32_t *const end = cols + 4 * groups;
  int32_t oc;
  for (oc = 0; oc + 2 <= channels; oc += 2) {
    int32_t a00 = bias[oc], a01 = a00, a10 = bias[oc + 1], a11 = a10;
    const int32_t *x = cols;
    td_arm_rq q0, q1;
    {
      int32_t wa, wb, wal, wbl, xa, xb;
      __asm__("1:\n\t" TD_ARM_GROUP_ASM "cmp %[x], %[end]\n\tbne 1b"
              : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x),
                [wa] "=&r"(wa), [wb] "=&r"(wb), [wal] "=&r"(wal), [wbl] "=&r"(wbl), [xa] "=&r"(xa), [xb] "=&r"(xb)
              : [end] "r"(end)
              : "cc", "memory");
    }
    q0 = td_arm_conv_rq(p, oc);
    q1 = td_arm_conv_rq(p, oc + 1);
    o0[oc] = td_arm_conv_out(a00, q0, fast, offset, lo, hi);
    o0[oc + 1] = td_arm_conv_out(a10, q1, fast, offset, lo, hi);
    if (o1) {
      o1[oc] = td_arm_conv_out(a01, q0, fast, offset, lo, hi);
      o1[oc + 1] = td_arm_conv_out(a11, q1, fast, offset, lo, hi);
    }
  }
  if (oc < channels) { /* the last odd filter: plain words */
    int32_t a0 = bias[oc], a1 = a0;
    const int32_t *x = cols;
    const td_arm_rq q = td_arm_conv_rq(p, oc);
    do {
      const int32_t lo16 = __sxtb16(w[0]), hi16 = td_arm_sxtb16_ror8((uint32_t)w[0]);
      a0 = __smlad(hi16, x[1], __smlad(lo16, x[0], a0));
      a1 = __smlad(hi16, x[3], __smlad(lo16, x[2], a1));
      ++w;
      x += 4;
    } while (x != end);
    o0[oc] = td_arm_conv_out(a0, q, fast, offset, lo, hi);
    if (o1) o1[oc] = td_arm_conv_out(a1, q, fast, offset, lo, hi);
  }
}

void td_conv_s8_arm_dsp(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int32_t *weights,
                        const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch) {
  const int32_t kp = (td_arm_conv_k(p) + 3) & ~(int32_t)3;
  const int32_t pixels = p->output.h * p->output.w, out_c = p->output.c;
  int32_t *col0 = (int32_t *)scratch, *col1 = col0 + 2; /* interleaved fields: kp words */
  int8_t *field = td_arm_conv_direct(p) ? 0 : (int8_t *)(col0 + kp);
  const int fast = td_arm_conv_fast(p, bias);
  int32_t b, pix;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * p->input.w * p->input.c;
    int8_t *out_b = output + b * pixels * out_c;
    for (pix = 0; pix + 2 <= pixels; pix += 2) {
      td_arm_conv_field(p, in_b, pix, field, col0);
      td_arm_conv_field(p, in_b, pix + 1, field, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, out_b + pix * out_c, out_b + (pix + 1) * out_c);
    }
    if (pix < pixels) {
      td_arm_conv_field(p, in_b, pix, field, col0);
      td_arm_conv_2px(p, col0, weights, bias, fast, out_b + pix * out_c, 0);
    }
  }
}

/*
 * 1x1 stride-1 convolution written over its input (TinyEngine-style, td_conv_1x1_s8_inplace's twin):
 * two pixels are widened into the scratch before their outputs are written. With output.c <= input.c
 * the pixels go forward, otherwise backward: either way an output only covers input pixels already read.
 */
int32_t td_conv_1x1_s8_arm_dsp_inplace_scratch_size(const td_conv_params *p) {
  return 4 * ((p->filter_c + 3) & ~(int32_t)3);
}

void td_conv_1x1_s8_arm_dsp_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int32_t *weights,
                                    const TD_WEIGHTS_MEM int32_t *bias, void *scratch) {
  const int32_t cin = p->input.c, cout = p->output.c;
  const int fast = td_arm_conv_fast(p, bias);
  const int32_t pixels = p->input.n * p->input.h * p->input.w, odd = pixels & 1;
  int32_t *col0 = (int32_t *)scratch, *col1 = col0 + 2; /* interleaved fields: kp words */
  int32_t i;
  if (cout <= cin) {
    for (i = 0; i + 2 <= pixels; i += 2) {
      td_arm_widen(buf + i * cin, cin, col0);
      td_arm_widen(buf + (i + 1) * cin, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, buf + i * cout, buf + (i + 1) * cout);
    }
    if (odd) {
      td_arm_widen(buf + i * cin, cin, col0);
      td_arm_conv_2px(p, col0, weights, bias, fast, buf + i * cout, 0);
    }
  } else {
    for (i = pixels - 1; i >= odd + 1; i -= 2) { /* pixels i - 1 and i */
      td_arm_widen(buf + (i - 1) * cin, cin, col0);
      td_arm_widen(buf + i * cin, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, buf + (i - 1) * cout, buf + i * cout);
    }
    if (odd) {
      td_arm_widen(buf, cin, col0);
      td_arm_conv_2px(p, col0, weights, bias, fast, buf, 0);
    }
  }
}

#else
typedef int td_arm_conv_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
