/*
 * CONV_2D int8 for AVR (kernels="avr"): the avr variant of td_conv_s8, one group, bit-exact with it.
 * Each output pixel's window is gathered once into the scratch (padding reads the input zero point,
 * which the folded bias cancels), then every output channel reads its header and weights from the flash
 * stream in sequence (td_avr.h) and multiplies them with the window (MULS, 16- or 24-bit sums).
 * Index arithmetic is 16-bit: every activation tensor lives in the (at most 8 KB) SRAM.
 */
#include "td_avr.h"

#if defined(__AVR__)

#include "td_avr_stream.h"

/* All output channels of one pixel: window x (k bytes) against the stream from `start`. */
static void td_avr_conv_pixel(const td_conv_params *p, td_avr_flash start, const int8_t *x, uint16_t k,
                              int8_t *out) {
  uint16_t oc = (uint16_t)p->output.c;
  td_avr_flash f = start;
  td_avr_range range;
  td_avr_dr h;
  range.offset = (int16_t)p->output_offset;
  range.lo = (int16_t)p->activation.min;
  range.hi = (int16_t)p->activation.max;
  do {
    td_avr_read_dr(&f, &h);
    *out++ = td_avr_output(&f, x, k, &h, &range);
  } while (--oc);
}

static void td_avr_fill(int8_t *dst, int8_t v, uint16_t n) {
  while (n--) *dst++ = v;
}

static void td_avr_copy(int8_t *dst, const int8_t *src, uint16_t n) {
  while (n--) *dst++ = *src++;
}

/* The window at (y0, x0) of one image into dst, row by row; taps outside read `pad`. */
static void td_avr_gather(const td_conv_params *p, const int8_t *image, int16_t y0, int16_t x0, int8_t *dst,
                          int8_t pad) {
  const td_window *win = &p->window;
  const int16_t h = (int16_t)p->input.h, w = (int16_t)p->input.w, c = (int16_t)p->input.c;
  const int16_t fw = (int16_t)win->filter_w, dh = (int16_t)win->dilation_h, dw = (int16_t)win->dilation_w;
  const uint16_t row_bytes = (uint16_t)(fw * c);
  const int16_t last_x = x0 + (fw - 1) * dw;
  int16_t fy, fx, iy = y0;
  for (fy = 0; fy < (int16_t)win->filter_h; ++fy, iy += dh) {
    if (iy < 0 || iy >= h) {
      td_avr_fill(dst, pad, row_bytes);
    } else if (dw == 1 && x0 >= 0 && last_x < w) {
      td_avr_copy(dst, image + (iy * w + x0) * c, row_bytes);
    } else {
      int16_t ix = x0;
      for (fx = 0; fx < fw; ++fx, ix += dw) {
        if (ix < 0 || ix >= w) td_avr_fill(dst + fx * c, pad, (uint16_t)c);
        else td_avr_copy(dst + fx * c, image + (iy * w + ix) * c, (uint16_t)c);
      }
    }
    dst += row_bytes;
  }
}

int32_t td_avr_conv_s8_scratch_size(const td_conv_params *p) {
  const int32_t k = p->window.filter_h * p->window.filter_w * p->filter_c;
  return k == p->filter_c ? 0 : k;
}

void td_avr_conv_s8(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                    int8_t *output, int8_t *scratch) {
  const td_window *win = &p->window;
  const int16_t c = (int16_t)p->input.c, w = (int16_t)p->input.w, image = (int16_t)(p->input.h * w * c);
  const uint16_t k = (uint16_t)(win->filter_h * win->filter_w * c);
  const int16_t sh = (int16_t)win->stride_h, sw = (int16_t)win->stride_w;
  const int16_t out_c = (int16_t)p->output.c;
  const int8_t pad = (int8_t)(-p->input_offset);
  const int direct = k == (uint16_t)c; /* 1x1: the window is the input pixel (no padding) */
  const td_avr_flash start = td_avr_open(stream);
  int16_t b, oy, ox, y0, x0;
  for (b = 0; b < (int16_t)p->input.n; ++b) {
    const int8_t *in_b = input + b * image;
    for (oy = 0, y0 = -(int16_t)win->pad_h; oy < (int16_t)p->output.h; ++oy, y0 += sh) {
      for (ox = 0, x0 = -(int16_t)win->pad_w; ox < (int16_t)p->output.w; ++ox, x0 += sw) {
        const int8_t *x = scratch;
        if (direct) x = in_b + (y0 * w + x0) * c;
        else td_avr_gather(p, in_b, y0, x0, scratch, pad);
        td_avr_conv_pixel(p, start, x, k, output);
        output += out_c;
      }
    }
  }
}

int32_t td_avr_conv_1x1_s8_inplace_scratch_size(const td_conv_params *p) { return p->input.c; }

void td_avr_conv_1x1_s8_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                int8_t *scratch) {
  const uint16_t pixels = (uint16_t)(p->input.n * p->input.h * p->input.w);
  const uint16_t cin = (uint16_t)p->input.c, cout = (uint16_t)p->output.c;
  const int forward = cout <= cin;
  const td_avr_flash start = td_avr_open(stream);
  uint16_t k;
  for (k = 0; k < pixels; ++k) {
    const uint16_t px = forward ? k : (uint16_t)(pixels - 1 - k);
    td_avr_copy(scratch, buf + px * cin, cin);
    td_avr_conv_pixel(p, start, scratch, cin, buf + px * cout);
  }
}

#endif /* __AVR__ */
