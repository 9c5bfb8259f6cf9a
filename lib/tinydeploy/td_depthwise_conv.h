/* DEPTHWISE_CONV_2D kernels (int8, and 16x8: int16 activations with int8 weights). */
#ifndef TD_DEPTHWISE_CONV_H
#define TD_DEPTHWISE_CONV_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Parameters of one depthwise convolution, computed at conversion time.
 * Layouts: input [batches, input_h, input_w, input_c], filter [1, filter_h, filter_w, output_c],
 * output [batches, output_h, output_w, output_c] with output_c = input_c * depth_multiplier;
 * output channel ic * depth_multiplier + m reads input channel ic.
 */
typedef struct {
  int32_t batches;
  int32_t input_h, input_w, input_c;
  int32_t filter_h, filter_w;
  int32_t output_h, output_w, output_c;
  int32_t depth_multiplier;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_h, pad_w;      /* top / left padding (TFLite ComputePaddingHeightWidth) */
  int32_t input_offset;      /* -input zero point (0 for int16) */
  int32_t output_offset;     /* output zero point (0 for int16) */
  int32_t act_min, act_max;  /* fused activation clamp */
  int32_t per_channel;       /* 1: multiplier/shift per output channel, 0: one */
  const TD_WEIGHTS_MEM int32_t *multiplier; /* Q31 requantization multiplier(s) */
  const TD_WEIGHTS_MEM int32_t *shift;      /* power-of-two exponent(s), >0 = left */
} td_dw_conv_params;

/**
 * @brief int8 depthwise convolution.
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[in]  filter  int8 [1, H, W, output_c] weights (symmetric, zero point 0)
 * @param[in]  bias    int32 [output_c], or NULL
 * @param[out] output  int8 NHWC output
 */
void td_depthwise_conv_s8(const td_dw_conv_params *p, const int8_t *input,
                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                          int8_t *output);

/**
 * @brief 16x8 depthwise convolution: int16 input/output, int8 weights, int64 bias (may be NULL).
 */
void td_depthwise_conv_s16(const td_dw_conv_params *p, const int16_t *input,
                           const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                           int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_DEPTHWISE_CONV_H */
