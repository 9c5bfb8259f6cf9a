/*
 * DEPTHWISE_CONV_2D int8, depth multiplier 1, for Arm cores with the DSP extension (Cortex-M4/M7/M33/M55):
 * the arm-dsp variant of td_depthwise_conv_s8, bit-exact with it (two-step requantization).
 *
 * Constants prepared at conversion time (ops/_arm_depthwise.py, layouts in td_depthwise_conv.h): the
 * weights channel quad by channel quad with each quad's taps in pairs (same byte count), and a table
 * per quad: biases with input_offset * sum(w) folded in, and the requantization constants.
 *
 * One step = four channels of one output pixel. Two taps' input words X, Y (four channels each)
 * become [x0 x1 y0 y1] and [x2 x3 y2 y3] (PKHBT/PKHTB); SXTB16 turns those into each channel's
 * pair of taps, and SMLAD multiplies it with that channel's weight pair, widened into the scratch once
 * per call (or once per output row and chunk of 64 channels when there are more).
 * An odd last tap uses SMLABB/SMLATT.
 *
 * Padding: the folded bias assumes every tap reads real input. A tap outside the input reads the
 * input zero point instead (x + input_offset = 0 adds nothing, as TFLite skips the tap): a border
 * pixel points such taps at a row of zero-point bytes in the scratch.
 *
 * Loop order batch -> output row -> chunk -> output column: an output row is written before any
 * later row is read, so the row-streaming overlap of the planner holds as for td_depthwise_conv_s8.
 * The in-place twin (td_arm_depthwise_inplace.c) runs the same code on padded channel-group planes.
 */
#include "td_depthwise_conv.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_depthwise.h"
#include "td_arm_simd.h"
#include "td_kernel.h"

