/*
 * CONV_2D int8 for Cortex-M cores with Helium (MVE): the arm-mve variant of td_conv_s8 (groups 1),
 * bit-exact with it (the same two-step requantization).
 *
 * Every output pixel is a dot product of its receptive field (K = filter_h * filter_w * filter_c int8,
 * OHWI order) with each filter. Three pixels at a time, the fields are gathered into the scratch (im2col,
 * padded with the input zero point; a 1x1 unpadded convolution reads the input pixels in place), then
 * td_mve_conv_3px (td_mve_conv_tile.c) runs them against the filters two at a time, one VMLADAVA per
 * 16 MACs: each weight vector is loaded once per three pixels, each field vector once per two filters.
 * The biases (in the weight stream) have the input offset folded in, so the padding (input zero point) adds
 * exactly nothing.
 */
#include "td_mve_conv.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>

#include "td_kernel.h"
#include "td_mve_conv_tile.h"

static inline int32_t td_mve_conv_k(const td_conv_params *p) {
  return p->window.filter_h * p->window.filter_w * p->filter_c;
}

/* 1x1 without padding: an output pixel's field is its input pixel, read in place. */
static inline int td_mve_conv_direct(const td_conv_params *p) {
  const td_window *w = &p->window;
  return w->filter_h == 1 && w->filter_w == 1 && w->pad_h == 0 && w->pad_w == 0;
}

int32_t td_conv_s8_mve_scratch_size(const td_conv_params *p) {
  return td_mve_acc_bytes(p->output.c) + (td_mve_conv_direct(p) ? 0 : 3 * td_mve_conv_k(p)) + 15; /* + alignment */
}

/* n > 0 bytes from src, 16 at a time in a tail-predicated loop (the last vector partial). */
static inline void td_mve_copy(int8_t *dst, const int8_t *src, int32_t n) {
  __asm__ volatile("dlstp.8 lr, %[n]\n"
          "1:\n\t"
          "vldrb.8 q0, [%[src]], #16\n\t"
          "vstrb.8 q0, [%[dst]], #16\n\t"
          "letp lr, 1b"
          : [dst] "+r"(dst), [src] "+r"(src)
          : [n] "r"(n)
          : "q0", "lr", "memory");
}

/* n > 0 bytes of value. */
static inline void td_mve_fill(int8_t *dst, int8x16_t value, int32_t n) {
  __asm__ volatile("dlstp.8 lr, %[n]\n"
          "1:\n\t"
          "vstrb.8 %q[v], [%[dst]], #16\n\t"
          "letp lr, 1b"
          : [dst] "+r"(dst)
          : [n] "r"(n), [v] "w"(value)
          : "lr", "memory");
}

/* `rows` rows of n > 0 bytes: from src (a row every `step` bytes) to dst (packed). */
static inline void td_mve_copy_rows(int8_t *dst, const int8_t *src, int32_t n, int32_t step, int32_t rows) {
  const int32_t over = (n + 15) & ~(int32_t)15; /* what the loop's post-increments add per row */
  __asm__ volatile("2:\n\t"
                   "dlstp.8 lr, %[n]\n"
                   "1:\n\t"
                   "vldrb.8 q0, [%[src]], #16\n\t"
                   "vstrb.8 q0, [%[dst]], #16\n\t"
                   "letp lr, 1b\n\t"
                   "add %[src], %[src], %[ds]\n\t"
                   "add %[dst], %[dst], %[dd]\n\t"
                   "subs %[rows], %[rows], #1\n\t"
                   "bne 2b"
                   : [dst] "+r"(dst), [src] "+r"(src), [rows] "+r"(rows)
                   : [n] "r"(n), [ds] "r"(step - over), [dd] "r"(n - over)
                   : "q0", "lr", "cc", "memory");
}

/*
 * The field of the output pixel whose window starts at (y0, x0): taps outside the input are `pad`. A
 * window wholly inside is copied row by row in one loop; otherwise each window row is padding, or (without
 * column dilation) padding, one span of input and padding, or (dilated) tap by tap.
 */
static void td_mve_conv_gather(const td_conv_params *p, const int8_t *in_b, int32_t y0, int32_t x0, int8x16_t pad,
                               int8_t *field) {
  const td_window *win = &p->window;
  const int32_t c = p->filter_c, taps = win->filter_w * c, row = p->input.w * c;
  const td_taps ty = td_window_taps(y0, win->dilation_h, win->filter_h, p->input.h);
  const td_taps tx = td_window_taps(x0, win->dilation_w, win->filter_w, p->input.w);
  int32_t fy, fx;
  if (win->dilation_w == 1 && tx.start == 0 && tx.end == win->filter_w && ty.start == 0 && ty.end == win->filter_h) {
    td_mve_copy_rows(field, in_b + y0 * row + x0 * c, taps, win->dilation_h * row, win->filter_h);
    return;
  }
  for (fy = 0; fy < win->filter_h; ++fy, field += taps) {
    const int8_t *in = in_b + (y0 + fy * win->dilation_h) * row + x0 * c;
    if (fy < ty.start || fy >= ty.end) {
      td_mve_fill(field, pad, taps);
    } else if (win->dilation_w == 1) {
      if (tx.start > 0) td_mve_fill(field, pad, tx.start * c);
      if (tx.end > tx.start) td_mve_copy(field + tx.start * c, in + tx.start * c, (tx.end - tx.start) * c);
      if (tx.end < win->filter_w) td_mve_fill(field + tx.end * c, pad, (win->filter_w - tx.end) * c);
    } else {
      for (fx = 0; fx < win->filter_w; ++fx) {
        const int8_t *src = in + fx * win->dilation_w * c;
        if (fx < tx.start || fx >= tx.end) td_mve_fill(field + fx * c, pad, c);
        else td_mve_copy(field + fx * c, src, c);
      }
    }
  }
}

