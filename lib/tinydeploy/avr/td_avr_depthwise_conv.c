/*
 * DEPTHWISE_CONV_2D int8 for AVR (kernels="avr"): the avr variant of td_depthwise_conv_s8, bit-exact with
 * it. Output row by output row (the planner may let the output start before the input: rows stream), and in
 * a row channel by channel: the channel's header is read once, then for every output pixel its taps are
 * gathered to the scratch (the input zero point outside the input: the folded bias cancels it) and
 * multiplied with the channel's weights, read again from the stream (td_avr.h) for each pixel. The
 * in-place twin goes channel by channel through all rows, from a saved plane of the channel padded with
 * the input zero point (so no window needs border checks).
 */
#include "td_avr.h"

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) /* MULS / MUL: every ATmega */

#include "td_avr_stream.h"

/* One channel's planes (input with `in_step` bytes between pixels, output likewise) and the layer's window
 * geometry in 16 bits, computed once per call: the loops read it through one pointer (few registers). */
typedef struct {
  const int8_t *in;
  int8_t *out;
  int16_t in_step, out_step;
  int16_t h, w, out_w, row, stride_h, stride_w, pad_h, pad_w, dh, dw, y_span, x_span, step_y, step_x;
  uint8_t fh, fw;
  int8_t pad;
  uint8_t rows; /* 1: a padded plane whose window rows are contiguous (no gather: td_avr_output_rows) */
} td_avr_plane;

/* One channel's requantization, output range and weights. */
typedef struct {
  td_avr_dr h;
  td_avr_flash weights;
  uint16_t n;
  td_avr_range range;
} td_avr_chan;

static void td_avr_plane_init(td_avr_plane *g, const td_dw_conv_params *p, int16_t in_step, int16_t out_step) {
  const td_window *win = &p->window;
  g->in_step = in_step;
  g->out_step = out_step;
  g->h = (int16_t)p->input.h;
  g->w = (int16_t)p->input.w;
  g->out_w = (int16_t)p->output.w;
  g->row = g->w * in_step;
  g->stride_h = (int16_t)win->stride_h;
  g->stride_w = (int16_t)win->stride_w;
  g->pad_h = (int16_t)win->pad_h;
  g->pad_w = (int16_t)win->pad_w;
  g->dh = (int16_t)win->dilation_h;
  g->dw = (int16_t)win->dilation_w;
  g->fh = (uint8_t)win->filter_h;
  g->fw = (uint8_t)win->filter_w;
  g->y_span = (g->fh - 1) * g->dh;
  g->x_span = (g->fw - 1) * g->dw;
  g->step_y = g->dh * g->row;
  g->step_x = g->dw * in_step;
  g->pad = (int8_t)(-p->input_offset);
  g->rows = 0;
}

/* The taps of the window at (y0, x0) into t; outside the input they read the input zero point. */
static __attribute__((noinline)) void td_avr_dw_gather(const td_avr_plane *g, int16_t y0, int16_t x0, int8_t *t) {
  uint8_t a, b;
  if (y0 >= 0 && y0 + g->y_span < g->h && x0 >= 0 && x0 + g->x_span < g->w) { /* inside: no checks */
    const int8_t *src_y = g->in + y0 * g->row + x0 * g->in_step;
    for (a = g->fh; a; --a, src_y += g->step_y) {
      const int8_t *src = src_y;
      for (b = g->fw; b; --b, src += g->step_x) *t++ = *src;
    }
    return;
  }
  for (a = g->fh; a; --a, y0 += g->dh) {
    const int8_t *in_y = g->in + y0 * g->row;
    const int inside = y0 >= 0 && y0 < g->h;
    int16_t ix = x0;
    for (b = g->fw; b; --b, ix += g->dw) *t++ = inside && ix >= 0 && ix < g->w ? in_y[ix * g->in_step] : g->pad;
  }
}

/* One output of the channel from its gathered taps. */
static int8_t td_avr_dw_out(const td_avr_chan *c, const int8_t *taps) {
  td_avr_flash f = c->weights;
  return td_avr_output(&f, taps, c->n, &c->h, &c->range);
}

