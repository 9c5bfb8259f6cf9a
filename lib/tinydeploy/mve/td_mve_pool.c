/*
 * int8 AVERAGE_POOL_2D and MAX_POOL_2D for Cortex-M55/M85 with Helium (MVE): the arm-mve variants of
 * td_avg_pool_s8 / td_max_pool_s8 (td_pooling.c), bit-exact with them, on the same parameters.
 * Max: sixteen channels per vector, one load and one VMAX per window tap. Average: eight channels per
 * vector (four vectors per pass where 32 channels remain) summed in halfword lanes (|sum| <= 128 * 256 fits for windows of up to 256 taps; larger windows
 * sum four channels in word lanes), then the mean rounded half away from zero over the taps inside the
 * input, lane by lane with a hardware division. Output pixels are written in the reference's order, a
 * block of channels after the windows it reads, so row streaming over the input stays safe.
 */
#include "td_mve_dw.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>

#include "td_kernel.h"

/* The window of one output pixel clipped to the input: taps at `at` + y * row + x * depth. */
typedef struct {
  const int8_t *at;
  int32_t rows, cols, row, depth, count;
} td_mve_win;

static td_mve_win td_mve_window(const td_pool_params *p, const int8_t *in_b, int32_t oy, int32_t ox) {
  const td_window *w = &p->window;
  const int32_t in_y = oy * w->stride_h - w->pad_h, in_x = ox * w->stride_w - w->pad_w;
  const int32_t y0 = td_max32(0, in_y), y1 = td_min32(p->input.h, in_y + w->filter_h);
  const int32_t x0 = td_max32(0, in_x), x1 = td_min32(p->input.w, in_x + w->filter_w);
  td_mve_win v;
  v.depth = p->input.c;
  v.row = p->input.w * v.depth;
  v.at = in_b + y0 * v.row + x0 * v.depth;
  v.rows = y1 - y0;
  v.cols = x1 - x0;
  v.count = v.rows * v.cols;
  return v;
}

/* td_rounded_mean of td_pooling.c, clamped to the activation. */
static inline int8_t td_mve_mean(int32_t sum, int32_t count, int32_t lo, int32_t hi) {
  const int32_t neg = sum >> 31, half = count / 2;
  return (int8_t)td_clamp(count > 0 ? (sum + ((half ^ neg) - neg)) / count : 0, lo, hi);
}

/* n (<= 8) channels of one pixel's average: halfword sums (count <= 256). */
static void td_mve_avg8(const td_mve_win *v, int32_t c, int32_t n, int8_t *out, int32_t lo, int32_t hi) {
  const mve_pred16_t pr = vctp16q((uint32_t)n);
  int16x8_t acc = vdupq_n_s16(0);
  int16_t sums[8];
  int32_t y, x, i;
  for (y = 0; y < v->rows; ++y) {
    const int8_t *q = v->at + y * v->row + c;
    if (n == 8) /* (a predicated load costs a VPST more) */
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vaddq_s16(acc, vldrbq_s16(q));
    else
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vaddq_s16(acc, vldrbq_z_s16(q, pr));
  }
  vst1q_s16(sums, acc);
  for (i = 0; i < n; ++i) out[c + i] = td_mve_mean(sums[i], v->count, lo, hi);
}

/* 32 channels of one pixel's average: four halfword sums per tap pass (count <= 256). */
static void td_mve_avg32(const td_mve_win *v, int32_t c, int8_t *out, int32_t lo, int32_t hi) {
  int16x8_t a0 = vdupq_n_s16(0), a1 = a0, a2 = a0, a3 = a0;
  int16_t sums[32];
  int32_t y, x, i;
  for (y = 0; y < v->rows; ++y) {
    const int8_t *q = v->at + y * v->row + c;
    for (x = 0; x < v->cols; ++x, q += v->depth) {
      a0 = vaddq_s16(a0, vldrbq_s16(q));
      a1 = vaddq_s16(a1, vldrbq_s16(q + 8));
      a2 = vaddq_s16(a2, vldrbq_s16(q + 16));
      a3 = vaddq_s16(a3, vldrbq_s16(q + 24));
    }
  }
  vst1q_s16(sums, a0);
  vst1q_s16(sums + 8, a1);
  vst1q_s16(sums + 16, a2);
  vst1q_s16(sums + 24, a3);
  for (i = 0; i < 32; ++i) out[c + i] = td_mve_mean(sums[i], v->count, lo, hi);
}

