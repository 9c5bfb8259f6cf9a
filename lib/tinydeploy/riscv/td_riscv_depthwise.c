/*
 * DEPTHWISE_CONV_2D int8, depth multiplier 1, for RV32IMC (kernels="riscv"), bit-exact with
 * td_depthwise_conv_s8. Channel by channel: the channel's input plane goes into the scratch inside a
 * border of the input zero point as wide as the window reaches (filled once per call: so the bias with the
 * input offset folded in is exact at borders and the taps need no bounds checks); then the dot products of
 * a chunk of output rows (3x3 unrolled with its nine weights in registers, two outputs a step at stride 1)
 * and their requantization. The output is written with the channel stride, so the input may be the output
 * (the in-place twin).
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

/* Rows and columns of the padded plane: what the window reaches. */
static inline int32_t td_rv_dw_height(const td_dw_conv_params *p) {
  return (p->output.h - 1) * p->window.stride_h + (p->window.filter_h - 1) * p->window.dilation_h + 1;
}

static inline int32_t td_rv_dw_cols(const td_dw_conv_params *p) {
  return (p->output.w - 1) * p->window.stride_w + (p->window.filter_w - 1) * p->window.dilation_w + 1;
}

/* Output rows whose sums one call computes: about 32 outputs (at least a row, at most all). */
static inline int32_t td_rv_dw_chunk(const td_dw_conv_params *p) {
  const int32_t rows = p->output.w >= 32 ? 1 : 32 / p->output.w;
  return rows < p->output.h ? rows : p->output.h;
}

int32_t td_depthwise_conv_s8_riscv_scratch_size(const td_dw_conv_params *p) {
  /* a chunk of sums (word-aligned), the plane */
  return 4 * td_rv_dw_chunk(p) * p->output.w + 3 + td_rv_dw_height(p) * td_rv_dw_cols(p);
}

/* The border of the padded plane (rows x cols) to the input zero point: the same for every channel. */
static void td_rv_dw_border(const td_dw_conv_params *p, int8_t *plane, int32_t rows, int32_t cols) {
  const int8_t pad = (int8_t)(-p->input_offset);
  int32_t i;
  for (i = 0; i < rows * cols; ++i) plane[i] = pad;
}

/* A channel's input (from src, stride c) into the inside of the padded plane. */
static TD_RV_NOINLINE void td_rv_dw_plane(const td_dw_conv_params *p, const int8_t *src, int8_t *plane, int32_t rows,
                                          int32_t cols) {
  const int32_t c = p->input.c, top = p->window.pad_h, left = p->window.pad_w, row = p->input.w * c;
  const int32_t width = p->input.w < cols - left ? p->input.w : cols - left;      /* input columns read */
  const int32_t height = p->input.h < rows - top ? p->input.h : rows - top;       /* input rows read */
  int32_t y;
  for (y = 0; y < height; ++y, src += row) {
    int8_t *d = plane + (top + y) * cols + left, *end = d + width;
    const int8_t *at = src;
    for (; d < end; ++d, at += c) *d = *at;
  }
}

/* The dot products of n output rows (n * output.w of them, into acc) over the padded plane. */
static TD_RV_NOINLINE void td_rv_dw_rows(const td_dw_conv_params *p, const int8_t *plane, int32_t cols,
                                         const TD_WEIGHTS_MEM int8_t *w, int32_t *acc, int32_t n) {
  const td_window *win = &p->window;
  const int32_t sw = win->stride_w, down = win->stride_h * cols;
  int32_t *last = acc + n * p->output.w;
  if (win->filter_h == 3 && win->filter_w == 3 && win->dilation_h == 1 && win->dilation_w == 1) {
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
                  w8 = w[8];
    for (; acc != last; plane += down) {
      int32_t *end = acc + p->output.w;
      const int8_t *at = plane, *r1 = at + cols, *r2 = r1 + cols;
      if (sw == 1) { /* two outputs a step share two of their three columns: 12 loads for 18 products */
        for (; end - acc >= 2; acc += 2, at += 2, r1 += 2, r2 += 2) {
          int32_t x0 = at[0], x1 = at[1], x2 = at[2], x3 = at[3];
          int32_t s0 = x0 * w0 + x1 * w1 + x2 * w2, s1 = x1 * w0 + x2 * w1 + x3 * w2;
          x0 = r1[0]; x1 = r1[1]; x2 = r1[2]; x3 = r1[3];
          s0 += x0 * w3 + x1 * w4 + x2 * w5;
          s1 += x1 * w3 + x2 * w4 + x3 * w5;
          x0 = r2[0]; x1 = r2[1]; x2 = r2[2]; x3 = r2[3];
          acc[0] = s0 + x0 * w6 + x1 * w7 + x2 * w8;
          acc[1] = s1 + x1 * w6 + x2 * w7 + x3 * w8;
        }
      }
      for (; acc != end; ++acc, at += sw, r1 += sw, r2 += sw) {
        *acc = at[0] * w0 + at[1] * w1 + at[2] * w2 + r1[0] * w3 + r1[1] * w4 + r1[2] * w5 + r2[0] * w6 +
               r2[1] * w7 + r2[2] * w8;
      }
    }
    return;
  }
  for (; acc != last; plane += down) {
    int32_t *end = acc + p->output.w;
    const int8_t *at = plane;
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
}

/* One channel: its outputs to dst (stride c) from its padded plane, taps w, folded bias; the dot products
 * of a chunk of rows first, then their requantization (one loop would keep too many values in registers). */
static TD_RV_NOINLINE void td_rv_dw_channel(const td_dw_conv_params *p, const int8_t *plane, int32_t cols,
                                            const TD_WEIGHTS_MEM int8_t *w, int32_t bias, int32_t m, int32_t s,
                                            int8_t *dst, int32_t *acc) {
  const int32_t c = p->output.c, zp = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  const int32_t chunk = td_rv_dw_chunk(p), down = p->window.stride_h * cols;
  int32_t oy, i;
  for (oy = 0; oy < p->output.h; oy += chunk, plane += chunk * down) {
    const int32_t n = (p->output.h - oy < chunk ? p->output.h - oy : chunk) * p->output.w;
    td_rv_dw_rows(p, plane, cols, w, acc, n / p->output.w);
    if (s <= 0) { /* the usual case, without the left shift's branch per output */
      for (i = 0; i < n; ++i, dst += c) *dst = (int8_t)td_rv_requant_down(acc[i] + bias, m, -s, zp, lo, hi);
    } else {
      for (i = 0; i < n; ++i, dst += c) *dst = (int8_t)td_rv_requant(acc[i] + bias, m, s, zp, lo, hi);
    }
  }
}

void td_depthwise_conv_s8_riscv(const td_dw_conv_params *p, const int8_t *input,
                                const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                int8_t *output, void *scratch) {
  const int32_t rows = td_rv_dw_height(p), cols = td_rv_dw_cols(p), c = p->input.c;
  const int32_t taps = p->window.filter_h * p->window.filter_w, pc = p->requant.per_channel ? -1 : 0;
  const int32_t in_batch = p->input.h * p->input.w * c, out_batch = p->output.h * p->output.w * c;
  int32_t *acc = (int32_t *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
  int8_t *plane = (int8_t *)(acc + td_rv_dw_chunk(p) * p->output.w);
  int32_t b, ch;
  td_rv_dw_border(p, plane, rows, cols);
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
