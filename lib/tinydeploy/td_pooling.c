/* Pooling kernels, bit-exact with TFLite's reference_integer_ops::AveragePool / MaxPool. */
#include "td_pooling.h"

#include "td_math.h"

/* Window of output pixel (oy, ox) clipped to the input: rows [*y0, *y1), columns [*x0, *x1). */
static void td_pool_window(const td_pool_params *p, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1,
                           int32_t *x0, int32_t *x1) {
  const int32_t in_y = oy * p->stride_height - p->pad_height;
  const int32_t in_x = ox * p->stride_width - p->pad_width;
  *y0 = td_max32(0, in_y);
  *y1 = td_min32(p->input_height, in_y + p->filter_height);
  *x0 = td_max32(0, in_x);
  *x1 = td_min32(p->input_width, in_x + p->filter_width);
}

static int32_t td_rounded_mean(int32_t sum, int32_t count) {
  if (count <= 0) return 0;
  return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

#define TD_DEFINE_AVG_POOL(NAME, T)                                                             \
  void NAME(const td_pool_params *p, const T *input, T *output) {                              \
    int32_t b, oy, ox, c, y, x, y0, y1, x0, x1;                                                \
    for (b = 0; b < p->batches; ++b) {                                                         \
      const T *in_b = input + b * p->input_height * p->input_width * p->depth;                 \
      for (oy = 0; oy < p->output_height; ++oy) {                                              \
        for (ox = 0; ox < p->output_width; ++ox) {                                             \
          td_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);                                       \
          for (c = 0; c < p->depth; ++c) {                                                     \
            int32_t sum = 0;                                                                   \
            for (y = y0; y < y1; ++y) {                                                        \
              const T *row = in_b + (y * p->input_width) * p->depth + c;                       \
              for (x = x0; x < x1; ++x) sum += row[x * p->depth];                              \
            }                                                                                  \
            sum = td_rounded_mean(sum, (y1 - y0) * (x1 - x0));                                 \
            *output++ = (T)td_clamp(sum, p->act_min, p->act_max);                              \
          }                                                                                    \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }

#define TD_DEFINE_MAX_POOL(NAME, T, LOWEST)                                                     \
  void NAME(const td_pool_params *p, const T *input, T *output) {                              \
    int32_t b, oy, ox, c, y, x, y0, y1, x0, x1;                                                \
    for (b = 0; b < p->batches; ++b) {                                                         \
      const T *in_b = input + b * p->input_height * p->input_width * p->depth;                 \
      for (oy = 0; oy < p->output_height; ++oy) {                                              \
        for (ox = 0; ox < p->output_width; ++ox) {                                             \
          td_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);                                       \
          for (c = 0; c < p->depth; ++c) {                                                     \
            int32_t m = LOWEST;                                                                \
            for (y = y0; y < y1; ++y) {                                                        \
              const T *row = in_b + (y * p->input_width) * p->depth + c;                       \
              for (x = x0; x < x1; ++x) {                                                      \
                const int32_t v = row[x * p->depth];                                           \
                if (v > m) m = v;                                                              \
              }                                                                                \
            }                                                                                  \
            *output++ = (T)td_clamp(m, p->act_min, p->act_max);                                \
          }                                                                                    \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
  }

TD_DEFINE_AVG_POOL(td_avg_pool_s8, int8_t)
TD_DEFINE_AVG_POOL(td_avg_pool_s16, int16_t)
TD_DEFINE_MAX_POOL(td_max_pool_s8, int8_t, -128)
TD_DEFINE_MAX_POOL(td_max_pool_s16, int16_t, -32768L)
