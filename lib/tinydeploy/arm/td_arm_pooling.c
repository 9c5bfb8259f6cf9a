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

/* The window of one output pixel clipped to the input: rows [y0, y1), columns [x0, x1). */
typedef struct {
  int32_t y0, y1, x0, x1;
} td_arm_box;

static inline td_arm_box td_arm_pool_box(const td_pool_params *p, int32_t oy, int32_t ox) {
  const td_window *win = &p->window;
  const int32_t in_y = oy * win->stride_h - win->pad_h, in_x = ox * win->stride_w - win->pad_w;
  td_arm_box b;
  b.y0 = td_max32(0, in_y);
  b.y1 = td_min32(p->input.h, in_y + win->filter_h);
  b.x0 = td_max32(0, in_x);
  b.x1 = td_min32(p->input.w, in_x + win->filter_w);
  return b;
}

/* td_rounded_mean of td_pooling.c (sum 0 gives 0 with either sign of the half), branch-free. */
static inline int32_t td_arm_mean(int32_t sum, int32_t count) {
  const int32_t neg = sum >> 31, half = count / 2;
  return (sum + ((half ^ neg) - neg)) / count;
}

/* A fused activation narrower than int8 over the finished output, four bytes at a time. */
static void td_arm_pool_clamp(const td_pool_params *p, int8_t *out) {
  const int32_t lo = p->activation.min, hi = p->activation.max;
  const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
  int32_t n = p->output.n * p->output.h * p->output.w * p->output.c;
  if (lo <= -128 && hi >= 127) return;
  for (; n >= 4; n -= 4, out += 4) td_arm_write4(out, td_arm_min4(td_arm_max4(td_arm_read4(out), lo4), hi4));
  for (; n > 0; --n, ++out) *out = (int8_t)td_clamp(*out, lo, hi);
}

/* The window's taps of four channels: `rows` rows of `cols` taps from `at`; a full-width window (rows
 * contiguous in memory) is walked as one row. */
typedef struct {
  int32_t rows, cols, depth, row_step;
} td_arm_taps;

static inline td_arm_taps td_arm_window_taps(int32_t rows, int32_t cols, int32_t depth, int32_t row_step) {
  td_arm_taps t;
  const int full = cols * depth == row_step;
  t.rows = full ? 1 : rows;
  t.cols = full ? rows * cols : cols;
  t.depth = depth;
  t.row_step = row_step;
  return t;
}

/* Halfword sums of four channels over the taps (at most 256 of them): channels 0,2 and 1,3. */
static inline void td_arm_sum4(const int8_t *at, td_arm_taps t, int32_t *s02, int32_t *s13) {
  int32_t a02 = 0, a13 = 0, y, x;
  for (y = t.rows; y > 0; --y, at += t.row_step) {
    const int8_t *q = at;
    for (x = t.cols >> 1; x > 0; --x, q += 2 * t.depth) {
      const uint32_t w0 = td_arm_read4(q), w1 = td_arm_read4(q + t.depth);
      a02 = __sxtab16(a02, (int32_t)w0);
      a13 = td_arm_sxtab16_ror8(a13, w0);
      a02 = __sxtab16(a02, (int32_t)w1);
      a13 = td_arm_sxtab16_ror8(a13, w1);
    }
    if (t.cols & 1) {
      const uint32_t w0 = td_arm_read4(q);
      a02 = __sxtab16(a02, (int32_t)w0);
      a13 = td_arm_sxtab16_ror8(a13, w0);
    }
  }
  *s02 = a02;
  *s13 = a13;
}

/* Small windows (at most TD_ARM_POOL_LIST taps) walk a list of the taps' offsets from the window's
 * corner, built once per output pixel: no row loop per channel group. */
#define TD_ARM_POOL_LIST 16

static inline int32_t td_arm_tap_list(int32_t *off, int32_t rows, int32_t cols, int32_t depth, int32_t row_step) {
  int32_t y, x, k = 0;
  for (y = 0; y < rows; ++y) {
    for (x = 0; x < cols; ++x) off[k++] = y * row_step + x * depth;
  }
  return k;
}

static inline void td_arm_sum4_list(const int8_t *at, const int32_t *off, int32_t n, int32_t *s02, int32_t *s13) {
  int32_t a02 = 0, a13 = 0, k;
  for (k = n >> 1; k > 0; --k, off += 2) {
    const uint32_t w0 = td_arm_read4(at + off[0]), w1 = td_arm_read4(at + off[1]);
    a02 = __sxtab16(a02, (int32_t)w0);
    a13 = td_arm_sxtab16_ror8(a13, w0);
    a02 = __sxtab16(a02, (int32_t)w1);
    a13 = td_arm_sxtab16_ror8(a13, w1);
  }
  if (n & 1) {
    const uint32_t w0 = td_arm_read4(at + off[0]);
    a02 = __sxtab16(a02, (int32_t)w0);
    a13 = td_arm_sxtab16_ror8(a13, w0);
  }
  *s02 = a02;
  *s13 = a13;
}

static inline uint32_t td_arm_max_list(const int8_t *at, const int32_t *off, int32_t n, uint32_t m) {
  int32_t k;
  for (k = n >> 1; k > 0; --k, off += 2) {
    m = td_arm_max4(m, td_arm_read4(at + off[0]));
    m = td_arm_max4(m, td_arm_read4(at + off[1]));
  }
  if (n & 1) m = td_arm_max4(m, td_arm_read4(at + off[0]));
  return m;
}

