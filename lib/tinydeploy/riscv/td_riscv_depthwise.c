/*
 * DEPTHWISE_CONV_2D int8, depth multiplier 1, for RV32IMC (kernels="riscv"), bit-exact with
 * td_depthwise_conv_s8. Channel by channel: the channel's input plane goes into the scratch inside a
 * border of the input zero point as wide as the window reaches (so the bias with the input offset folded
 * in is exact at borders and the taps need no bounds checks); each output is then its taps' dot product
 * over that plane, a 3x3 window unrolled with its nine weights in registers. The output is written with
 * the channel stride, so the input may be the output (the in-place twin).
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

/* Rows and columns of the padded plane: what the window reaches. */
static inline int32_t td_rv_dw_rows(const td_dw_conv_params *p) {
  return (p->output.h - 1) * p->window.stride_h + (p->window.filter_h - 1) * p->window.dilation_h + 1;
}

static inline int32_t td_rv_dw_cols(const td_dw_conv_params *p) {
  return (p->output.w - 1) * p->window.stride_w + (p->window.filter_w - 1) * p->window.dilation_w + 1;
}

int32_t td_depthwise_conv_s8_riscv_scratch_size(const td_dw_conv_params *p) {
  return 4 * p->output.w + 3 + td_rv_dw_rows(p) * td_rv_dw_cols(p); /* a row of sums (word-aligned), the plane */
}

/* Channel plane from src (stride c) into plane (rows x cols) with the zero-point border. */
static void td_rv_dw_plane(const td_dw_conv_params *p, const int8_t *src, int8_t *plane, int32_t rows,
                           int32_t cols) {
  const int32_t c = p->input.c, top = p->window.pad_h, left = p->window.pad_w;
  const int8_t pad = (int8_t)(-p->input_offset);
  int32_t inner = p->input.w < cols - left ? p->input.w : cols - left; /* input columns read */
  int32_t r, x;
  if (inner < 0) inner = 0;
  for (r = 0; r < rows; ++r, plane += cols) {
    const int32_t y = r - top;
    if (y < 0 || y >= p->input.h) {
      for (x = 0; x < cols; ++x) plane[x] = pad;
    } else {
      const int8_t *s = src + y * p->input.w * c;
      for (x = 0; x < left; ++x) plane[x] = pad;
      for (x = 0; x < inner; ++x, s += c) plane[left + x] = *s;
      for (x = left + inner; x < cols; ++x) plane[x] = pad;
    }
  }
}

/* The dot products of one output row (ow of them, into acc) over the padded plane rows from `at`. */
static TD_RV_NOINLINE void td_rv_dw_row(const td_dw_conv_params *p, const int8_t *at, int32_t cols,
                                        const TD_WEIGHTS_MEM int8_t *w, int32_t *acc) {
  const td_window *win = &p->window;
  const int32_t sw = win->stride_w;
  int32_t *end = acc + p->output.w;
  if (win->filter_h == 3 && win->filter_w == 3 && win->dilation_h == 1 && win->dilation_w == 1) {
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
                  w8 = w[8];
    const int8_t *r1 = at + cols, *r2 = r1 + cols;
    for (; acc != end; ++acc, at += sw, r1 += sw, r2 += sw) {
      *acc = at[0] * w0 + at[1] * w1 + at[2] * w2 + r1[0] * w3 + r1[1] * w4 + r1[2] * w5 + r2[0] * w6 +
             r2[1] * w7 + r2[2] * w8;
    }
    return;
  }
  for (; acc != end; ++acc, at += sw) {
    const int8_t *row = at;
    const TD_WEIGHTS_MEM int8_t *t = w;
    int32_t sum = 0, fy, fx;
    for (fy = 0; fy < win->filter_h; ++fy, row += win->dilation_h * cols) {
      for (fx = 0; fx < win->filter_w; ++fx) sum += row[fx * win->dilation_w] * *t++;
    }
    *acc = sum;
  }
}

/* One channel: its outputs to dst (stride c) from its padded plane, taps w, folded bias; a row of
 * dot products first, then its requantization (two loops: one would keep too many values in registers). */
static TD_RV_NOINLINE void td_rv_dw_channel(const td_dw_conv_params *p, const int8_t *plane, int32_t cols,
                                            const TD_WEIGHTS_MEM int8_t *w, int32_t bias, int32_t m, int32_t s,
                                            int8_t *dst, int32_t *acc) {
  const int32_t c = p->output.c, zp = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  const int32_t down = p->window.stride_h * cols, ow = p->output.w;
  int32_t oy, ox;
  for (oy = 0; oy < p->output.h; ++oy, plane += down) {
    td_rv_dw_row(p, plane, cols, w, acc);
    for (ox = 0; ox < ow; ++ox, dst += c) *dst = (int8_t)td_rv_requant(acc[ox] + bias, m, s, zp, lo, hi);
  }
}

void td_depthwise_conv_s8_riscv(const td_dw_conv_params *p, const int8_t *input,
                                const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                int8_t *output, void *scratch) {
  const int32_t rows = td_rv_dw_rows(p), cols = td_rv_dw_cols(p), c = p->input.c;
  const int32_t taps = p->window.filter_h * p->window.filter_w, pc = p->requant.per_channel ? -1 : 0;
  const int32_t in_batch = p->input.h * p->input.w * c, out_batch = p->output.h * p->output.w * c;
  int32_t *acc = (int32_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
  int8_t *plane = (int8_t *)(acc + p->output.w);
  int32_t b, ch;
  for (b = 0; b < p->input.n; ++b) {
    for (ch = 0; ch < c; ++ch) {
      td_rv_dw_plane(p, input + b * in_batch + ch, plane, rows, cols);
      td_rv_dw_channel(p, plane, cols, weights + ch * taps, bias[ch], p->requant.multiplier[ch & pc],
                       p->requant.shift[ch & pc], output + b * out_batch + ch, acc);
    }
  }
}

void td_depthwise_conv_s8_riscv_inplace(const td_dw_conv_params *p, int8_t *buf,
                                        const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                        void *scratch) {
  td_depthwise_conv_s8_riscv(p, buf, weights, bias, buf, scratch);
}

#endif /* __riscv */
