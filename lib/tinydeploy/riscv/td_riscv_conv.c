/*
 * CONV_2D int8 for RV32IMC (kernels="riscv"), bit-exact with td_conv_s8 (one group).
 *
 * Three output pixels at a time: their receptive fields (K = filter_h * filter_w * filter_c, OHWI order)
 * are gathered into the scratch byte by byte interleaved (pixel 0's k, pixel 1's k, pixel 2's k, ...),
 * padding filled with the input zero point so the bias with the input offset folded in stays exact at
 * borders. A 3 x 4 register tile (three pixels, four output channels) then walks the field and a block of
 * the re-laid-out weights (td_riscv.h) with one pointer each: per k, 7 loads for 12 multiply-adds
 * (34 instructions; the 2 x 4 tile took 47 for 16).
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

static inline int32_t td_rv_conv_kp(const td_conv_params *p) {
  return (p->window.filter_h * p->window.filter_w * p->filter_c + 3) & ~(int32_t)3;
}

int32_t td_conv_s8_riscv_scratch_size(const td_conv_params *p) {
  return 3 * td_rv_conv_kp(p); /* the three pixels' field */
}

/* Pixel (oy, ox)'s field of batch in_b into one slot (every third byte from dst). */
static void td_rv_conv_gather(const td_conv_params *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *dst) {
  const td_window *win = &p->window;
  const int32_t cin = p->input.c, row = p->input.w * cin, span = win->filter_w * cin;
  const int8_t pad = (int8_t)(-p->input_offset);
  const int32_t y0 = oy * win->stride_h - win->pad_h, x0 = ox * win->stride_w - win->pad_w;
  const int whole_row = win->dilation_w == 1 && x0 >= 0 && x0 + win->filter_w <= p->input.w;
  int32_t fy, fx;
  for (fy = 0; fy < win->filter_h; ++fy) {
    const int32_t y = y0 + fy * win->dilation_h;
    const int8_t *src;
    if (y < 0 || y >= p->input.h) {
      dst = td_rv_fill3(dst, pad, span);
      continue;
    }
    src = in_b + y * row;
    if (whole_row) {
      dst = td_rv_copy3(dst, src + x0 * cin, span);
    } else {
      for (fx = 0; fx < win->filter_w; ++fx) {
        const int32_t x = x0 + fx * win->dilation_w;
        dst = x < 0 || x >= p->input.w ? td_rv_fill3(dst, pad, cin) : td_rv_copy3(dst, src + x * cin, cin);
      }
    }
  }
}

#define TD_RV_OUT(acc, oc) \
  ((int8_t)td_rv_requant(acc, mult[(oc) & pc], shift[(oc) & pc], zp, lo, hi))

/* The sums of a block of four channels for three pixels: acc[4 * s + j] = pixel s, channel j. A function
 * of its own: inlined, the caller's values would push accumulators to the stack (GCC -Os). */
static TD_RV_NOINLINE const TD_WEIGHTS_MEM int8_t *td_rv_conv_dots(const int8_t *f, const int8_t *end,
                                                                   const TD_WEIGHTS_MEM int8_t *w,
                                                                   const TD_WEIGHTS_MEM int32_t *bias, int32_t *acc) {
  int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
  int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3, d0 = a0, d1 = a1, d2 = a2, d3 = a3;
  do { /* one k a step: 7 loads for 12 products (more k a step would spill at -O2) */
    const int32_t x = f[0], y = f[1], z = f[2], w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    a0 += x * w0; a1 += x * w1; a2 += x * w2; a3 += x * w3;
    b0 += y * w0; b1 += y * w1; b2 += y * w2; b3 += y * w3;
    d0 += z * w0; d1 += z * w1; d2 += z * w2; d3 += z * w3;
    f += 3;
    w += 4;
  } while (f != end);
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
  acc[4] = b0; acc[5] = b1; acc[6] = b2; acc[7] = b3;
  acc[8] = d0; acc[9] = d1; acc[10] = d2; acc[11] = d3;
  return w;
}

