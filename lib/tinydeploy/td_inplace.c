/* In-place depthwise and pointwise convolution built on the reference kernels (see td_inplace.h). */
#include "td_inplace.h"

#include <string.h>

/* One channel's parameters: same geometry, one channel, that channel's requantization. */
static td_dw_conv_params one_channel(const td_dw_conv_params *p, int32_t c) {
  td_dw_conv_params q = *p;
  q.input.c = 1;
  q.output.c = 1;
  q.depth_multiplier = 1;
  q.requant.multiplier = p->requant.multiplier + (p->requant.per_channel ? c : 0);
  q.requant.shift = p->requant.shift + (p->requant.per_channel ? c : 0);
  return q;
}

/* One in-place depthwise variant on T elements with BIAS_T biases, calling KERNEL per channel. */
#define TD_DEFINE_DEPTHWISE_CONV_INPLACE(NAME, T, BIAS_T, KERNEL)                                  \
  int32_t NAME##_scratch_size(const td_dw_conv_params *p) {                                       \
    return (p->input.h * p->input.w + p->output.h * p->output.w) * (int32_t)sizeof(T) +           \
           p->window.filter_h * p->window.filter_w;                                               \
  }                                                                                               \
  void NAME(const td_dw_conv_params *p, T *buf, const TD_WEIGHTS_MEM int8_t *filter,              \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *scratch) {                                      \
    const int32_t channels = p->input.c;                                                          \
    const int32_t in_plane = p->input.h * p->input.w, out_plane = p->output.h * p->output.w;      \
    const int32_t taps = p->window.filter_h * p->window.filter_w;                                 \
    T *t_in = scratch, *t_out = scratch + in_plane;                                               \
    int8_t *t_w = (int8_t *)(t_out + out_plane);                                                  \
    int32_t c, i;                                                                                 \
    for (c = 0; c < channels; ++c) {                                                              \
      const td_dw_conv_params q = one_channel(p, c);                                              \
      for (i = 0; i < in_plane; ++i) t_in[i] = buf[i * channels + c];                             \
      for (i = 0; i < taps; ++i) t_w[i] = filter[i * channels + c];                               \
      KERNEL(&q, t_in, t_w, bias ? bias + c : 0, t_out);                                          \
      for (i = 0; i < out_plane; ++i) buf[i * channels + c] = t_out[i];                           \
    }                                                                                             \
  }

TD_DEFINE_DEPTHWISE_CONV_INPLACE(td_depthwise_conv_s8_inplace, int8_t, int32_t, td_depthwise_conv_s8)
TD_DEFINE_DEPTHWISE_CONV_INPLACE(td_depthwise_conv_s16_inplace, int16_t, int64_t, td_depthwise_conv_s16)

static td_conv_params one_pixel(const td_conv_params *p) {
  td_conv_params q = *p;
  q.input.n = q.output.n = 1;
  q.input.h = q.input.w = q.output.h = q.output.w = 1;
  q.window.pad_h = q.window.pad_w = 0;
  return q;
}

/* One in-place 1x1 convolution variant on T elements with BIAS_T biases, calling KERNEL per pixel. */
#define TD_DEFINE_CONV_1X1_INPLACE(NAME, T, BIAS_T, KERNEL)                                        \
  int32_t NAME##_scratch_size(const td_conv_params *p) { return p->output.c * (int32_t)sizeof(T); } \
  void NAME(const td_conv_params *p, T *buf, const TD_WEIGHTS_MEM int8_t *filter,                 \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *scratch) {                                      \
    const td_conv_params q = one_pixel(p);                                                        \
    const int32_t pixels = p->input.n * p->input.h * p->input.w;                                  \
    const int32_t cin = p->input.c, cout = p->output.c;                                           \
    const int forward = cout <= cin;                                                              \
    int32_t k;                                                                                    \
    for (k = 0; k < pixels; ++k) {                                                                \
      const int32_t px = forward ? k : pixels - 1 - k;                                            \
      KERNEL(&q, buf + px * cin, filter, bias, scratch);                                          \
      memcpy(buf + px * cout, scratch, (size_t)cout * sizeof(T));                                 \
    }                                                                                             \
  }

TD_DEFINE_CONV_1X1_INPLACE(td_conv_1x1_s8_inplace, int8_t, int32_t, td_conv_s8)
TD_DEFINE_CONV_1X1_INPLACE(td_conv_1x1_s16_inplace, int16_t, int64_t, td_conv_s16)
