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
  /* two widened fields, two pixels' accumulators (+ one int8 field) */
  return 4 * kp + 8 * p->output.c + (td_arm_conv_direct(p) ? 0 : kp) + 3; /* + word alignment */
}

/* n int8 -> n / 2 widened words: per four bytes b0..b3 the words (b0, b2) and (b1, b3), stored
 * every four words (two pixels' fields interleave); a last partial group is completed with zeros. */
static void td_arm_widen(const int8_t *src, int32_t n, int32_t *dst) {
  int32_t i;
  for (i = 0; i + 8 <= n; i += 8, dst += 8) {
    const uint32_t v = td_arm_read4(src + i), u = td_arm_read4(src + i + 4);
    dst[0] = __sxtb16((int32_t)v);
    dst[1] = td_arm_sxtb16_ror8(v);
    dst[4] = __sxtb16((int32_t)u);
    dst[5] = td_arm_sxtb16_ror8(u);
  }
  for (; i + 4 <= n; i += 4, dst += 4) {
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

/* One window row that crosses a side border, int8: taps outside the input are `pad`. */
static void td_arm_conv_border_row(const td_conv_params *p, const int8_t *row, int32_t x0, int8_t pad, int8_t *dst) {
  const int32_t c = p->filter_c;
  int32_t fx;
  for (fx = 0; fx < p->window.filter_w; ++fx) {
    const int32_t x = x0 + fx * p->window.dilation_w;
    if (x < 0 || x >= p->input.w) td_arm_fill(dst + fx * c, pad, c);
    else td_arm_copy(dst + fx * c, row + x * c, c);
  }
}

/* The receptive field of the output pixel whose window starts at (y0, x0), int8, padding = pad. */
static void td_arm_conv_gather(const td_conv_params *p, const int8_t *in_b, int32_t y0, int32_t x0, int8_t pad,
                               int8_t *field) {
  const td_window *win = &p->window;
  const int32_t c = p->filter_c, taps = win->filter_w * c;
  const int32_t whole = win->dilation_w == 1 && x0 >= 0 && x0 + win->filter_w <= p->input.w;
  int32_t fy;
  for (fy = 0; fy < win->filter_h; ++fy, field += taps) {
    const int32_t y = y0 + fy * win->dilation_h;
    const int8_t *row = in_b + y * p->input.w * c;
    if (y < 0 || y >= p->input.h) {
      td_arm_fill(field, pad, taps);
    } else if (whole) {
      td_arm_copy(field, row + x0 * c, taps);
    } else {
      td_arm_conv_border_row(p, row, x0, pad, field);
    }
  }
}

/*
 * The field of a window whose rows are whole groups of four (filter_w * filter_c % 4 == 0): each window
 * row is widened straight from the input row (or from the int8 field where it crosses a border), and a
 * row above or below the input becomes the widened zero point.
 */
static void td_arm_conv_rows(const td_conv_params *p, const int8_t *in_b, int32_t y0, int32_t x0, int8_t *field,
                             int32_t *col) {
  const td_window *win = &p->window;
  const int32_t c = p->filter_c, taps = win->filter_w * c, groups = taps >> 2;
  const int32_t whole = win->dilation_w == 1 && x0 >= 0 && x0 + win->filter_w <= p->input.w;
  const int8_t pad = (int8_t)-p->input_offset;
  const int32_t pad2 = (int32_t)(((uint32_t)(uint16_t)pad) * 0x10001u); /* (pad, pad) halfwords */
  int32_t fy, g;
  for (fy = 0; fy < win->filter_h; ++fy, col += 4 * groups) {
    const int32_t y = y0 + fy * win->dilation_h;
    const int8_t *row = in_b + y * p->input.w * c;
    if (y < 0 || y >= p->input.h) {
      for (g = 0; g < groups; ++g) col[4 * g] = col[4 * g + 1] = pad2;
    } else if (whole) {
      td_arm_widen(row + x0 * c, taps, col);
    } else {
      td_arm_conv_border_row(p, row, x0, pad, field);
      td_arm_widen(field, taps, col);
    }
  }
}

/* Output pixel `pix`'s field widened into `col` (two words per four values, every fourth word pair). */
static void td_arm_conv_field(const td_conv_params *p, const int8_t *in_b, int32_t pix, int8_t *field,
                              int32_t *col) {
  const int32_t k = td_arm_conv_k(p);
  const int32_t oy = pix / p->output.w, ox = pix - oy * p->output.w;
  const int32_t y0 = oy * p->window.stride_h - p->window.pad_h, x0 = ox * p->window.stride_w - p->window.pad_w;
  if (field == 0) { /* direct */
    td_arm_widen(in_b + (y0 * p->input.w + x0) * p->input.c, k, col);
  } else if (((p->window.filter_w * p->filter_c) & 3) == 0) {
    td_arm_conv_rows(p, in_b, y0, x0, field, col);
  } else if (x0 >= 0 && y0 >= 0 && x0 + (p->window.filter_w - 1) * p->window.dilation_w < p->input.w &&
             y0 + (p->window.filter_h - 1) * p->window.dilation_h < p->input.h && p->window.dilation_w == 1) {
    /* the whole window inside (most pixels): its rows copied a word at a time, no border checks */
    const int32_t taps = p->window.filter_w * p->filter_c, step = p->window.dilation_h * p->input.w * p->filter_c;
    const int8_t *src = in_b + (y0 * p->input.w + x0) * p->filter_c;
    int8_t *dst = field;
    int32_t fy;
    for (fy = 0; fy < p->window.filter_h; ++fy, src += step, dst += taps) td_arm_copy(dst, src, taps);
    td_arm_widen(field, k, col);
  } else {
    td_arm_conv_gather(p, in_b, y0, x0, (int8_t)-p->input_offset, field);
    td_arm_widen(field, k, col);
  }
}

/*
 * One accumulator to its output minus the activation's low bound, clamped to [0, 255], on the fast
 * path (td_arm_conv_fast: shift < 0, |acc| < 2^29): td_mul_by_quantized_mult_dr in five instructions.
 * The rounding doubling high product is SMMULR(2 acc, m); the rounding right shift by r = -shift (ties
 * away from zero) is floor((v - [v < 0] + 2^(r-1)) / 2^r) = (((v - [v < 0]) >> (r - 1)) + 1) >> 1; the
 * output offset and the low bound ride along in c2 = 1 + 2 * (output_offset - lo); rm1 = r - 1 = ~shift.
 */
static inline int32_t td_arm_conv_q(int32_t acc, int32_t multiplier, int32_t rm1, int32_t c2) {
  int32_t v;
  __asm__("smmulr %0, %1, %2\n\t"
          "add %0, %0, %0, asr #31\n\t"
          "asr %0, %0, %3\n\t"
          "add %0, %0, %4\n\t"
          "usat %0, #8, %0, asr #1"
          : "=&r"(v)
          : "r"(acc * 2), "r"(multiplier), "r"(rm1), "r"(c2));
  return v;
}

/* The output byte: the clamped value plus the low bound, at most the high bound (span = hi - lo). */
static inline int8_t td_arm_conv_byte(int32_t q, int32_t span, int32_t lo) {
  return (int8_t)((q > span ? span : q) + lo);
}

/* Any layer: the reference requantization, epilogue included. */
static int8_t td_arm_conv_out_ref(const td_conv_params *p, int32_t acc, int32_t oc) {
  const int32_t ch = td_requant_channel(&p->requant, oc);
  return (int8_t)td_clamp(td_mul_by_quantized_mult_dr(acc, p->requant.multiplier[ch], p->requant.shift[ch]) +
                              p->output_offset, p->activation.min, p->activation.max);
}

/*
 * Whether td_arm_conv_out may be used for this layer: every shift is negative (a rescale below 1/2:
 * the usual case) and |accumulator| <= K * 128 * 128 + max |bias| stays below 2^29 (the accumulator is
 * then exact in int32 and 2 acc fits).
 */
static int td_arm_conv_fast(const td_conv_params *p, const TD_WEIGHTS_MEM int32_t *bias) {
  const int32_t n = p->requant.per_channel ? p->output.c : 1;
  int64_t bound = 0;
  int32_t i;
  for (i = 0; i < p->output.c; ++i) {
    const int64_t b = bias[i] < 0 ? -(int64_t)bias[i] : (int64_t)bias[i];
    if (b > bound) bound = b;
  }
  for (i = 0; i < n; ++i) {
    if (p->requant.shift[i] >= 0) return 0;
  }
  return bound + (int64_t)td_arm_conv_k(p) * 16384 < ((int64_t)1 << 29);
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
 * The per-channel requantization loop: two accumulators (one channel, two pixels) per step, each in
 * td_arm_conv_q's instructions. With the full int8 range (no activation clamp, or a ReLU whose low
 * bound is -128) SSAT does the clamp; otherwise USAT to [0, 255] above the low bound, then the span.
 */
#define TD_ARM_RQ_HEAD                                                                             \
  "1:\n\t"                                                                                         \
  "ldrd %[v0], %[v1], [%[acc]], #8\n\t"                                                            \
  "ldr %[m], [%[mult]], #4\n\t"                                                                    \
  "ldr %[r], [%[shift]], #4\n\t"                                                                   \
  "lsl %[v0], %[v0], #1\n\t"                                                                       \
  "lsl %[v1], %[v1], #1\n\t"                                                                       \
  "mvn %[r], %[r]\n\t"                                                                             \
  "smmulr %[v0], %[v0], %[m]\n\t"                                                                  \
  "smmulr %[v1], %[v1], %[m]\n\t"                                                                  \
  "add %[v0], %[v0], %[v0], asr #31\n\t"                                                           \
  "add %[v1], %[v1], %[v1], asr #31\n\t"                                                           \
  "asr %[v0], %[v0], %[r]\n\t"                                                                     \
  "asr %[v1], %[v1], %[r]\n\t"                                                                     \
  "add %[v0], %[v0], %[c2]\n\t"                                                                    \
  "add %[v1], %[v1], %[c2]\n\t"
#define TD_ARM_RQ_TAIL                                                                             \
  "strb %[v0], [%[o0]], #1\n\t"                                                                    \
  "strb %[v1], [%[o1]], #1\n\t"                                                                    \
  "cmp %[o0], %[end]\n\t"                                                                          \
  "bne 1b"
#define TD_ARM_RQ_OPERANDS                                                                         \
  : [v0] "=&r"(v0), [v1] "=&r"(v1), [m] "=&r"(m), [r] "=&r"(r), [acc] "+r"(acc), [mult] "+r"(mult), \
    [shift] "+r"(shift), [o0] "+r"(o0), [o1] "+r"(o1)                                              \
  : [c2] "r"(c2), [span] "r"(span), [lo] "r"(lo), [end] "r"(end)                                   \
  : "cc", "memory"

static void td_arm_conv_requant_pc(const td_conv_params *p, const int32_t *acc, int8_t *o0, int8_t *o1) {
  const int32_t lo = p->activation.min, span = p->activation.max - lo;
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier, *shift = p->requant.shift;
  int8_t *const end = o0 + p->output.c;
  int32_t v0, v1, m, r;
  if (lo == -128 && span == 255) {
    const int32_t c2 = 1 + 2 * p->output_offset;
    __asm__ volatile(TD_ARM_RQ_HEAD
                     "ssat %[v0], #8, %[v0], asr #1\n\t"
                     "ssat %[v1], #8, %[v1], asr #1\n\t" TD_ARM_RQ_TAIL TD_ARM_RQ_OPERANDS);
  } else {
    const int32_t c2 = 1 + 2 * (p->output_offset - lo);
    __asm__ volatile(TD_ARM_RQ_HEAD
                     "usat %[v0], #8, %[v0], asr #1\n\t"
                     "usat %[v1], #8, %[v1], asr #1\n\t"
                     "cmp %[v0], %[span]\n\t"
                     "it gt\n\t"
                     "movgt %[v0], %[span]\n\t"
                     "cmp %[v1], %[span]\n\t"
                     "it gt\n\t"
                     "movgt %[v1], %[span]\n\t"
                     "add %[v0], %[v0], %[lo]\n\t"
                     "add %[v1], %[v1], %[lo]\n\t" TD_ARM_RQ_TAIL TD_ARM_RQ_OPERANDS);
  }
}

/* The operands of TD_ARM_GROUP_ASM: four accumulators, the weight and field pointers, six temporaries. */
#define TD_ARM_GROUP_OPERANDS                                                                      \
  : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x),     \
    [wa] "=&r"(wa), [wb] "=&r"(wb), [wal] "=&r"(wal), [wbl] "=&r"(wbl), [xa] "=&r"(xa), [xb] "=&r"(xb) \
  : [end] "r"(end)                                                                                 \
  : "cc", "memory"

/*
 * Two pixels' widened fields, interleaved group by group in `cols` (pixel 0's two words, then pixel
 * 1's), times every filter, through `acc` (2 * output.c words) (o1 = o0 for a lone pixel whose field fills both slots).
 */
static void td_arm_conv_2px(const td_conv_params *p, const int32_t *cols, const TD_WEIGHTS_MEM int32_t *w,
                            const TD_WEIGHTS_MEM int32_t *bias, int fast, int32_t *acc, int8_t *o0, int8_t *o1) {
  const int32_t groups = (td_arm_conv_k(p) + 3) >> 2, channels = p->output.c;
  const int32_t *const end = cols + 4 * groups;
  int32_t oc;
  for (oc = 0; oc + 2 <= channels; oc += 2) { /* accumulators of both pixels, channel by channel */
    int32_t a00 = bias[oc], a01 = a00, a10 = bias[oc + 1], a11 = a10;
    const int32_t *x = cols;
    int32_t wa, wb, wal, wbl, xa, xb;
    if (groups & 1) __asm__(TD_ARM_GROUP_ASM TD_ARM_GROUP_OPERANDS);
    if (x != end) __asm__("1:\n\t" TD_ARM_GROUP_ASM TD_ARM_GROUP_ASM "cmp %[x], %[end]\n\tbne 1b" TD_ARM_GROUP_OPERANDS);
    acc[2 * oc] = a00;
    acc[2 * oc + 1] = a01;
    acc[2 * oc + 2] = a10;
    acc[2 * oc + 3] = a11;
  }
  if (oc < channels) { /* the last odd filter: plain words */
    int32_t a0 = bias[oc], a1 = a0;
    const int32_t *x = cols;
    do {
      const int32_t lo16 = __sxtb16(w[0]), hi16 = td_arm_sxtb16_ror8((uint32_t)w[0]);
      a0 = __smlad(hi16, x[1], __smlad(lo16, x[0], a0));
      a1 = __smlad(hi16, x[3], __smlad(lo16, x[2], a1));
      ++w;
      x += 4;
    } while (x != end);
    acc[2 * oc] = a0;
    acc[2 * oc + 1] = a1;
  }
  if (fast && p->requant.per_channel) { /* then the outputs, channel by channel, in asm */
    td_arm_conv_requant_pc(p, acc, o0, o1);
  } else if (fast) { /* one multiplier and shift for all channels */
    const int32_t lo = p->activation.min, span = p->activation.max - lo, c2 = 1 + 2 * (p->output_offset - lo);
    const int32_t m = p->requant.multiplier[0], rm1 = ~p->requant.shift[0];
    for (oc = 0; oc < channels; ++oc, acc += 2) {
      o0[oc] = td_arm_conv_byte(td_arm_conv_q(acc[0], m, rm1, c2), span, lo);
      o1[oc] = td_arm_conv_byte(td_arm_conv_q(acc[1], m, rm1, c2), span, lo);
    }
  } else {
    for (oc = 0; oc < channels; ++oc, acc += 2) {
      o0[oc] = td_arm_conv_out_ref(p, acc[0], oc);
      o1[oc] = td_arm_conv_out_ref(p, acc[1], oc);
    }
  }
}

void td_conv_s8_arm_dsp(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int32_t *weights,
                        const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch) {
  const int32_t kp = (td_arm_conv_k(p) + 3) & ~(int32_t)3;
  const int32_t pixels = p->output.h * p->output.w, out_c = p->output.c;
  int32_t *col0 = (int32_t *)td_arm_word_align(scratch), *col1 = col0 + 2; /* interleaved fields: kp words */
  int32_t *acc = col0 + kp;
  int8_t *field = td_arm_conv_direct(p) ? 0 : (int8_t *)(acc + 2 * out_c);
  const int fast = td_arm_conv_fast(p, bias);
  int32_t b, pix;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * p->input.w * p->input.c;
    int8_t *out_b = output + b * pixels * out_c;
    for (pix = 0; pix + 2 <= pixels; pix += 2) {
      td_arm_conv_field(p, in_b, pix, field, col0);
      td_arm_conv_field(p, in_b, pix + 1, field, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, out_b + pix * out_c, out_b + (pix + 1) * out_c);
    }
    if (pix < pixels) { /* a lone last pixel: computed twice, written twice */
      td_arm_conv_field(p, in_b, pix, field, col0);
      td_arm_conv_field(p, in_b, pix, field, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, out_b + pix * out_c, out_b + pix * out_c);
    }
  }
}

