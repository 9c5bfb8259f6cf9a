/*
 * DEPTHWISE_CONV_2D int8 for AVR (kernels="avr"): the avr variant of td_depthwise_conv_s8, bit-exact with
 * it. Output row by output row (the planner may let the output start before the input: rows stream), and in
 * a row channel by channel: the channel's header is read once, then for every output pixel its taps are
 * gathered to the scratch (the input zero point outside the input: the folded bias cancels it) and
 * multiplied with the channel's weights, read again from the stream (td_avr.h) for each pixel. The
 * in-place twin goes channel by channel through all rows (one saved input plane).
 */
#include "td_avr.h"

#if defined(__AVR__)

#include "td_avr_stream.h"

/* One channel's geometry: input plane with `in_step` bytes between pixels, output likewise. */
typedef struct {
  const int8_t *in;
  int8_t *out;
  int16_t in_step, out_step;
} td_avr_plane;

/* Output rows [oy, oy_end) of one channel (pl->out at row 0); f at the channel's header, left after its weights. */
static void td_avr_dw_channel(const td_dw_conv_params *p, const td_avr_plane *pl, td_avr_flash *f, int8_t *taps,
                              int16_t oy, int16_t oy_end) {
  const td_window *win = &p->window;
  const int16_t h = (int16_t)p->input.h, w = (int16_t)p->input.w, fh = (int16_t)win->filter_h,
                fw = (int16_t)win->filter_w, dh = (int16_t)win->dilation_h, dw = (int16_t)win->dilation_w;
  const int16_t row = w * pl->in_step, offset = (int16_t)p->output_offset, lo = (int16_t)p->activation.min,
                hi = (int16_t)p->activation.max;
  const int16_t y_span = (fh - 1) * dh, x_span = (fw - 1) * dw, step_y = dh * row, step_x = dw * pl->in_step;
  const uint16_t n = (uint16_t)(fh * fw);
  const int8_t pad = (int8_t)(-p->input_offset);
  int8_t *out = pl->out + oy * (int16_t)p->output.w * pl->out_step;
  int16_t ox, y0, x0, fy, fx, iy, ix;
  td_avr_dr hd;
  td_avr_flash weights;
  td_avr_read_dr(f, &hd);
  weights = *f;
  for (y0 = oy * (int16_t)win->stride_h - (int16_t)win->pad_h; oy < oy_end; ++oy, y0 += (int16_t)win->stride_h) {
    for (ox = 0, x0 = -(int16_t)win->pad_w; ox < (int16_t)p->output.w; ++ox, x0 += (int16_t)win->stride_w) {
      int8_t *t = taps;
      if (y0 >= 0 && y0 + y_span < h && x0 >= 0 && x0 + x_span < w) { /* inside: no checks */
        const int8_t *src_y = pl->in + y0 * row + x0 * pl->in_step;
        uint8_t a, b;
        for (a = (uint8_t)fh; a; --a, src_y += step_y) {
          const int8_t *src = src_y;
          for (b = (uint8_t)fw; b; --b, src += step_x) *t++ = *src;
        }
      } else {
        for (fy = 0, iy = y0; fy < fh; ++fy, iy += dh) {
          const int8_t *in_y = pl->in + iy * row;
          const int inside = iy >= 0 && iy < h;
          for (fx = 0, ix = x0; fx < fw; ++fx, ix += dw) {
            *t++ = inside && ix >= 0 && ix < w ? in_y[ix * pl->in_step] : pad;
          }
        }
      }
      *f = weights;
      *out = td_avr_requant_dr(hd.bias + td_avr_dot(f, taps, n, hd.wide), &hd, offset, lo, hi);
      out += pl->out_step;
    }
  }
}

int32_t td_avr_depthwise_conv_s8_scratch_size(const td_dw_conv_params *p) {
  return p->window.filter_h * p->window.filter_w;
}

void td_avr_depthwise_conv_s8(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                              int8_t *output, int8_t *scratch) {
  const int16_t cin = (int16_t)p->input.c, cout = (int16_t)p->output.c, mult = (int16_t)p->depth_multiplier;
  const int16_t in_image = (int16_t)(p->input.h * p->input.w * cin);
  const int16_t out_image = (int16_t)(p->output.h * p->output.w * cout);
  int16_t b, oy, oc;
  for (b = 0; b < (int16_t)p->input.n; ++b) {
    for (oy = 0; oy < (int16_t)p->output.h; ++oy) {
      td_avr_flash f = td_avr_open(stream);
      for (oc = 0; oc < cout; ++oc) {
        td_avr_plane pl;
        pl.in = input + b * in_image + oc / mult;
        pl.out = output + b * out_image + oc;
        pl.in_step = cin;
        pl.out_step = cout;
        td_avr_dw_channel(p, &pl, &f, scratch, oy, oy + 1);
      }
    }
  }
}

int32_t td_avr_depthwise_conv_s8_inplace_scratch_size(const td_dw_conv_params *p) {
  return p->input.h * p->input.w + p->window.filter_h * p->window.filter_w;
}

void td_avr_depthwise_conv_s8_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                      int8_t *scratch) {
  const int16_t c = (int16_t)p->input.c, plane = (int16_t)(p->input.h * p->input.w);
  td_avr_flash f = td_avr_open(stream);
  int16_t ch, i;
  for (ch = 0; ch < c; ++ch) {
    td_avr_plane pl;
    const int8_t *src = buf + ch;
    for (i = 0; i < plane; ++i, src += c) scratch[i] = *src;
    pl.in = scratch;
    pl.out = buf + ch;
    pl.in_step = 1;
    pl.out_step = c;
    td_avr_dw_channel(p, &pl, &f, scratch + plane, 0, (int16_t)p->output.h);
  }
}

#endif /* __AVR__ */