/* Output rows [oy, oy_end) of one channel (g->out at row 0); f at the channel's header, left after its weights. */
static void td_avr_dw_channel(const td_dw_conv_params *p, const td_avr_plane *g, td_avr_flash *f, int8_t *taps,
                              int16_t oy, int16_t oy_end) {
  int8_t *out = g->out + oy * g->out_w * g->out_step;
  int16_t ox, y0, x0;
  td_avr_chan c;
  td_avr_read_dr(f, &c.h);
  c.weights = *f;
  c.n = (uint16_t)(g->fh * g->fw);
  c.range.offset = (int16_t)p->output_offset;
  c.range.lo = (int16_t)p->activation.min;
  c.range.hi = (int16_t)p->activation.max;
  for (y0 = oy * g->stride_h - g->pad_h; oy < oy_end; ++oy, y0 += g->stride_h) {
    for (ox = 0, x0 = -g->pad_w; ox < g->out_w; ++ox, x0 += g->stride_w, out += g->out_step) {
      if (g->rows) {
        td_avr_flash f = c.weights;
        *out = td_avr_output_rows(&f, g->in + y0 * g->row + x0, g->fh, g->fw, g->step_y - g->fw, &c.h, &c.range);
      } else {
        td_avr_dw_gather(g, y0, x0, taps);
        *out = td_avr_dw_out(&c, taps);
      }
    }
  }
  f->z = c.weights.z; /* after the weights */
  f->hi = c.weights.hi;
  td_avr_skip(f, c.n);
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
  td_avr_plane g;
  td_avr_plane_init(&g, p, cin, cout);
  for (b = 0; b < (int16_t)p->input.n; ++b) {
    for (oy = 0; oy < (int16_t)p->output.h; ++oy) {
      td_avr_flash f = td_avr_open(stream);
      for (oc = 0; oc < cout; ++oc) {
        g.in = input + b * in_image + oc / mult;
        g.out = output + b * out_image + oc;
        td_avr_dw_channel(p, &g, &f, scratch, oy, oy + 1);
      }
    }
  }
}

/* The extent of the windows' rows (or columns): what the in-place twin's padded plane holds. */
static int16_t td_avr_extent(int32_t out, int32_t stride, int32_t taps, int32_t dilation) {
  return (int16_t)((out - 1) * stride + (taps - 1) * dilation + 1);
}

int32_t td_avr_depthwise_conv_s8_inplace_scratch_size(const td_dw_conv_params *p) {
  const td_window *win = &p->window;
  return (int32_t)td_avr_extent(p->output.h, win->stride_h, win->filter_h, win->dilation_h) *
             td_avr_extent(p->output.w, win->stride_w, win->filter_w, win->dilation_w) +
         win->filter_h * win->filter_w;
}

void td_avr_depthwise_conv_s8_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                      int8_t *scratch) {
  const td_window *win = &p->window;
  const int16_t c = (int16_t)p->input.c, h = (int16_t)p->input.h, w = (int16_t)p->input.w;
  const int16_t hp = td_avr_extent(p->output.h, win->stride_h, win->filter_h, win->dilation_h);
  const int16_t wp = td_avr_extent(p->output.w, win->stride_w, win->filter_w, win->dilation_w);
  const int8_t pad = (int8_t)(-p->input_offset);
  td_avr_flash f = td_avr_open(stream);
  int16_t ch, y, x;
  td_avr_plane g;
  td_avr_plane_init(&g, p, 1, c);
  /* the channel's windows in a plane padded with the input zero point: every window lies inside */
  g.in = scratch;
  g.h = hp;
  g.w = wp;
  g.row = wp;
  g.step_y = g.dh * wp;
  g.pad_h = g.pad_w = 0;
  g.rows = g.dw == 1;
  for (ch = 0; ch < c; ++ch) {
    int8_t *dst = scratch;
    for (y = -(int16_t)win->pad_h; y < hp - (int16_t)win->pad_h; ++y) {
      const int8_t *src = buf + (y * w - (int16_t)win->pad_w) * c + ch;
      const int row_inside = y >= 0 && y < h;
      for (x = -(int16_t)win->pad_w; x < wp - (int16_t)win->pad_w; ++x, src += c) {
        *dst++ = row_inside && x >= 0 && x < w ? *src : pad;
      }
    }
    g.out = buf + ch;
    td_avr_dw_channel(p, &g, &f, scratch + hp * wp, 0, (int16_t)p->output.h);
  }
}

#endif /* __AVR__ && __AVR_HAVE_MUL__ */
