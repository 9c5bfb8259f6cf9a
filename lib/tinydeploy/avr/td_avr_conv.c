/*
 * CONV_2D int8 for AVR (kernels="avr"): the avr variant of td_conv_s8, one group, bit-exact with it.
 * Output pixels go in blocks (up to 64 bytes of windows, within one output row, so rows still stream):
 * the block's windows are gathered into the scratch (padding reads the input zero point, which the folded
 * bias cancels; a 1x1 filter reads the input pixels in place), then every output channel reads its header
 * once and its weights from the flash stream (td_avr.h) for each window (MULS, 16- or 24-bit sums).
 * Index arithmetic is 16-bit: every activation tensor lives in the (at most 8 KB) SRAM.
 */
#include "td_avr.h"

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) /* MULS / MUL: every ATmega */

#include "td_avr_stream.h"

/* Pixels per block: as many windows of `bytes` as fit TD_AVR_BLOCK_BYTES (at least 1, at most `limit`). */
#define TD_AVR_BLOCK_BYTES 64
static uint8_t td_avr_block(int32_t bytes, int32_t limit) {
  int32_t n = TD_AVR_BLOCK_BYTES / bytes;
  if (n > limit) n = limit;
  if (n > 255) n = 255;
  return (uint8_t)(n < 1 ? 1 : n);
}

/* All output channels of a block of n pixels, window j at x + j * step (k bytes): channel by channel, so a
 * header is read once per block; output j of channel oc at out[j * output.c + oc]. */
static void td_avr_conv_block(const td_conv_params *p, td_avr_flash start, const int8_t *x, int16_t step,
                              uint8_t n, uint16_t k, int8_t *out) {
  const int16_t cout = (int16_t)p->output.c;
  td_avr_flash f = start, g = start;
  td_avr_range range;
  td_avr_dr h;
  int16_t oc;
  range.offset = (int16_t)p->output_offset;
  range.lo = (int16_t)p->activation.min;
  range.hi = (int16_t)p->activation.max;
  for (oc = 0; oc < cout; ++oc, ++out) {
    const int8_t *xj = x;
    int8_t *o = out;
    uint8_t j;
    td_avr_read_dr(&f, &h);
    for (j = n; j; --j, xj += step, o += cout) {
      g = f;
      *o = td_avr_output(&g, xj, k, &h, &range);
    }
    f = g; /* after the channel's weights */
  }
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
  return k == p->filter_c ? 0 : td_avr_block(k, p->output.w) * k;
}

void td_avr_conv_s8(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                    int8_t *output, int8_t *scratch) {
  const td_window *win = &p->window;
  const int16_t c = (int16_t)p->input.c, w = (int16_t)p->input.w, image = (int16_t)(p->input.h * w * c);
  const uint16_t k = (uint16_t)(win->filter_h * win->filter_w * c);
  const int16_t sh = (int16_t)win->stride_h, sw = (int16_t)win->stride_w, ow = (int16_t)p->output.w;
  const int16_t out_c = (int16_t)p->output.c;
  const int8_t pad = (int8_t)(-p->input_offset);
  const int direct = k == (uint16_t)c; /* 1x1: the windows are input pixels (no padding), no gather */
  const uint8_t block = direct ? td_avr_block(1, ow) : td_avr_block(k, ow);
  const td_avr_flash start = td_avr_open(stream);
  int16_t b, oy, ox, y0;
  for (b = 0; b < (int16_t)p->input.n; ++b) {
    const int8_t *in_b = input + b * image;
    for (oy = 0, y0 = -(int16_t)win->pad_h; oy < (int16_t)p->output.h; ++oy, y0 += sh) {
      for (ox = 0; ox < ow; ox += block) {
        const uint8_t n = ow - ox < block ? (uint8_t)(ow - ox) : block;
        const int16_t x0 = ox * sw - (int16_t)win->pad_w;
        if (direct) {
          td_avr_conv_block(p, start, in_b + (y0 * w + x0) * c, sw * c, n, k, output + ox * out_c);
        } else {
          uint8_t j;
          for (j = 0; j < n; ++j) td_avr_gather(p, in_b, y0, x0 + j * sw, scratch + j * k, pad);
          td_avr_conv_block(p, start, scratch, (int16_t)k, n, k, output + ox * out_c);
        }
      }
      output += ow * out_c;
    }
  }
}

int32_t td_avr_conv_1x1_s8_inplace_scratch_size(const td_conv_params *p) {
  return td_avr_block(p->input.c, p->input.n * p->input.h * p->input.w) * p->input.c;
}

void td_avr_conv_1x1_s8_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                int8_t *scratch) {
  const uint16_t pixels = (uint16_t)(p->input.n * p->input.h * p->input.w);
  const uint16_t cin = (uint16_t)p->input.c, cout = (uint16_t)p->output.c;
  const uint8_t block = td_avr_block(cin, pixels);
  const int forward = cout <= cin; /* else from the end: outputs never reach inputs still to be read */
  const td_avr_flash start = td_avr_open(stream);
  uint16_t done;
  for (done = 0; done < pixels;) {
    const uint8_t n = pixels - done < block ? (uint8_t)(pixels - done) : block;
    const uint16_t px = forward ? done : (uint16_t)(pixels - done - n);
    td_avr_copy(scratch, buf + px * cin, (uint16_t)(n * cin));
    td_avr_conv_block(p, start, scratch, (int16_t)cin, n, cin, buf + px * cout);
    done += n;
  }
}

#endif /* __AVR__ && __AVR_HAVE_MUL__ */
