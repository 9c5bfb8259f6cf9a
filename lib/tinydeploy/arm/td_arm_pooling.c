/*
 * int8 AVERAGE_POOL_2D and MAX_POOL_2D for Arm cores with the DSP extension (Cortex-M4/M7/M33/M55):
 * the arm-dsp variants of td_avg_pool_s8 / td_max_pool_s8, bit-exact with them, on the same
 * parameters. Four channels at a time: one word load per window tap; the average adds the bytes into
 * two halfword pairs (SXTAB16, and SXTAB16 of the word rotated by 8: channels 0,2 and 1,3), moved to
 * 32-bit sums every 256 taps at the latest (|sum| <= 128 * 256 fits a halfword); the maximum is
 * SSUB8 + SEL. The mean is rounded half away from zero over the taps inside the input, as LiteRT; a
 * fused activation narrower than int8 is a second pass over the output (SSUB8 + SEL).
 * Leftover channels (depth % 4) go the reference way. Output pixels are written in the reference's
 * order, each after the window it reads, so row streaming over the input stays safe.
 */
#include "td_pooling.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_simd.h"

/* The taps of one output pixel's window inside the input, for the channel loops. */
/* Windows of at most TD_ARM_POOL_LIST taps walk a list of offsets, built when the window's shape changes. */
#define TD_ARM_POOL_LIST 9

typedef struct {
  const int8_t *at;            /* the first tap, channel 0 */
  int32_t rows, cols;          /* rows of taps, taps per row (a full-width window: one row of all taps) */
  int32_t depth, row_step;     /* bytes between taps of a row, between rows */
  int32_t count;               /* taps (the divisor of the mean) */
  int32_t listed;              /* > 0: the taps are the offsets off[0 .. listed) from at */
  int32_t off[TD_ARM_POOL_LIST];
} td_arm_window;

/* td_rounded_mean of td_pooling.c (sum 0 gives 0 with either sign of the half), branch-free. */
static inline int32_t td_arm_mean(int32_t sum, int32_t count) {
  const int32_t neg = sum >> 31, half = count / 2;
  return (sum + ((half ^ neg) - neg)) / count;
}

/* Halfword sums of four channels (0,2 and 1,3 in a[0], a[1]) over rows x cols taps from q (<= 256 taps). */
static inline void td_arm_sum4(const int8_t *q, int32_t rows, int32_t cols, int32_t depth, int32_t row_step,
                               int32_t *a) {
  int32_t a02 = 0, a13 = 0, y, x;
  for (y = rows; y > 0; --y, q += row_step) {
    const int8_t *t = q;
    for (x = cols >> 2; x > 0; --x) { /* four taps per iteration */
      const uint32_t w0 = td_arm_read4(t), w1 = td_arm_read4(t + depth);
      uint32_t w2, w3;
      t += 2 * depth;
      w2 = td_arm_read4(t);
      w3 = td_arm_read4(t + depth);
      t += 2 * depth;
      a02 = __sxtab16(__sxtab16(__sxtab16(__sxtab16(a02, (int32_t)w0), (int32_t)w1), (int32_t)w2), (int32_t)w3);
      a13 = td_arm_sxtab16_ror8(td_arm_sxtab16_ror8(td_arm_sxtab16_ror8(td_arm_sxtab16_ror8(a13, w0), w1), w2), w3);
    }
    if (cols & 2) {
      const uint32_t w0 = td_arm_read4(t), w1 = td_arm_read4(t + depth);
      a02 = __sxtab16(__sxtab16(a02, (int32_t)w0), (int32_t)w1);
      a13 = td_arm_sxtab16_ror8(td_arm_sxtab16_ror8(a13, w0), w1);
      t += 2 * depth;
    }
    if (cols & 1) {
      const uint32_t w0 = td_arm_read4(t);
      a02 = __sxtab16(a02, (int32_t)w0);
      a13 = td_arm_sxtab16_ror8(a13, w0);
    }
  }
  a[0] = a02;
  a[1] = a13;
}