/* n (<= 4) channels of one pixel's average: word sums (any count). */
static void td_mve_avg4(const td_mve_win *v, int32_t c, int32_t n, int8_t *out, int32_t lo, int32_t hi) {
  const mve_pred16_t pr = vctp32q((uint32_t)n);
  int32x4_t acc = vdupq_n_s32(0);
  int32_t sums[4];
  int32_t y, x, i;
  for (y = 0; y < v->rows; ++y) {
    const int8_t *q = v->at + y * v->row + c;
    if (n == 4)
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vaddq_s32(acc, vldrbq_s32(q));
    else
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vaddq_s32(acc, vldrbq_z_s32(q, pr));
  }
  vst1q_s32(sums, acc);
  for (i = 0; i < n; ++i) out[c + i] = td_mve_mean(sums[i], v->count, lo, hi);
}

/* n (<= 16) channels of one pixel's maximum, clamped to the activation. */
static void td_mve_max16(const td_mve_win *v, int32_t c, int32_t n, int8_t *out, int8x16_t lo, int8x16_t hi) {
  const mve_pred16_t pr = vctp8q((uint32_t)n);
  int8x16_t acc = vdupq_n_s8(-128);
  int32_t y, x;
  for (y = 0; y < v->rows; ++y) {
    const int8_t *q = v->at + y * v->row + c;
    if (n == 16)
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vmaxq_s8(acc, vldrbq_s8(q));
    else
      for (x = 0; x < v->cols; ++x, q += v->depth) acc = vmaxq_s8(acc, vldrbq_z_s8(q, pr));
  }
  vstrbq_p_s8(out + c, vminq_s8(vmaxq_s8(acc, lo), hi), pr);
}

/* Every output pixel in order; max: the maximum, else the average. */
static void td_mve_pool(const td_pool_params *p, const int8_t *input, int8_t *output, int max) {
  const int32_t depth = p->input.c, lo = p->activation.min, hi = p->activation.max;
  const int8x16_t lo16 = vdupq_n_s8((int8_t)lo), hi16 = vdupq_n_s8((int8_t)hi);
  int32_t b, oy, ox, c;
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in_b = input + b * p->input.h * p->input.w * depth;
    for (oy = 0; oy < p->output.h; ++oy)
      for (ox = 0; ox < p->output.w; ++ox, output += depth) {
        const td_mve_win v = td_mve_window(p, in_b, oy, ox);
        if (max)
          for (c = 0; c < depth; c += 16) td_mve_max16(&v, c, td_min32(16, depth - c), output, lo16, hi16);
        else if (v.count <= 256) {
          for (c = 0; c + 32 <= depth; c += 32) td_mve_avg32(&v, c, output, lo, hi);
          for (; c < depth; c += 8) td_mve_avg8(&v, c, td_min32(8, depth - c), output, lo, hi);
        }
        else
          for (c = 0; c < depth; c += 4) td_mve_avg4(&v, c, td_min32(4, depth - c), output, lo, hi);
      }
  }
}

void td_avg_pool_s8_mve(const td_pool_params *p, const int8_t *input, int8_t *output) {
  td_mve_pool(p, input, output, 0);
}

void td_max_pool_s8_mve(const td_pool_params *p, const int8_t *input, int8_t *output) {
  td_mve_pool(p, input, output, 1);
}

#else
typedef int td_mve_pool_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
