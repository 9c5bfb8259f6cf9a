/*
 * AVERAGE_POOL_2D / MAX_POOL_2D int8 for RV32IMC (kernels="riscv"), bit-exact with td_avg_pool_s8 /
 * td_max_pool_s8: four channels per pass over the (clipped) window, in four registers, so each step is a
 * load and an add (or a compare) with the window's address arithmetic shared by the four.
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

/* sum > 0: (sum + count / 2) / count, else (sum - count / 2) / count; 0 for an empty window, as the reference. */
static inline int32_t td_rv_mean(int32_t sum, int32_t count) {
  if (count <= 0) return 0;
  return (sum > 0 ? sum + count / 2 : sum - count / 2) / count;
}

#define TD_RV_MAX(a, v) ((v) > (a) ? (v) : (a))

/* One pooling kernel: INIT the accumulators' start, STEP(acc, v) per element, RESULT(acc, count). */
#define TD_RV_DEFINE_POOL(NAME, INIT, STEP, RESULT)                                                       \
  void NAME(const td_pool_params *p, const int8_t *input, int8_t *output) {                              \
    const td_window *win = &p->window;                                                                  \
    const int32_t c = p->input.c, c4 = c - (c & 3), row = p->input.w * c;                               \
    const int32_t lo = p->activation.min, hi = p->activation.max;                                       \
    int32_t b, oy, ox, ch, y, x;                                                                        \
    for (b = 0; b < p->input.n; ++b) {                                                                  \
      const int8_t *in_b = input + b * p->input.h * row;                                                \
      for (oy = 0; oy < p->output.h; ++oy) {                                                            \
        const int32_t in_y = oy * win->stride_h - win->pad_h;                                           \
        const int32_t y0 = td_max32(0, in_y), y1 = td_min32(p->input.h, in_y + win->filter_h);          \
        for (ox = 0; ox < p->output.w; ++ox, output += c) {                                             \
          const int32_t in_x = ox * win->stride_w - win->pad_w;                                         \
          const int32_t x0 = td_max32(0, in_x), x1 = td_min32(p->input.w, in_x + win->filter_w);        \
          const int32_t count = (y1 - y0) * (x1 - x0);                                                  \
          const int8_t *start = in_b + y0 * row + x0 * c;                                               \
          for (ch = 0; ch < c4; ch += 4) {                                                              \
            int32_t a0 = INIT, a1 = INIT, a2 = INIT, a3 = INIT;                                         \
            const int8_t *r = start + ch;                                                               \
            for (y = y0; y < y1; ++y, r += row) {                                                       \
              const int8_t *v = r;                                                                      \
              for (x = x0; x < x1; ++x, v += c) {                                                       \
                a0 = STEP(a0, v[0]); a1 = STEP(a1, v[1]); a2 = STEP(a2, v[2]); a3 = STEP(a3, v[3]);     \
              }                                                                                         \
            }                                                                                           \
            output[ch] = (int8_t)td_clamp(RESULT(a0, count), lo, hi);                                   \
            output[ch + 1] = (int8_t)td_clamp(RESULT(a1, count), lo, hi);                               \
            output[ch + 2] = (int8_t)td_clamp(RESULT(a2, count), lo, hi);                               \
            output[ch + 3] = (int8_t)td_clamp(RESULT(a3, count), lo, hi);                               \
          }                                                                                             \
          for (; ch < c; ++ch) {                                                                        \
            int32_t a = INIT;                                                                           \
            const int8_t *r = start + ch;                                                               \
            for (y = y0; y < y1; ++y, r += row) {                                                       \
              for (x = 0; x < x1 - x0; ++x) a = STEP(a, r[x * c]);                                      \
            }                                                                                           \
            output[ch] = (int8_t)td_clamp(RESULT(a, count), lo, hi);                                    \
          }                                                                                             \
        }                                                                                               \
      }                                                                                                 \
    }                                                                                                   \
  }

#define TD_RV_SUM(a, v) ((a) + (v))
#define TD_RV_KEEP(a, count) ((void)(count), (a))

TD_RV_DEFINE_POOL(td_avg_pool_s8_riscv, 0, TD_RV_SUM, td_rv_mean)
TD_RV_DEFINE_POOL(td_max_pool_s8_riscv, -128, TD_RV_MAX, TD_RV_KEEP)

#endif /* __riscv */