/* The same over listed tap offsets. */
static inline void td_arm_sum4_list(const int8_t *q, const int32_t *off, int32_t n, int32_t *a) {
  int32_t a02 = 0, a13 = 0;
  for (; n >= 2; n -= 2, off += 2) {
    const uint32_t w0 = td_arm_read4(q + off[0]), w1 = td_arm_read4(q + off[1]);
    a02 = __sxtab16(__sxtab16(a02, (int32_t)w0), (int32_t)w1);
    a13 = td_arm_sxtab16_ror8(td_arm_sxtab16_ror8(a13, w0), w1);
  }
  if (n) {
    const uint32_t w0 = td_arm_read4(q + off[0]);
    a02 = __sxtab16(a02, (int32_t)w0);
    a13 = td_arm_sxtab16_ror8(a13, w0);
  }
  a[0] = a02;
  a[1] = a13;
}

/* The 32-bit sums s[0..3] of four channels over a window of more than 256 taps, in passes of at most 256
 * (the halfwords cannot overflow). */
static __attribute__((noinline)) void td_arm_sum4_big(const td_arm_window *w, const int8_t *q, int32_t *s) {
  const int32_t chunk = td_max32(256 / td_max32(w->cols, 1), 1); /* rows per pass */
  int32_t y, x, a[2];
  s[0] = s[1] = s[2] = s[3] = 0;
  for (y = 0; y < w->rows; y += chunk) {
    for (x = 0; x < w->cols; x += 256) {
      td_arm_sum4(q + y * w->row_step + x * w->depth, td_min32(chunk, w->rows - y), td_min32(256, w->cols - x),
                  w->depth, w->row_step, a);
      s[0] += (int16_t)a[0];
      s[1] += (int16_t)a[1];
      s[2] += a[0] >> 16;
      s[3] += a[1] >> 16;
    }
  }
}

static void td_arm_avg_pixel(const td_arm_window *w, int8_t *out) {
  const int32_t depth = w->depth, d4 = depth & ~(int32_t)3;
  int32_t c, y, x, count;
  for (c = 0; c < d4; c += 4) { /* the window's fields are read again after each store (it may alias them) */
    int32_t s[4];
    count = w->count;
    if (count <= 256) { /* the halfwords are the channels' sums */
      int32_t a[2];
      if (w->listed > 0) {
        td_arm_sum4_list(w->at + c, w->off, w->listed, a);
      } else {
        td_arm_sum4(w->at + c, w->rows, w->cols, depth, w->row_step, a);
      }
      s[0] = (int16_t)a[0];
      s[1] = (int16_t)a[1];
      s[2] = a[0] >> 16;
      s[3] = a[1] >> 16;
    } else {
      td_arm_sum4_big(w, w->at + c, s);
    }
    if (count > 0) {
      s[0] = td_arm_mean(s[0], count);
      s[1] = td_arm_mean(s[1], count);
      s[2] = td_arm_mean(s[2], count);
      s[3] = td_arm_mean(s[3], count);
    }
    td_arm_write4(out + c, td_arm_pack4(s[0], s[1], s[2], s[3]));
  }
  for (; c < depth; ++c) { /* leftover channels */
    int32_t sum = 0;
    for (y = 0; y < w->rows; ++y) {
      for (x = 0; x < w->cols; ++x) sum += w->at[y * w->row_step + x * depth + c];
    }
    count = w->count;
    out[c] = (int8_t)(count > 0 ? td_arm_mean(sum, count) : 0);
  }
}