/*
 * 1x1 stride-1 convolution written over its input (TinyEngine-style, td_conv_1x1_s8_inplace's twin):
 * two pixels are widened into the scratch before their outputs are written. With output.c <= input.c
 * the pixels go forward, otherwise backward: either way an output only covers input pixels already read.
 */
int32_t td_conv_1x1_s8_arm_dsp_inplace_scratch_size(const td_conv_params *p) {
  return 4 * ((p->filter_c + 3) & ~(int32_t)3) + 8 * p->output.c + 3; /* + word alignment */
}

void td_conv_1x1_s8_arm_dsp_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int32_t *weights,
                                    const TD_WEIGHTS_MEM int32_t *bias, void *scratch) {
  const int32_t cin = p->input.c, cout = p->output.c, kp = (cin + 3) & ~(int32_t)3;
  const int fast = td_arm_conv_fast(p, bias);
  const int32_t pixels = p->input.n * p->input.h * p->input.w, odd = pixels & 1;
  int32_t *col0 = (int32_t *)td_arm_word_align(scratch), *col1 = col0 + 2; /* interleaved fields: kp words */
  int32_t *acc = col0 + kp;
  int32_t i;
  if (cout <= cin) {
    for (i = 0; i + 2 <= pixels; i += 2) {
      td_arm_widen(buf + i * cin, cin, col0);
      td_arm_widen(buf + (i + 1) * cin, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, buf + i * cout, buf + (i + 1) * cout);
    }
    if (odd) {
      td_arm_widen(buf + i * cin, cin, col0);
      td_arm_widen(buf + i * cin, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, buf + i * cout, buf + i * cout);
    }
  } else {
    for (i = pixels - 1; i >= odd + 1; i -= 2) { /* pixels i - 1 and i */
      td_arm_widen(buf + (i - 1) * cin, cin, col0);
      td_arm_widen(buf + i * cin, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, buf + (i - 1) * cout, buf + i * cout);
    }
    if (odd) {
      td_arm_widen(buf, cin, col0);
      td_arm_widen(buf, cin, col1);
      td_arm_conv_2px(p, col0, weights, bias, fast, acc, buf, buf);
    }
  }
}

#else
typedef int td_arm_conv_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
