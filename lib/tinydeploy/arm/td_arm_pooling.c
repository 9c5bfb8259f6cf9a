/*
 * int8 AVERAGE_POOL_2D and MAX_POOL_2D for Arm cores with the DSP extension (Cortex-M4/M7/M33/M55):
 * the arm-dsp variants of td_avg_pool_s8 / td_max_pool_s8, bit-exact with them, on the same
 * parameters. Four channels at a time: one word load per window tap; the average adds the bytes into
 * two halfword pairs (SXTAB16, and SXTAB16 of the word rotated by 8: channels 0,2 and 1,3), moved to
 * 32-bit sums every 256 taps at the latest (|sum| <= 128 * 256 fits a halfword); the maximum is
 * SSUB8 + SEL. The mean is rounded half away from zero over the taps inside the input, as LiteRT.
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

/* td_rounded_mean of td_pooling.c. */
static inline int32_t td_arm_mean(int32_t sum, int32_t count) {
  const int32_t half = count / 2;
  return sum > 0 ? (sum + half) / count : (sum - half) / count;
}

/* The sums of four channels over `rows` rows of `cols` taps (rows * cols <= 256) added to s[0..3]. */
static inline void td_arm_sum4(const int8_t *at, int32_t rows, int32_t cols, int32_t depth, int32_t row_step,
                               int32_t *s) {
  int32_t a02 = 0, a13 = 0, y, x;
  for (y = 0; y < rows; ++y, at += row_step) {
    const int8_t *q = at;
    for (x = cols >> 1; x > 0; --x) {
      const uint32_t w0 = td_arm_read4(q), w1 = td_arm_read4(q + depth);
      a02 = __sxtab16(a02, (int32_t)w0);
      a13 = td_arm_sxtab16_ror8(a13, w0);
      a02 = __sxtab16(a02, (int32_t)w1);
      a13 = td_arm_sxtab16_ror8(a13, w1);
      q += 2 * depth;
    }
    if (cols & 1) {
      const uint32_t w0 = td_arm_read4(q);
      a02 = __sxtab16(a02, (int32_t)w0);
      a13 = td_arm_sxtab16_ror8(a13, w0);
    }
  }
  s[0] += (int16_t)a02; /* the halfwords are the channels' sums */
  s[1] += (int16_t)a13;
  s[2] += a02 >> 16;
  s[3] += a13 >> 16;
}

void td_avg_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t depth = p->input.c, d4 = depth & ~(int32_t)3, fw = p->window.filter_w;
  const int32_t row_step = p->input.w * depth, lo = p->activation.min, hi = p->activation.max;
  const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
  int32_t b, oy, ox, c;
  if (fw > 256) { /* one row would overflow the halfword sums */
    td_avg_pool_s8(p, input, output);
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
        for (c = 0; c < d4; c += 4) {
          int32_t s[4] = {0, 0, 0, 0}, y;
          for (y = 0; y < rows; y += chunk) td_arm_sum4(at + y * row_step + c, td_min32(chunk, rows - y), cols, depth,
                                                        row_step, s);
          if (count > 0) {
            s[0] = td_arm_mean(s[0], count);
            s[1] = td_arm_mean(s[1], count);
            s[2] = td_arm_mean(s[2], count);
            s[3] = td_arm_mean(s[3], count);
          }
          td_arm_write4(output + c, td_arm_min4(td_arm_max4(td_arm_pack4(s[0], s[1], s[2], s[3]), lo4), hi4));
        }
        for (; c < depth; ++c) { /* leftover channels */
          int32_t sum = 0, y, x;
          for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) sum += at[y * row_step + x * depth + c];
          }
          output[c] = (int8_t)td_clamp(count > 0 ? td_arm_mean(sum, count) : 0, lo, hi);
        }
        output += depth;
      }
    }
  }
}

void td_max_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output) {
  const int32_t depth = p->input.c, d4 = depth & ~(int32_t)3;
  const int32_t row_step = p->input.w * depth, lo = p->activation.min, hi = p->activation.max;
  const uint32_t lo4 = td_arm_splat4(lo), hi4 = td_arm_splat4(hi);
  int32_t b, oy, ox, c, y, x;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * row_step;
    for (oy = 0; oy < p->output.h; ++oy) {
      for (ox = 0; ox < p->output.w; ++ox) {
        const td_arm_box box = td_arm_pool_box(p, oy, ox);
        const int32_t cols = td_max32(box.x1 - box.x0, 0), rows = td_max32(box.y1 - box.y0, 0);
        const int8_t *at = in_b + box.y0 * row_step + box.x0 * depth;
        for (c = 0; c < d4; c += 4) {
          uint32_t m = 0x80808080u; /* -128 in every lane */
          const int8_t *row = at + c;
          for (y = 0; y < rows; ++y, row += row_step) {
            const int8_t *q = row;
            for (x = 0; x < cols; ++x, q += depth) m = td_arm_max4(m, td_arm_read4(q));
          }
          td_arm_write4(output + c, td_arm_min4(td_arm_max4(m, lo4), hi4));
        }
        for (; c < depth; ++c) { /* leftover channels */
          int32_t m = -128;
          for (y = 0; y < rows; ++y) {
            for (x = 0; x < cols; ++x) m = td_max32(m, at[y * row_step + x * depth + c]);
          }
          output[c] = (int8_t)td_clamp(m, lo, hi);
        }
        output += depth;
      }
    }
  }
}

#else
typedef int td_arm_pooling_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
