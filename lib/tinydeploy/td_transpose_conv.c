/* TRANSPOSE_CONV reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF
 * (reference_integer_ops::TransposeConv), which requantizes with the two-step rounding. */
#include "td_transpose_conv.h"

#include "td_kernel.h"

/*
 * Input rows [*first, *last] that reach output row `out` (out + pad = in * stride + tap,
 * 0 <= tap < taps, 0 <= in < size); empty when *first > *last. The tap of row `in` is
 * out + pad - in * stride.
 */
static void td_tc_rows(int32_t out_plus_pad, int32_t stride, int32_t taps, int32_t size, int32_t *first,
                       int32_t *last) {
  const int32_t lowest = out_plus_pad - taps + 1; /* in * stride >= lowest */
  int32_t hi = out_plus_pad / stride;
  *first = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  if (hi > size - 1) hi = size - 1;
  *last = hi;
}

/* One transposed-convolution variant (see TD_DEFINE_CONV in td_conv.c for the parameters). */
#define TD_DEFINE_TRANSPOSE_CONV(NAME, T, BIAS_T, ACC_T, BIAS_LOAD, REQUANT)                          \
  void NAME(const td_transpose_conv_params *p, const T *input, const TD_WEIGHTS_MEM int8_t *filter,  \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *output) {                                          \
    const td_window *win = &p->window;                                                               \
    const int32_t row = p->input.w * p->input.c;                                                     \
    const int32_t fsize = win->filter_h * win->filter_w * p->input.c;                                \
    int32_t b, oy, ox, oc, iy, ix, c;                                                                \
    T *out = output;                                                                                 \
    for (b = 0; b < p->input.n; ++b) {                                                               \
      const T *in_b = input + b * p->input.h * row;                                                  \
      for (oy = 0; oy < p->output.h; ++oy) {                                                         \
        const int32_t ty = oy + win->pad_h;                                                          \
        int32_t iy0, iy1;                                                                            \
        td_tc_rows(ty, win->stride_h, win->filter_h, p->input.h, &iy0, &iy1);                        \
        for (ox = 0; ox < p->output.w; ++ox) {                                                       \
          const int32_t tx = ox + win->pad_w;                                                        \
          int32_t ix0, ix1;                                                                          \
          td_tc_rows(tx, win->stride_w, win->filter_w, p->input.w, &ix0, &ix1);                      \
          for (oc = 0; oc < p->output.c; ++oc) {                                                     \
            const int32_t ch = td_requant_channel(&p->requant, oc);                                  \
            const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * fsize;                                 \
            ACC_T acc = 0;                                                                           \
            for (iy = iy0; iy <= iy1; ++iy) {                                                        \
              const TD_WEIGHTS_MEM int8_t *w_y = w_oc + (ty - iy * win->stride_h) * win->filter_w * p->input.c; \
              for (ix = ix0; ix <= ix1; ++ix) {                                                      \
                const T *in = in_b + iy * row + ix * p->input.c;                                     \
                const TD_WEIGHTS_MEM int8_t *w = w_y + (tx - ix * win->stride_w) * p->input.c;       \
                for (c = 0; c < p->input.c; ++c) {                                                   \
                  acc += (ACC_T)(((int32_t)in[c] + p->input_offset) * (int32_t)w[c]);                \
                }                                                                                    \
              }                                                                                      \
            }                                                                                        \
            *out++ = TD_REQUANT_OUTPUT(T, ACC_T, BIAS_LOAD, REQUANT, p, bias, acc, oc, ch);          \
          }                                                                                          \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
  }

TD_DEFINE_TRANSPOSE_CONV(td_transpose_conv_s8, int8_t, int32_t, int32_t, TD_BIAS_S32, td_mul_by_quantized_mult_dr)
TD_DEFINE_TRANSPOSE_CONV(td_transpose_conv_s16, int16_t, int64_t, int64_t, TD_BIAS_S64,
                         td_mul_by_quantized_mult_64_dr)
TD_DEFINE_TRANSPOSE_CONV(td_transpose_conv_s16_b32, int16_t, int32_t, uint32_t, TD_BIAS_S32,
                         td_mul_by_quantized_mult_wrap_dr)
