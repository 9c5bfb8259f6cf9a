/* In-place depthwise and pointwise convolution built on the reference kernels (see td_inplace.h). */
#include "td_inplace.h"

#include <string.h>

int32_t td_depthwise_conv_inplace_temp_size(const td_dw_conv_params *p, int32_t element_bytes) {
  return (p->input_h * p->input_w + p->output_h * p->output_w) * element_bytes + p->filter_h * p->filter_w;
}

/* One channel's parameters: same geometry, one channel, that channel's requantization. */
static td_dw_conv_params one_channel(const td_dw_conv_params *p, int32_t c) {
  td_dw_conv_params q = *p;
  q.input_c = 1;
  q.output_c = 1;
  q.depth_multiplier = 1;
  q.multiplier = p->multiplier + (p->per_channel ? c : 0);
  q.shift = p->shift + (p->per_channel ? c : 0);
  return q;
}

#define TD_DW_INPLACE_BODY(T, KERNEL)                                                     \
  const int32_t channels = p->input_c;                                                    \
  const int32_t in_plane = p->input_h * p->input_w, out_plane = p->output_h * p->output_w; \
  const int32_t taps = p->filter_h * p->filter_w;                                         \
  T *t_in = temp, *t_out = temp + in_plane;                                               \
  int8_t *t_w = (int8_t *)(t_out + out_plane);                                            \
  int32_t c, i;                                                                           \
  for (c = 0; c < channels; ++c) {                                                        \
    const td_dw_conv_params q = one_channel(p, c);                                        \
    for (i = 0; i < in_plane; ++i) t_in[i] = buf[i * channels + c];                       \
    for (i = 0; i < taps; ++i) t_w[i] = filter[i * channels + c];                         \
    KERNEL(&q, t_in, t_w, bias ? bias + c : 0, t_out);                                    \
    for (i = 0; i < out_plane; ++i) buf[i * channels + c] = t_out[i];                     \
  }

void td_depthwise_conv_s8_inplace(const td_dw_conv_params *p, int8_t *buf,
                                  const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                                  int8_t *temp) {
  TD_DW_INPLACE_BODY(int8_t, td_depthwise_conv_s8)
}

void td_depthwise_conv_s16_inplace(const td_dw_conv_params *p, int16_t *buf,
                                   const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                                   int16_t *temp) {
  TD_DW_INPLACE_BODY(int16_t, td_depthwise_conv_s16)
}

static td_conv_params one_pixel(const td_conv_params *p) {
  td_conv_params q = *p;
  q.batches = 1;
  q.input_h = q.input_w = q.output_h = q.output_w = 1;
  q.pad_h = q.pad_w = 0;
  return q;
}

#define TD_1X1_INPLACE_BODY(T, KERNEL)                                                   \
  const td_conv_params q = one_pixel(p);                                                 \
  const int32_t pixels = p->batches * p->input_h * p->input_w;                           \
  const int32_t cin = p->input_c, cout = p->output_c;                                    \
  const int forward = cout <= cin;                                                       \
  int32_t k;                                                                             \
  for (k = 0; k < pixels; ++k) {                                                         \
    const int32_t px = forward ? k : pixels - 1 - k;                                     \
    KERNEL(&q, buf + px * cin, filter, bias, temp);                                      \
    memcpy(buf + px * cout, temp, (size_t)cout * sizeof(T));                             \
  }

void td_conv_1x1_s8_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                            const TD_WEIGHTS_MEM int32_t *bias, int8_t *temp) {
  TD_1X1_INPLACE_BODY(int8_t, td_conv_s8)
}

void td_conv_1x1_s16_inplace(const td_conv_params *p, int16_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                             const TD_WEIGHTS_MEM int64_t *bias, int16_t *temp) {
  TD_1X1_INPLACE_BODY(int16_t, td_conv_s16)
}
