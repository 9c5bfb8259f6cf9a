/* CONV_2D reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF (ConvPerChannel), which
 * requantizes with the two-step rounding (td_mul_by_quantized_mult_dr / _64_dr). */
#include "td_conv.h"

#include "td_kernel.h"

/*
 * One convolution variant: T activations, BIAS_T biases read with BIAS_LOAD, an ACC_T accumulator
 * (int32_t; int64_t for 16x8; uint32_t, wrapping, for 16x8 with an int32 bias) requantized by REQUANT.
 */
#define TD_DEFINE_CONV(NAME, T, BIAS_T, ACC_T, BIAS_LOAD, REQUANT)                                   \
  void NAME(const td_conv_params *p, const T *input, const TD_WEIGHTS_MEM int8_t *filter,           \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *output) {                                         \
    const td_window *win = &p->window;                                                              \
    const int32_t groups = p->input.c / p->filter_c;                                                \
    const int32_t per_group = p->output.c / groups;                                                 \
    const int32_t row = p->input.w * p->input.c;                                                    \
    const int32_t filter_size = win->filter_h * win->filter_w * p->filter_c;                        \
    int32_t b, oy, ox, g, k, fy, fx, c;                                                             \
    T *out = output;                                                                                \
    for (b = 0; b < p->input.n; ++b) {                                                              \
      const T *in_b = input + b * p->input.h * row;                                                 \
      for (oy = 0; oy < p->output.h; ++oy) {                                                        \
        const int32_t y0 = oy * win->stride_h - win->pad_h;                                         \
        const td_taps ty = td_window_taps(y0, win->dilation_h, win->filter_h, p->input.h);          \
        const int32_t fy0 = ty.start, fy1 = ty.end;                                                 \
        for (ox = 0; ox < p->output.w; ++ox) {                                                      \
          const int32_t x0 = ox * win->stride_w - win->pad_w;                                       \
          const td_taps tx = td_window_taps(x0, win->dilation_w, win->filter_w, p->input.w);        \
          const int32_t fx0 = tx.start, fx1 = tx.end;                                               \
          for (g = 0; g < groups; ++g) {                                                            \
            const T *in_g = in_b + g * p->filter_c;                                                 \
            for (k = 0; k < per_group; ++k) {                                                       \
              const int32_t oc = g * per_group + k;                                                 \
              const int32_t ch = td_requant_channel(&p->requant, oc);                               \
              const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * filter_size;                        \
              ACC_T acc = 0;                                                                        \
              for (fy = fy0; fy < fy1; ++fy) {                                                      \
                const T *in_y = in_g + (y0 + win->dilation_h * fy) * row;                           \
                for (fx = fx0; fx < fx1; ++fx) {                                                    \
                  const T *in = in_y + (x0 + win->dilation_w * fx) * p->input.c;                    \
                  const TD_WEIGHTS_MEM int8_t *w = w_oc + (fy * win->filter_w + fx) * p->filter_c;  \
                  for (c = 0; c < p->filter_c; ++c) {                                               \
                    acc += (ACC_T)((int32_t)w[c] * ((int32_t)in[c] + p->input_offset));             \
                  }                                                                                 \
                }                                                                                   \
              }                                                                                     \
              *out++ = TD_REQUANT_OUTPUT(T, ACC_T, BIAS_LOAD, REQUANT, p, bias, acc, oc, ch);       \
            }                                                                                       \
          }                                                                                         \
        }                                                                                           \
      }                                                                                             \
    }                                                                                               \
  }

TD_DEFINE_CONV(td_conv_s8, int8_t, int32_t, int32_t, TD_BIAS_S32, td_mul_by_quantized_mult_dr)
TD_DEFINE_CONV(td_conv_s16, int16_t, int64_t, int64_t, TD_BIAS_S64, td_mul_by_quantized_mult_64_dr)
TD_DEFINE_CONV(td_conv_s16_b32, int16_t, int32_t, uint32_t, TD_BIAS_S32, td_mul_by_quantized_mult_wrap_dr)
