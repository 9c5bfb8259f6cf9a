/*
 * MAX_POOL_2D and AVERAGE_POOL_2D int8 for AVR (kernels="avr"): the avr variants of td_max_pool_s8 and
 * td_avg_pool_s8, bit-exact with them. Output pixels in order (rows stream); 16-bit index arithmetic.
 * Max: the output pixel starts at -128 and takes the maximum with each window pixel, all channels of a
 * pixel in one contiguous pass. Average: per channel a 16-bit sum (the window has at most 255 pixels, so
 * |sum| + count / 2 < 2^15) and a 16-bit rounded division, as the reference's 32-bit one.
 */
#include "td_avr.h"

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) /* MULS / MUL: every ATmega */

/* The window of output pixel (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1). */
typedef struct {
  int16_t y0, y1, x0, x1;
} td_avr_clip;

static td_avr_clip td_avr_pool_clip(const td_pool_params *p, int16_t oy, int16_t ox) {
  const td_window *win = &p->window;
  const int16_t y = oy * (int16_t)win->stride_h - (int16_t)win->pad_h;
  const int16_t x = ox * (int16_t)win->stride_w - (int16_t)win->pad_w;
  td_avr_clip k;
  k.y0 = y < 0 ? 0 : y;
  k.y1 = y + (int16_t)win->filter_h > (int16_t)p->input.h ? (int16_t)p->input.h : y + (int16_t)win->filter_h;
  k.x0 = x < 0 ? 0 : x;
  k.x1 = x + (int16_t)win->filter_w > (int16_t)p->input.w ? (int16_t)p->input.w : x + (int16_t)win->filter_w;
  return k;
}

static int8_t td_avr_pool_clamp(const td_pool_params *p, int16_t v) {
  return (int8_t)(v < (int16_t)p->activation.min ? (int16_t)p->activation.min
                                                  : (v > (int16_t)p->activation.max ? (int16_t)p->activation.max : v));
}

void td_avr_max_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output) {
  const uint16_t c = (uint16_t)p->input.c;
  const int16_t w = (int16_t)p->input.w, image = (int16_t)(p->input.h * w * (int16_t)c), step = w * (int16_t)c;
  const int8_t lo = (int8_t)p->activation.min, hi = (int8_t)p->activation.max; /* inside int8 */
  int16_t b, oy, ox, y, x;
  uint16_t k;
  for (b = 0; b < (int16_t)p->input.n; ++b, input += image) {
    for (oy = 0; oy < (int16_t)p->output.h; ++oy) {
      for (ox = 0; ox < (int16_t)p->output.w; ++ox, output += c) {
        const td_avr_clip q = td_avr_pool_clip(p, oy, ox);
        const int8_t *row = input + (q.y0 * w + q.x0) * (int16_t)c;
        for (k = 0; k < c; ++k) output[k] = lo; /* the clamp's low end: max(-128, ...) then clamp */
        for (y = q.y0; y < q.y1; ++y, row += step) {
          const int8_t *src = row;
          for (x = q.x0; x < q.x1; ++x) {
            int8_t *dst = output;
            for (k = c; k; --k, ++src, ++dst) {
              if (*src > *dst) *dst = *src;
            }
          }
        }
        for (k = 0; k < c; ++k) {
          if (output[k] > hi) output[k] = hi;
        }
      }
    }
  }
}

void td_avr_avg_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output) {
  const int16_t c = (int16_t)p->input.c, w = (int16_t)p->input.w, image = (int16_t)(p->input.h * w * c);
  int16_t b, oy, ox, y, x, k;
  for (b = 0; b < (int16_t)p->input.n; ++b, input += image) {
    for (oy = 0; oy < (int16_t)p->output.h; ++oy) {
      for (ox = 0; ox < (int16_t)p->output.w; ++ox) {
        const td_avr_clip q = td_avr_pool_clip(p, oy, ox);
        const int16_t count = (q.y1 - q.y0) * (q.x1 - q.x0), half = count / 2;
        for (k = 0; k < c; ++k) {
          int16_t sum = 0;
          for (y = q.y0; y < q.y1; ++y) {
            const int8_t *src = input + (y * w + q.x0) * c + k;
            for (x = q.x0; x < q.x1; ++x, src += c) sum += *src;
          }
          if (count > 0) sum = sum > 0 ? (sum + half) / count : (sum - half) / count;
          else sum = 0;
          *output++ = td_avr_pool_clamp(p, sum);
        }
      }
    }
  }
}

#endif /* __AVR__ && __AVR_HAVE_MUL__ */