/* Output pixel `pix`'s field: in place (direct) or gathered into `field`. */
static const int8_t *td_mve_conv_field(const td_conv_params *p, const int8_t *in_b, int32_t pix, int8_t *field) {
  const int32_t oy = pix / p->output.w, ox = pix - oy * p->output.w;
  const int32_t y0 = oy * p->window.stride_h - p->window.pad_h, x0 = ox * p->window.stride_w - p->window.pad_w;
  if (field == 0) return in_b + (y0 * p->input.w + x0) * p->input.c;
  td_mve_conv_gather(p, in_b, y0, x0, vdupq_n_s8((int8_t)-p->input_offset), field);
  return field;
}

void td_conv_s8_mve(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                    int8_t *output, void *scratch) {
  const int32_t k = td_mve_conv_k(p), pixels = p->output.h * p->output.w, out_c = p->output.c;
  const int left = td_mve_conv_left_shifts(p);
  int32_t *acc = (int32_t *)td_mve_align16(scratch);
  int8_t *f = td_mve_conv_direct(p) ? 0 : (int8_t *)acc + td_mve_acc_bytes(out_c);
  int32_t b, pix;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * p->input.w * p->input.c;
    int8_t *out_b = output + b * pixels * out_c;
    for (pix = 0; pix < pixels; pix += 3) { /* the last one or two pixels repeat in the unused slots */
      const int32_t n1 = pix + 1 < pixels, n2 = pix + 2 < pixels;
      const int8_t *x0 = td_mve_conv_field(p, in_b, pix, f);
      const int8_t *x1 = n1 ? td_mve_conv_field(p, in_b, pix + 1, f ? f + k : 0) : x0;
      const int8_t *x2 = n2 ? td_mve_conv_field(p, in_b, pix + 2, f ? f + 2 * k : 0) : x1;
      int8_t *o0 = out_b + pix * out_c, *o1 = n1 ? o0 + out_c : o0, *o2 = n2 ? o1 + out_c : o1;
      td_mve_conv_3px(p, k, left, x0, x1, x2, weights, acc, o0, o1, o2);
    }
  }
}

/*
 * 1x1 stride-1 convolution written over its input (td_conv_1x1_s8_inplace's twin): three pixels are
 * copied to the scratch before their outputs are written. With output.c <= input.c the pixels go
 * forward, otherwise backward: either way an output only covers input pixels already read.
 */
int32_t td_conv_1x1_s8_mve_inplace_scratch_size(const td_conv_params *p) {
  return td_mve_acc_bytes(p->output.c) + 3 * p->filter_c + 15; /* + 16-byte alignment */
}

/* Pixels first .. first + n - 1 (n = 1..3) of buf: copied to f, then their outputs written over buf. */
static void td_mve_conv_inplace_run(const td_conv_params *p, int left, int8_t *buf, int32_t first, int32_t n,
                                    const TD_WEIGHTS_MEM int8_t *weights, int32_t *acc, int8_t *f) {
  const int32_t cin = p->input.c, cout = p->output.c;
  int8_t *o0 = buf + first * cout, *o1 = n > 1 ? o0 + cout : o0, *o2 = n > 2 ? o1 + cout : o1;
  const int8_t *x1 = n > 1 ? f + cin : f, *x2 = n > 2 ? f + 2 * cin : x1;
  td_mve_copy(f, buf + first * cin, n * cin);
  td_mve_conv_3px(p, cin, left, f, x1, x2, weights, acc, o0, o1, o2);
}

void td_conv_1x1_s8_mve_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *weights,
                                void *scratch) {
  const int32_t pixels = p->input.n * p->input.h * p->input.w, rest = pixels % 3;
  const int left = td_mve_conv_left_shifts(p);
  int32_t *acc = (int32_t *)td_mve_align16(scratch);
  int8_t *f = (int8_t *)acc + td_mve_acc_bytes(p->output.c);
  int32_t i;
  if (p->output.c <= p->input.c) {
    for (i = 0; i < pixels; i += 3) {
      td_mve_conv_inplace_run(p, left, buf, i, pixels - i < 3 ? pixels - i : 3, weights, acc, f);
    }
  } else {
    for (i = pixels - 3; i >= rest; i -= 3) td_mve_conv_inplace_run(p, left, buf, i, 3, weights, acc, f);
    if (rest) td_mve_conv_inplace_run(p, left, buf, 0, rest, weights, acc, f);
  }
}

#else
typedef int td_mve_conv_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
