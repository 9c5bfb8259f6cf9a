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
  return td_rv_dw_rows(p) * td_rv_dw_cols(p);
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

/* One channel: outputs to dst (stride c) from its padded plane, taps w, folded bias. */
static void td_rv_dw_channel(const td_dw_conv_params *p, const int8_t *plane, int32_t cols,
                             const TD_WEIGHTS_MEM int8_t *w, int32_t bias, int32_t m, int32_t s, int8_t *dst) {
  const td_window *win = &p->window;
  const int32_t c = p->output.c, zp = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  const int32_t sw = win->stride_w, down = win->stride_h * cols;
  int32_t oy, ox;
  if (win->filter_h == 3 && win->filter_w == 3 && win->dilation_h == 1 && win->dilation_w == 1) {
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
                  w8 = w[8];
    for (oy = 0; oy < p->output.h; ++oy, plane += down) {
      const int8_t *r0 = plane, *r1 = plane + cols, *r2 = plane + 2 * cols;
      for (ox = 0; ox < p->output.w; ++ox, r0 += sw, r1 += sw, r2 += sw, dst += c) {
        int32_t acc = bias + r0[0] * w0 + r0[1] * w1 + r0[2] * w2;
        acc += r1[0] * w3 + r1[1] * w4 + r1[2] * w5;
        acc += r2[0] * w6 + r2[1] * w7 + r2[2] * w8;
        *dst = (int8_t)td_rv_requant(acc, m, s, zp, lo, hi);
      }
    }
    return;
  }
  for (oy = 0; oy < p->output.h; ++oy, plane += down) {
    for (ox = 0; ox < p->output.w; ++ox, dst += c) {
      const int8_t *at = plane + ox * sw;
      const TD_WEIGHTS_MEM int8_t *t = w;
      int32_t acc = bias, fy, fx;
      for (fy = 0; fy < win->filter_h; ++fy, at += win->dilation_h * cols) {
        for (fx = 0; fx < win->filter_w; ++fx) acc += at[fx * win->dilation_w] * *t++;
      }
      *dst = (int8_t)td_rv_requant(acc, m, s, zp, lo, hi);
    }
  }
}

void td_depthwise_conv_s8_riscv(const td_dw_conv_params *p, const int8_t *input,
                                const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                int8_t *output, void *scratch) {
  const int32_t rows = td_rv_dw_rows(p), cols = td_rv_dw_cols(p), c = p->input.c;
  const int32_t taps = p->window.filter_h * p->window.filter_w, pc = p->requant.per_channel ? -1 : 0;
  const int32_t in_batch = p->input.h * p->input.w * c, out_batch = p->output.h * p->output.w * c;
  int8_t *plane = (int8_t *)scratch;
  int32_t b, ch;
  for (b = 0; b < p->input.n; ++b) {
    for (ch = 0; ch < c; ++ch) {
      td_rv_dw_plane(p, input + b * in_batch + ch, plane, rows, cols);
      td_rv_dw_channel(p, plane, cols, weights + ch * taps, bias[ch], p->requant.multiplier[ch & pc],
                       p->requant.shift[ch & pc], output + b * out_batch + ch);
    }
  }
}

void td_depthwise_conv_s8_riscv_inplace(const td_dw_conv_params *p, int8_t *buf,
                                        const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                        void *scratch) {
  td_depthwise_conv_s8_riscv(p, buf, weights, bias, buf, scratch);
}

#endif /* __riscv */
