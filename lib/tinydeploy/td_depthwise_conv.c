/* DEPTHWISE_CONV_2D reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF
 * (DepthwiseConvPerChannel), which requantizes with the two-step rounding. */
#include "td_depthwise_conv.h"

#include "td_kernel.h"

/* One depthwise variant (see TD_DEFINE_CONV in td_conv.c for the parameters). */
#define TD_DEFINE_DEPTHWISE_CONV(NAME, T, BIAS_T, ACC_T, BIAS_LOAD, REQUANT)                          \
  void NAME(const td_dw_conv_params *p, const T *input, const TD_WEIGHTS_MEM int8_t *filter,         \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *output) {                                          \
    const td_window *win = &p->window;                                                               \
    const int32_t row = p->input.w * p->input.c;                                                     \
    const int32_t frow = win->filter_w * p->output.c;                                                \
    int32_t b, oy, ox, ic, m, fy, fx;                                                                \
    T *out = output;                                                                                 \
    for (b = 0; b < p->input.n; ++b) {                                                               \
      const T *in_b = input + b * p->input.h * row;                                                  \
      for (oy = 0; oy < p->output.h; ++oy) {                                                         \
        const int32_t y0 = oy * win->stride_h - win->pad_h;                                          \
        const td_taps ty = td_window_taps(y0, win->dilation_h, win->filter_h, p->input.h);           \
        const int32_t fy0 = ty.start, fy1 = ty.end;                                                  \
        for (ox = 0; ox < p->output.w; ++ox) {                                                       \
          const int32_t x0 = ox * win->stride_w - win->pad_w;                                        \
          const td_taps tx = td_window_taps(x0, win->dilation_w, win->filter_w, p->input.w);         \
          const int32_t fx0 = tx.start, fx1 = tx.end;                                                \
          for (ic = 0; ic < p->input.c; ++ic) {                                                      \
            for (m = 0; m < p->depth_multiplier; ++m) {                                              \
              const int32_t oc = ic * p->depth_multiplier + m;                                       \
              const int32_t ch = td_requant_channel(&p->requant, oc);                                \
              ACC_T acc = 0;                                                                         \
              for (fy = fy0; fy < fy1; ++fy) {                                                       \
                const T *in_y = in_b + (y0 + win->dilation_h * fy) * row + ic;                       \
                const TD_WEIGHTS_MEM int8_t *w_y = filter + fy * frow + oc;                          \
                for (fx = fx0; fx < fx1; ++fx) {                                                     \
                  acc += (ACC_T)((int32_t)w_y[fx * p->output.c] *                                    \
                                 ((int32_t)in_y[(x0 + win->dilation_w * fx) * p->input.c] + p->input_offset)); \
                }                                                                                    \
              }                                                                                      \
              *out++ = TD_REQUANT_OUTPUT(T, ACC_T, BIAS_LOAD, REQUANT, p, bias, acc, oc, ch);        \
            }                                                                                        \
          }                                                                                          \
        }                                                                                            \
      }                                                                                              \
    }                                                                                                \
  }

TD_DEFINE_DEPTHWISE_CONV(td_depthwise_conv_s8, int8_t, int32_t, int32_t, TD_BIAS_S32, td_mul_by_quantized_mult_dr)
TD_DEFINE_DEPTHWISE_CONV(td_depthwise_conv_s16, int16_t, int64_t, int64_t, TD_BIAS_S64,
                         td_mul_by_quantized_mult_64_dr)