/* Three pixels' outputs (out1, out2 NULL: a repeated pixel, not stored) from the field (3 * kp bytes). */
static void td_rv_conv_tile(const td_conv_params *p, const int8_t *field, int32_t kp,
                            const TD_WEIGHTS_MEM int8_t *w, const TD_WEIGHTS_MEM int32_t *bias,
                            int8_t *out0, int8_t *out1, int8_t *out2) {
  const int32_t c = p->output.c, c4 = c - (c & 3);
  const int32_t pc = p->requant.per_channel ? -1 : 0; /* index mask: channel or 0 */
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier, *shift = p->requant.shift;
  const int32_t zp = p->output_offset, lo = p->activation.min, hi = p->activation.max;
  const int8_t *end = field + 3 * kp;
  int32_t acc[12], oc;
  for (oc = 0; oc < c4; oc += 4) {
    w = td_rv_conv_dots(field, end, w, bias + oc, acc);
    out0[oc] = TD_RV_OUT(acc[0], oc);
    out0[oc + 1] = TD_RV_OUT(acc[1], oc + 1);
    out0[oc + 2] = TD_RV_OUT(acc[2], oc + 2);
    out0[oc + 3] = TD_RV_OUT(acc[3], oc + 3);
    if (out1) {
      out1[oc] = TD_RV_OUT(acc[4], oc);
      out1[oc + 1] = TD_RV_OUT(acc[5], oc + 1);
      out1[oc + 2] = TD_RV_OUT(acc[6], oc + 2);
      out1[oc + 3] = TD_RV_OUT(acc[7], oc + 3);
    }
    if (out2) {
      out2[oc] = TD_RV_OUT(acc[8], oc);
      out2[oc + 1] = TD_RV_OUT(acc[9], oc + 1);
      out2[oc + 2] = TD_RV_OUT(acc[10], oc + 2);
      out2[oc + 3] = TD_RV_OUT(acc[11], oc + 3);
    }
  }
  for (; oc < c; ++oc) { /* leftover channels: plain rows */
    int32_t a = bias[oc], b = a, d = a;
    const int8_t *f = field;
    do {
      const int32_t w0 = w[0], w1 = w[1];
      a += f[0] * w0; b += f[1] * w0; d += f[2] * w0;
      a += f[3] * w1; b += f[4] * w1; d += f[5] * w1;
      f += 6;
      w += 2;
    } while (f != end);
    out0[oc] = TD_RV_OUT(a, oc);
    if (out1) out1[oc] = TD_RV_OUT(b, oc);
    if (out2) out2[oc] = TD_RV_OUT(d, oc);
  }
}

/* The field's padding to kp: zeros (their weights are 0 too). */
static void td_rv_conv_clear_tail(int8_t *field, int32_t k, int32_t kp) {
  int32_t i;
  for (i = 3 * k; i < 3 * kp; ++i) field[i] = 0;
}

void td_conv_s8_riscv(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                      const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch) {
  const int32_t kp = td_rv_conv_kp(p), c = p->output.c;
  const int32_t ow = p->output.w, per_batch = p->output.h * ow, total = p->input.n * per_batch;
  const int32_t batch_in = p->input.h * p->input.w * p->input.c;
  int8_t *field = (int8_t *)scratch;
  int32_t i, s;
  td_rv_conv_clear_tail(field, p->window.filter_h * p->window.filter_w * p->filter_c, kp);
  for (i = 0; i < total; i += 3) {
    for (s = 0; s < 3; ++s) { /* pixels past the end repeat the last one */
      const int32_t j = i + s < total ? i + s : total - 1, r = j % per_batch;
      td_rv_conv_gather(p, input + (j / per_batch) * batch_in, r / ow, r % ow, field + s);
    }
    td_rv_conv_tile(p, field, kp, weights, bias, output + i * c, i + 1 < total ? output + (i + 1) * c : NULL,
                    i + 2 < total ? output + (i + 2) * c : NULL);
  }
}

/* In-place 1x1: pixels [k, k + n) of buf (n 1..3; the missing slots repeat pixel k). */
static void td_rv_conv_1x1_group(const td_conv_params *p, int8_t *buf, int32_t k, int32_t n,
                                 const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                 int8_t *field, int32_t kp) {
  const int32_t cin = p->input.c, cout = p->output.c;
  td_rv_copy3(field, buf + k * cin, cin);
  td_rv_copy3(field + 1, buf + (n > 1 ? k + 1 : k) * cin, cin);
  td_rv_copy3(field + 2, buf + (n > 2 ? k + 2 : k) * cin, cin);
  td_rv_conv_tile(p, field, kp, weights, bias, buf + k * cout, n > 1 ? buf + (k + 1) * cout : NULL,
                  n > 2 ? buf + (k + 2) * cout : NULL);
}

void td_conv_1x1_s8_riscv_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *weights,
                                  const TD_WEIGHTS_MEM int32_t *bias, void *scratch) {
  const int32_t kp = td_rv_conv_kp(p), pixels = p->input.n * p->input.h * p->input.w;
  int8_t *field = (int8_t *)scratch;
  int32_t k;
  td_rv_conv_clear_tail(field, p->input.c, kp);
  /* group [k, k + n) writes [k * cout, (k + n) * cout) after reading its inputs: forwards that ends before
   * pixel k + n's input when cout <= cin; backwards it starts after pixel k - 1's input when cout > cin */
  if (p->output.c <= p->input.c) {
    for (k = 0; k < pixels; k += 3) {
      td_rv_conv_1x1_group(p, buf, k, pixels - k < 3 ? pixels - k : 3, weights, bias, field, kp);
    }
  } else {
    for (k = pixels - 3; k > -3; k -= 3) {
      td_rv_conv_1x1_group(p, buf, k < 0 ? 0 : k, k < 0 ? 3 + k : 3, weights, bias, field, kp);
    }
  }
}

#endif /* __riscv */
