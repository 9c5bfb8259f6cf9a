/* Pooling kernels, bit-exact with TFLite's reference_integer_ops::AveragePool / MaxPool. */
#include "td_pooling.h"

#include "td_kernel.h"

static int32_t td_rounded_mean(int32_t sum, int32_t count) {
  if (count <= 0) return 0;
  return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* What a pooling variant does with the window: start value, one step per element, the result. */
#define TD_POOL_SUM(acc, v) ((acc) + (v))
#define TD_POOL_MEAN(acc, count) td_rounded_mean(acc, count)
#define TD_POOL_MAX(acc, v) ((v) > (acc) ? (v) : (acc))
#define TD_POOL_KEEP(acc, count) (acc)

/* One pooling variant on T elements over the window clipped to the input. */
#define TD_DEFINE_POOL(NAME, T, INIT, STEP, RESULT)                                              \
  void NAME(const td_pool_params *p, const T *input, T *output) {                               \
    const td_window *win = &p->window;                                                          \
    const int32_t depth = p->input.c;                                                           \
    int32_t b, oy, ox, c, y, x;                                                                 \
    for (b = 0; b < p->input.n; ++b) {                                                          \
      const T *in_b = input + b * p->input.h * p->input.w * depth;                              \
      for (oy = 0; oy < p->output.h; ++oy) {                                                    \
        /* the window clipped to the input (dilation 1): rows [y0, y1), columns [x0, x1) */     \
        const int32_t in_y = oy * win->stride_h - win->pad_h;                                   \
        const int32_t y0 = td_max32(0, in_y), y1 = td_min32(p->input.h, in_y + win->filter_h);  \
        for (ox = 0; ox < p->output.w; ++ox) {                                                  \
          const int32_t in_x = ox * win->stride_w - win->pad_w;                                 \
          const int32_t x0 = td_max32(0, in_x);                                                 \
          const int32_t x1 = td_min32(p->input.w, in_x + win->filter_w);                        \
          for (c = 0; c < depth; ++c) {                                                         \
            int32_t acc = INIT;                                                                 \
            for (y = y0; y < y1; ++y) {                                                         \
              const T *row = in_b + (y * p->input.w) * depth + c;                               \
              for (x = x0; x < x1; ++x) {                                                       \
                const int32_t v = row[x * depth];                                               \
                acc = STEP(acc, v);                                                             \
              }                                                                                 \
            }                                                                                   \
            acc = RESULT(acc, (y1 - y0) * (x1 - x0));                                           \
            *output++ = (T)td_clamp(acc, p->activation.min, p->activation.max);                 \
          }                                                                                     \
        }                                                                                       \
      }                                                                                         \
    }                                                                                           \
  }

TD_DEFINE_POOL(td_avg_pool_s8, int8_t, 0, TD_POOL_SUM, TD_POOL_MEAN)
TD_DEFINE_POOL(td_avg_pool_s16, int16_t, 0, TD_POOL_SUM, TD_POOL_MEAN)
TD_DEFINE_POOL(td_max_pool_s8, int8_t, -128, TD_POOL_MAX, TD_POOL_KEEP)
TD_DEFINE_POOL(td_max_pool_s16, int16_t, -32768L, TD_POOL_MAX, TD_POOL_KEEP)