/* Bytewise maximum of four channels over the taps, from m. */
static inline uint32_t td_arm_max_taps(const int8_t *at, td_arm_taps t, uint32_t m) {
  int32_t y, x;
  for (y = t.rows; y > 0; --y, at += t.row_step) {
    const int8_t *q = at;
    for (x = t.cols >> 1; x > 0; --x, q += 2 * t.depth) {
      m = td_arm_max4(m, td_arm_read4(q));
      m = td_arm_max4(m, td_arm_read4(q + t.depth));
    }
    if (t.cols & 1) m = td_arm_max4(m, td_arm_read4(q));
  }
  return m;
}

void td_avg_pool_s8_arm_dsp(const td_pool_params *params, const int8_t *input, int8_t *output) {
  const td_pool_params local = *params; /* not reloaded after every store through int8_t * */
  const td_pool_params *const p = &local;
  const int32_t depth = p->input.c, d4 = depth & ~(int32_t)3, fw = p->window.filter_w;
  const int32_t row_step = p->input.w * depth;
  int8_t *const out0 = output;
  int32_t off[TD_ARM_POOL_LIST], listed = -1, list_rows = -1, list_cols = -1, b, oy, ox, c;
  if (fw > 256) { /* one row would overflow the halfword sums */
    td_avg_pool_s8(params, input, output);
    return;
  }
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * row_step;
    for (oy = 0; oy < p->output.h; ++oy) {
      for (ox = 0; ox < p->output.w; ++ox) {
        const td_arm_box box = td_arm_pool_box(p, oy, ox);
        const int32_t cols = td_max32(box.x1 - box.x0, 0), rows = td_max32(box.y1 - box.y0, 0);
        const int32_t count = rows * cols, chunk = 256 / td_max32(cols, 1); /* rows per halfword chunk */
        const int8_t *at = in_b + box.y0 * row_step + box.x0 * depth;
        const td_arm_taps all = td_arm_window_taps(rows, cols, depth, row_step);
        if (rows != list_rows || cols != list_cols) { /* the window's shape changed (at a border) */
          listed = count <= TD_ARM_POOL_LIST ? td_arm_tap_list(off, rows, cols, depth, row_step) : -1;
          list_rows = rows;
          list_cols = cols;
        }
        for (c = 0; c < d4; c += 4) {
          int32_t s0, s1, s2, s3, a02, a13, y;
          if (rows <= chunk) { /* the usual window: one pass */
            if (listed >= 0) {
              td_arm_sum4_list(at + c, off, listed, &a02, &a13);
            } else {
              td_arm_sum4(at + c, all, &a02, &a13);
            }
            s0 = (int16_t)a02; /* the halfwords are the channels' sums */
            s1 = (int16_t)a13;
            s2 = a02 >> 16;
            s3 = a13 >> 16;
          } else {
            s0 = s1 = s2 = s3 = 0;
            for (y = 0; y < rows; y += chunk) {
              td_arm_sum4(at + y * row_step + c, td_arm_window_taps(td_min32(chunk, rows - y), cols, depth, row_step),
                          &a02, &a13);
              s0 += (int16_t)a02;
              s1 += (int16_t)a13;
              s2 += a02 >> 16;
              s3 += a13 >> 16;
            }
          }
          if (count > 0) {
            s0 = td_arm_mean(s0, count);
            s1 = td_arm_mean(s1, count);
            s2 = td_arm_mean(s2, count);
            s3 = td_arm_mean(s3, count);
          }
          td_arm_write4(output + c, td_arm_pack4(s0, s1, s2, s3));
        }
        for (; c < depth; ++c) { /* leftover channels */
          int32_t sum = 0, y, x;
          for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) sum += at[y * row_step + x * depth + c];
          }
          output[c] = (int8_t)(count > 0 ? td_arm_mean(sum, count) : 0);
        }
        output += depth;
      }
    }
  }
  td_arm_pool_clamp(p, out0);
}

void td_max_pool_s8_arm_dsp(const td_pool_params *params, const int8_t *input, int8_t *output) {
  const td_pool_params local = *params; /* not reloaded after every store through int8_t * */
  const td_pool_params *const p = &local;
  const int32_t depth = p->input.c, d4 = depth & ~(int32_t)3;
  const int32_t row_step = p->input.w * depth;
  int8_t *const out0 = output;
  int32_t off[TD_ARM_POOL_LIST], listed = -1, list_rows = -1, list_cols = -1, b, oy, ox, c, y, x;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * row_step;
    for (oy = 0; oy < p->output.h; ++oy) {
      for (ox = 0; ox < p->output.w; ++ox) {
        const td_arm_box box = td_arm_pool_box(p, oy, ox);
        const int32_t cols = td_max32(box.x1 - box.x0, 0), rows = td_max32(box.y1 - box.y0, 0);
        const int8_t *at = in_b + box.y0 * row_step + box.x0 * depth;
        const td_arm_taps all = td_arm_window_taps(rows, cols, depth, row_step);
        if (rows != list_rows || cols != list_cols) { /* the window's shape changed (at a border) */
          listed = rows * cols <= TD_ARM_POOL_LIST ? td_arm_tap_list(off, rows, cols, depth, row_step) : -1;
          list_rows = rows;
          list_cols = cols;
        }
        for (c = 0; c < d4; c += 4) { /* -128 in every lane to start, as the reference */
          td_arm_write4(output + c, listed >= 0 ? td_arm_max_list(at + c, off, listed, 0x80808080u)
                                                : td_arm_max_taps(at + c, all, 0x80808080u));
        }
        for (; c < depth; ++c) { /* leftover channels */
          int32_t m = -128;
          for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) m = td_max32(m, at[y * row_step + x * depth + c]);
          }
          output[c] = (int8_t)m;
        }
        output += depth;
      }
    }
  }
  td_arm_pool_clamp(p, out0);
}

#else
typedef int td_arm_pooling_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