static void td_arm_max_pixel(const td_arm_window *w, int8_t *out) {
  const int32_t depth = w->depth, d4 = depth & ~(int32_t)3;
  int32_t c, y, x;
  for (c = 0; c < d4; c += 4) { /* the window's fields are read again after each store (it may alias them) */
    const int8_t *q = w->at + c;
    uint32_t m = 0x80808080u; /* -128 in every lane to start, as the reference */
    if (w->listed > 0) {
      const int32_t *off = w->off;
      int32_t n;
      for (n = w->listed; n >= 2; n -= 2, off += 2) {
        m = td_arm_max4(td_arm_max4(m, td_arm_read4(q + off[0])), td_arm_read4(q + off[1]));
      }
      if (n) m = td_arm_max4(m, td_arm_read4(q + off[0]));
    } else {
      const int32_t rows = w->rows, cols = w->cols, row_step = w->row_step;
      for (y = rows; y > 0; --y, q += row_step) {
        const int8_t *t = q;
        for (x = cols >> 1; x > 0; --x, t += 2 * depth) {
          m = td_arm_max4(td_arm_max4(m, td_arm_read4(t)), td_arm_read4(t + depth));
        }
        if (cols & 1) m = td_arm_max4(m, td_arm_read4(t));
      }
    }
    td_arm_write4(out + c, m);
  }
  for (; c < depth; ++c) { /* leftover channels */
    int32_t m = -128;
    for (y = 0; y < w->rows; ++y) {
      for (x = 0; x < w->cols; ++x) m = td_max32(m, w->at[y * w->row_step + x * depth + c]);
    }
    out[c] = (int8_t)m;
  }
}

/* The output pixels in the reference's order, each one's window clipped to the input (the box computed
 * as td_pooling.c does), then a fused activation narrower than int8 over the whole output. */
static void td_arm_pool(const td_pool_params *p, const int8_t *input, int8_t *out,
                        void (*pixel)(const td_arm_window *, int8_t *)) {
  const int32_t depth = p->input.c, row_step = p->input.w * depth;
  int32_t b, oy, ox, n;
  td_arm_window w;
  w.depth = depth;
  w.count = w.listed = w.row_step = 0;
  w.rows = w.cols = -1;
  for (b = 0; b < p->input.n; ++b) {
    for (oy = 0; oy < p->output.h; ++oy) {
      const int32_t in_y = oy * p->window.stride_h - p->window.pad_h, y0 = td_max32(0, in_y);
      const int32_t rows = td_max32(td_min32(p->input.h, in_y + p->window.filter_h) - y0, 0);
      const int8_t *in_row = input + (b * p->input.h + y0) * row_step;
      for (ox = 0; ox < p->output.w; ++ox, out += depth) {
        const int32_t in_x = ox * p->window.stride_w - p->window.pad_w, x0 = td_max32(0, in_x);
        const int32_t cols = td_max32(td_min32(p->input.w, in_x + p->window.filter_w) - x0, 0);
        const int full = cols == p->input.w && rows > 1; /* whole rows: contiguous, one run */
        const int32_t run_rows = full ? 1 : rows, run_cols = full ? rows * cols : cols;
        if (run_rows != w.rows || run_cols != w.cols) {
          int32_t y, x, k = 0; /* the window's shape changed (at a border): its layout and tap list */
          w.count = rows * cols;
          w.rows = run_rows;
          w.cols = run_cols;
          w.row_step = full ? 0 : row_step;
          for (y = 0; y < rows && w.count <= TD_ARM_POOL_LIST; ++y) {
            for (x = 0; x < cols; ++x) w.off[k++] = y * row_step + x * depth;
          }
          w.listed = k;
        }
        w.at = in_row + x0 * depth;
        pixel(&w, out);
      }
    }
  }
  n = p->output.n * p->output.h * p->output.w * depth;
  if (p->activation.min > -128 || p->activation.max < 127) {
    const int32_t lo = p->activation.min, hi = p->activation.max;
    const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
    for (out -= n; n >= 4; n -= 4, out += 4) td_arm_write4(out, td_arm_min4(td_arm_max4(td_arm_read4(out), lo4), hi4));
    for (; n > 0; --n, ++out) *out = (int8_t)td_clamp(*out, lo, hi);
  }
}

void td_avg_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output) {
  td_arm_pool(p, input, output, td_arm_avg_pixel);
}

void td_max_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output) {
  td_arm_pool(p, input, output, td_arm_max_pixel);
}

#else
typedef int td_arm_pooling_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