/* [a.b0 a.b1 b.b0 b.b1] and [a.b2 a.b3 b.b2 b.b3]: the low and high channel pairs of two taps. */
/* (GCC turns both into one PKHBT / PKHTB.) */
static inline uint32_t td_arm_dw_pkhbt(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t td_arm_dw_pkhtb(uint32_t a, uint32_t b) { return (b & 0xFFFF0000u) | (a >> 16); }

/*
 * td_mul_by_quantized_mult_dr (+ the output offset) of x = a2 / 2 for a multiplier m in [2^30, 2^31)
 * or 0 and a shift -e (e in 1..31), given a2 = 2x (the fast table doubles biases and weights): the
 * doubling high multiply floor((x m + 2^30) / 2^31) is SMMLAR of a2 (its rounding adds 2^31 to 2x m),
 * accumulated onto k = 2^(e-1) + output_offset * 2^e; the rounding shift subtracts one for a negative
 * high product, which with such m is negative exactly when x is (x = -1, m = 2^30 rounds the same).
 */
static inline int32_t td_arm_dw_requant(int32_t a2, int32_t m, int32_t k, int32_t e) {
  return (td_arm_smmlar(a2, m, k) + (a2 >> 31)) >> e;
}

/* Channel `lane` of quad table q: the fast requantization with the output offset, saturated to int8. */
static inline int32_t td_arm_dw_fast1(const TD_WEIGHTS_MEM int32_t *q, int32_t lane, int32_t a2) {
  return td_arm_ssat8(td_arm_dw_requant(a2, q[4 + 2 * lane], q[5 + 2 * lane], q[12 + lane]));
}

/* Four accumulators of quad table q -> four int8 in a word, clamped to the activation when `clamp`. */
static inline __attribute__((always_inline)) uint32_t td_arm_dw_out4(const td_arm_dw_layer *l,
                                                                  const TD_WEIGHTS_MEM int32_t *q, int32_t a0,
                                                                  int32_t a1, int32_t a2, int32_t a3, int clamp) {
  const uint32_t v = td_arm_pack4(td_arm_dw_fast1(q, 0, a0), td_arm_dw_fast1(q, 1, a1), td_arm_dw_fast1(q, 2, a2),
                                  td_arm_dw_fast1(q, 3, a3));
  return clamp ? td_arm_min4(td_arm_max4(v, l->lo4), l->hi4) : v;
}

/* Channel `lane` of quad table q (any table): the reference epilogue. */
static inline int8_t td_arm_dw_out1(const td_arm_dw_layer *l, const TD_WEIGHTS_MEM int32_t *q, int32_t lane,
                                    int32_t acc, int fast) {
  const td_dw_conv_params *p = l->p;
  const int32_t r = fast ? td_arm_dw_fast1(q, lane, acc)
                         : td_arm_requant_dr(acc, q[4 + 2 * lane], q[5 + 2 * lane]) + p->output_offset;
  return (int8_t)td_clamp(r, p->activation.min, p->activation.max);
}

/* acc[0..3] += one tap pair of four channels: offsets t[0], t[1] from b (t advances by 2), the widened
 * weight pairs at w (advances by 4 words). Two loads and two packs of the input, 4 SXTB16 + 4 SMLAD. */
#define TD_ARM_DW_PAIR(A_, B_, T_, W_)                                                                   \
  do {                                                                                               \
    uint32_t x_, y_, lo_, hi_, e_;                                                                   \
    __asm__("ldrd %[x], %[y], [%[t]], #8\n\t"                                                       \
            "ldr %[x], [%[b], %[x]]\n\t"                                                            \
            "ldr %[y], [%[b], %[y]]\n\t"                                                            \
            "pkhbt %[lo], %[x], %[y], lsl #16\n\t"                                                  \
            "pkhtb %[hi], %[y], %[x], asr #16\n\t"                                                  \
            "ldrd %[x], %[y], [%[w]], #8\n\t"                                                       \
            "sxtb16 %[e], %[lo]\n\t"                                                                \
            "smlad %[a0], %[e], %[x], %[a0]\n\t"                                                    \
            "sxtb16 %[e], %[lo], ror #8\n\t"                                                        \
            "smlad %[a1], %[e], %[y], %[a1]\n\t"                                                    \
            "ldrd %[x], %[y], [%[w]], #8\n\t"                                                       \
            "sxtb16 %[e], %[hi]\n\t"                                                                \
            "smlad %[a2], %[e], %[x], %[a2]\n\t"                                                    \
            "sxtb16 %[e], %[hi], ror #8\n\t"                                                        \
            "smlad %[a3], %[e], %[y], %[a3]"                                                        \
            : [a0] "+r"(A_[0]), [a1] "+r"(A_[1]), [a2] "+r"(A_[2]), [a3] "+r"(A_[3]), [t] "+r"(T_),          \
              [w] "+r"(W_), [x] "=&r"(x_), [y] "=&r"(y_), [lo] "=&r"(lo_), [hi] "=&r"(hi_), [e] "=&r"(e_) \
            : [b] "r"(B_)                                                                             \
            : "memory");                                                                             \
  } while (0)

/* acc[0..3] += one (odd last) tap: offset t[0], widened weights (c0, c2) and (c1, c3) at w. */
#define TD_ARM_DW_SINGLE(A_, B_, T_, W_)                                                                 \
  do {                                                                                               \
    uint32_t x_, w02_, w13_, e_;                                                                     \
    __asm__("ldr %[x], [%[t]]\n\t"                                                                  \
            "ldr %[x], [%[b], %[x]]\n\t"                                                            \
            "ldrd %[w02], %[w13], [%[w]], #8\n\t"                                                   \
            "sxtb16 %[e], %[x]\n\t"                                                                 \
            "smlabb %[a0], %[e], %[w02], %[a0]\n\t"                                                 \
            "smlatt %[a2], %[e], %[w02], %[a2]\n\t"                                                 \
            "sxtb16 %[e], %[x], ror #8\n\t"                                                         \
            "smlabb %[a1], %[e], %[w13], %[a1]\n\t"                                                 \
            "smlatt %[a3], %[e], %[w13], %[a3]"                                                     \
            : [a0] "+r"(A_[0]), [a1] "+r"(A_[1]), [a2] "+r"(A_[2]), [a3] "+r"(A_[3]), [w] "+r"(W_),          \
              [x] "=&r"(x_), [w02] "=&r"(w02_), [w13] "=&r"(w13_), [e] "=&r"(e_)                      \
            : [b] "r"(B_), [t] "r"(T_)                                                                 \
            : "memory");                                                                             \
  } while (0)

/*
 * The n (a multiple of 4) channels from c0 of `count` output pixels along a row: tap t of channel c of
 * pixel i reads b[i * l->bstep + o[t] + c - c0], its output goes to out[i * l->ostep + c - c0]. Quad by
 * quad, pixel by pixel (a quad's weights and table stay put along the row).
 * fast: the table is the fast one (td_arm_dw_requant); taps: the layer's (a constant where `unroll`).
 */
static inline __attribute__((always_inline)) void td_arm_dw_pixel(const td_arm_dw_layer *l, const int8_t *b,
                                                               const int32_t *o, int32_t c0, int32_t n,
                                                               int8_t *out, int32_t count, int fast, int32_t taps,
                                                               int unroll) {
  const int32_t pairs = taps >> 1, bstep = l->bstep, ostep = l->ostep;
  const int clamp = l->clamp;
  const int32_t *w0 = l->wide;
  const TD_WEIGHTS_MEM int32_t *q = l->table + 4 * c0;
  const int8_t *const bend = b + n;
  for (; b < bend; b += 4, out += 4, q += 16, w0 += 2 * taps) {
    const int8_t *bi = b;
    int8_t *oi = out, *const oend = out + count * ostep;
    for (; oi != oend; bi += bstep, oi += ostep) {
      int32_t a[4];
      const int32_t *t = o, *wv = w0;
      int32_t k;
      a[0] = q[0];
      a[1] = q[1];
      a[2] = q[2];
      a[3] = q[3];
      if (unroll) {
#pragma GCC unroll 16
        for (k = 0; k < pairs; ++k) TD_ARM_DW_PAIR(a, bi, t, wv);
      } else {
        for (k = 0; k < pairs; ++k) TD_ARM_DW_PAIR(a, bi, t, wv);
      }
      if (taps & 1) TD_ARM_DW_SINGLE(a, bi, t, wv);
      if (fast) {
        const uint32_t v = td_arm_dw_out4(l, q, a[0], a[1], a[2], a[3], clamp);
        memcpy(oi, &v, 4);
      } else {
        oi[0] = td_arm_dw_out1(l, q, 0, a[0], 0);
        oi[1] = td_arm_dw_out1(l, q, 1, a[1], 0);
        oi[2] = td_arm_dw_out1(l, q, 2, a[2], 0);
        oi[3] = td_arm_dw_out1(l, q, 3, a[3], 0);
      }
    }
  }
}

/* The leftover channels (C % 4, the last quad's table entries): plain MACs over the arm-dsp weights,
 * doubled like the widened ones for the fast table. */
static void td_arm_dw_tail(const td_arm_dw_layer *l, const int8_t *b, const int32_t *o, const TD_WEIGHTS_MEM int8_t *w,
                           int32_t c, int32_t r, int8_t *out, int fast) {
  const TD_WEIGHTS_MEM int32_t *q = l->table + 4 * c;
  int32_t j, t;
  for (j = 0; j < r; ++j) {
    int32_t acc = 0;
    for (t = 0; t < l->taps; ++t) acc += w[t * r + j] * b[o[t] + j];
    out[j] = td_arm_dw_out1(l, q, j, (int32_t)((uint32_t)q[j] + (uint32_t)(fast ? 2 * acc : acc)), fast);
  }
}

/* The instantiations: fast table with 9, 25 or any taps, and the general one. */
#define TD_ARM_DW_PIXEL_FN(NAME, FAST, TAPS)                                                            \
  static void NAME(const void *lv, const int8_t *b, const int32_t *o, int32_t c0, int32_t n, int8_t *out, \
                   int32_t count) {                                                                    \
    const td_arm_dw_layer *l = (const td_arm_dw_layer *)lv;                                             \
    td_arm_dw_pixel(l, b, o, c0, n, out, count, FAST, (TAPS) ? (TAPS) : l->taps, (TAPS) != 0);       \
  }
TD_ARM_DW_PIXEL_FN(td_arm_dw_px_9, 1, 9)
TD_ARM_DW_PIXEL_FN(td_arm_dw_px_25, 1, 25)
TD_ARM_DW_PIXEL_FN(td_arm_dw_px_n, 1, 0)
TD_ARM_DW_PIXEL_FN(td_arm_dw_px_any, 0, 0)

static td_arm_dw_pixel_fn td_arm_dw_pick(int fast, int32_t taps) {
  if (!fast) return td_arm_dw_px_any;
  return taps == 9 ? td_arm_dw_px_9 : taps == 25 ? td_arm_dw_px_25 : td_arm_dw_px_n;
}

/* The quads of channels [c0, c0 + n) widened: per tap pair the four channels' (t, t + 1) halfword pairs,
 * per odd last tap (c0, c2) and (c1, c3). */
static inline int32_t td_arm_dw_x2(int32_t v, int twice) {
  return twice ? (int32_t)__sadd16((int16x2_t)v, (int16x2_t)v) : v;
}

static void td_arm_dw_widen(const TD_WEIGHTS_MEM int8_t *w, int32_t words, int32_t taps, int32_t *dst, int twice) {
  int32_t i;
  for (i = 0; i < words; i += 2 * taps) {
    int32_t k;
    for (k = 0; k + 2 <= taps; k += 2, w += 8, dst += 4) {
      const uint32_t a = td_arm_read4(w), c = td_arm_read4(w + 4);
      dst[0] = td_arm_dw_x2(__sxtb16((int32_t)a), twice);
      dst[1] = td_arm_dw_x2(td_arm_sxtb16_ror8(a), twice);
      dst[2] = td_arm_dw_x2(__sxtb16((int32_t)c), twice);
      dst[3] = td_arm_dw_x2(td_arm_sxtb16_ror8(c), twice);
    }
    if (taps & 1) {
      const uint32_t a = td_arm_read4(w);
      dst[0] = td_arm_dw_x2(__sxtb16((int32_t)a), twice);
      dst[1] = td_arm_dw_x2(td_arm_sxtb16_ror8(a), twice);
      w += 4;
      dst += 2;
    }
  }
}

int32_t td_depthwise_conv_s8_arm_dsp_scratch_size(const td_dw_conv_params *p) {
  return td_arm_dw_scratch(p->window.filter_h * p->window.filter_w, p->output.c);
}

/* Output pixel (oy, ox) whose window starts at input (y0, x0) and clips to taps ty x tx: the taps
 * outside read the zero-point row, so every offset is taken relative to that row. */
static __attribute__((noinline)) void td_arm_dw_border(const td_arm_dw_layer *l, const int8_t *in, int32_t at,
                                                       td_taps ty, td_taps tx, int32_t c0, int32_t n, int8_t *out) {
  const td_window *win = &l->p->window;
  const int8_t *z = (const int8_t *)l->zrow;
  const int32_t n4 = n & ~(int32_t)3;
  int32_t fy, fx, t = 0;
  for (fy = 0; fy < win->filter_h; ++fy)
    for (fx = 0; fx < win->filter_w; ++fx, ++t) {
      const int real = fy >= ty.start && fy < ty.end && fx >= tx.start && fx < tx.end;
      l->border[t] = real ? (int32_t)((intptr_t)(in + (at + l->off[t])) - (intptr_t)z) : 0;
    }
  l->pixel(l, z, l->border, c0, n4, out, 1);
  if (n4 < n) td_arm_dw_tail(l, z + n4, l->border, l->filter + (c0 + n4) * l->taps, c0 + n4, n - n4, out + n4, l->fast);
}

/* First output column whose window starts at or after `from` (ceil((from + pad) / stride), in [0, out]). */
static int32_t td_arm_dw_col(int32_t from, int32_t pad, int32_t stride, int32_t out) {
  const int32_t v = from + pad <= 0 ? 0 : (from + pad + stride - 1) / stride;
  return v < out ? v : out;
}

/* Output row oy (window rows from y0, clipped to ty) of the batch whose input starts at `in`. */
static __attribute__((noinline)) void td_arm_dw_row(const td_arm_dw_layer *l, const int8_t *in, int32_t y0, td_taps ty,
                                                    int8_t *out_row) {
  const td_window *win = &l->p->window;
  const int32_t taps = l->taps, channels = l->c, row = l->w * channels, ostep = l->ostep;
  const int whole_rows = ty.start == 0 && ty.end == win->filter_h;
  int32_t c0, ox;
  for (c0 = 0; c0 < channels; c0 += TD_ARM_DW_CHUNK) {
    const int32_t n = channels - c0 < TD_ARM_DW_CHUNK ? channels - c0 : TD_ARM_DW_CHUNK, n4 = n & ~(int32_t)3;
    if (channels > TD_ARM_DW_CHUNK) td_arm_dw_widen(l->filter + c0 * taps, 2 * taps * (n4 / 4), taps, l->wide, l->fast);
    for (ox = 0; ox < l->p->output.w; ++ox) {
      const int32_t x0 = ox * win->stride_w - l->pad_w;
      const int32_t at = y0 * row + x0 * channels + c0; /* outside the input at a border */
      if (whole_rows && ox == l->ox0 && l->ox1 > ox) { /* the interior run */
        const int32_t count = l->ox1 - ox;
        int32_t i;
        l->pixel(l, in + at, l->off, c0, n4, out_row + ox * ostep + c0, count);
        for (i = 0; n4 < n && i < count; ++i)
          td_arm_dw_tail(l, in + at + i * l->bstep + n4, l->off, l->filter + (c0 + n4) * taps, c0 + n4, n - n4,
                         out_row + (ox + i) * ostep + c0 + n4, l->fast);
        ox = l->ox1 - 1;
      } else {
        td_arm_dw_border(l, in, at, ty, td_window_taps(x0, win->dilation_w, win->filter_w, l->w), c0, n,
                         out_row + ox * ostep + c0);
      }
    }
  }
}

void td_arm_dw_run(td_arm_dw_layer *l, const TD_WEIGHTS_MEM int32_t *quads) {
  const td_dw_conv_params *p = l->p;
  const td_window *win = &p->window;
  const int32_t fh = win->filter_h, fw = win->filter_w, taps = fh * fw, channels = l->c;
  const int32_t chunk = channels < TD_ARM_DW_CHUNK ? channels : TD_ARM_DW_CHUNK;
  const int32_t last = l->w - 1 - (fw - 1) * win->dilation_w; /* largest interior window start */
  int32_t bn, oy, fy, fx;
  l->table = quads;
  l->off = (int32_t *)l + TD_ARM_DW_LAYER_WORDS;
  l->border = l->off + taps;
  l->wide = l->border + taps;
  l->zrow = (uint32_t *)(l->wide + 2 * taps * (chunk / 4));
  l->taps = taps;
  l->bstep = win->stride_w * channels;
  l->clamp = p->activation.min > -128 || p->activation.max < 127;
  l->lo4 = td_arm_splat4(p->activation.min);
  l->hi4 = td_arm_splat4(p->activation.max);
  l->pixel = td_arm_dw_pick(l->fast, taps);
  l->ox0 = td_arm_dw_col(0, l->pad_w, win->stride_w, p->output.w);
  l->ox1 = last < 0 ? l->ox0 : td_arm_dw_col(last + 1, l->pad_w, win->stride_w, p->output.w);
  for (fy = 0; fy < TD_ARM_DW_CHUNK / 4; ++fy) l->zrow[fy] = td_arm_splat4(-p->input_offset);
  for (fy = 0; fy < fh; ++fy)
    for (fx = 0; fx < fw; ++fx) l->off[fy * fw + fx] = (fy * win->dilation_h * l->w + fx * win->dilation_w) * channels;
  if (channels <= TD_ARM_DW_CHUNK) td_arm_dw_widen(l->filter, 2 * taps * (channels / 4), taps, l->wide, l->fast);
  if (l->whole && (channels & 3) == 0 && channels <= TD_ARM_DW_CHUNK) { /* in place: the padded plane */
    for (oy = 0; oy < p->output.h; ++oy)
      l->pixel(l, l->input + oy * win->stride_h * l->w * channels, l->off, 0, channels,
               l->output + oy * p->output.w * l->ostep, p->output.w);
    return;
  }
  for (bn = 0; bn < p->input.n; ++bn)
    for (oy = 0; oy < p->output.h; ++oy) {
      const int32_t y0 = oy * win->stride_h - l->pad_h;
      td_arm_dw_row(l, l->input + bn * l->h * l->w * channels, y0, td_window_taps(y0, win->dilation_h, fh, l->h),
                    l->output + (bn * p->output.h + oy) * p->output.w * l->ostep);
    }
}

void td_depthwise_conv_s8_arm_dsp(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                                  const TD_WEIGHTS_MEM int32_t *table, int8_t *output, void *scratch) {
  td_arm_dw_layer *l = (td_arm_dw_layer *)td_arm_word_align(scratch);
  l->p = p;
  l->input = input;
  l->output = output;
  l->filter = filter;
  l->ostep = p->output.c;
  l->h = p->input.h;
  l->w = p->input.w;
  l->c = p->input.c;
  l->pad_h = p->window.pad_h;
  l->pad_w = p->window.pad_w;
  l->fast = table[0] != 0;
  l->whole = 0;
  td_arm_dw_run(l, table + 4);
}

#else
typedef int td_arm_depthwise_conv_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
