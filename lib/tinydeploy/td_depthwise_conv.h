/* DEPTHWISE_CONV_2D kernels (int8, and 16x8: int16 activations with int8 weights). */
#ifndef TD_DEPTHWISE_CONV_H
#define TD_DEPTHWISE_CONV_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief int8 depthwise convolution.
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[in]  filter  int8 [1, H, W, output.c] weights (symmetric, zero point 0)
 * @param[in]  bias    int32 [output.c], or NULL
 * @param[out] output  int8 NHWC output
 * @return     nothing; the output is written in full
 */
void td_depthwise_conv_s8(const td_dw_conv_params *p, const int8_t *input,
                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                          int8_t *output);

/**
 * @brief int8 depthwise convolution with depth multiplier 1 for Arm cores with the DSP extension
 * (lib/tinydeploy/arm/; compiled only where __ARM_FEATURE_DSP is defined): bit-exact with
 * td_depthwise_conv_s8, on weights and a table that the compiler prepared for it (kernels="arm-dsp").
 * Any filter size, stride, dilation and padding.
 *
 * arm-dsp weight layout (C = output.c, T = filter_h * filter_w taps, t = fy * filter_w + fx): the
 * channels in quads of four, quad by quad, 4 * T bytes each: for each tap pair (t, t + 1), t even,
 * the bytes [c0 c1 c0 c1] of taps t, t, t + 1, t + 1, then [c2 c3 c2 c3] likewise; an odd last tap
 * as its four bytes [c0 c1 c2 c3]. The C % 4 leftover channels follow tap by tap (T * (C % 4) bytes,
 * each tap's leftover channels in order). The byte count is that of the [1, H, W, C] weights.
 *
 * Table (int32): 4 words of header, word 0 = 1 for the fast requantization; then 16 words per quad of
 * channels (the last quad padded with zeros): 4 biases b = bias[c] + input_offset * sum_t w[t][c]
 * (wrapping to int32), 4 pairs (multiplier m, k), 4 words e. Fast: the biases doubled (2b, the kernel
 * doubles the weights too), k = 2^(e-1) + output_offset * 2^e and e for the shift -e; otherwise b,
 * k = the shift and e = 0. Fast needs every m in [2^30, 2^31) or 0, e in 1..31, |acc + bias| < 2^30
 * and the high product plus k inside int32 (checked at conversion: ops/_arm_depthwise.py).
 *
 * @param[in]  p        layer parameters (depth_multiplier 1)
 * @param[in]  input    int8 NHWC input
 * @param[in]  filter   int8 weights in the arm-dsp layout above
 * @param[in]  table    int32 [4 + 16 * ceil(output.c / 4)] folded biases and requantization (above)
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_depthwise_conv_s8_arm_dsp_scratch_size(p) bytes (any alignment): tap
 *                      offsets, up to 64 channels' weights widened to halfwords, a zero-point row
 *                      (and the kernel's own state, which keeps its stack small)
 */
void td_depthwise_conv_s8_arm_dsp(const td_dw_conv_params *p, const int8_t *input,
                                  const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *table,
                                  int8_t *output, void *scratch);

/** Scratch bytes td_depthwise_conv_s8_arm_dsp needs: 4 * (26 + 2T + 2T * (min(C, 64) / 4) + 16). */
int32_t td_depthwise_conv_s8_arm_dsp_scratch_size(const td_dw_conv_params *p);

/**
 * @brief In-place twin of td_depthwise_conv_s8_arm_dsp (batch 1, output over the input, as
 * td_depthwise_conv_s8_inplace): four channels at a time are copied into a plane of the scratch padded
 * with the input zero point (no border pixels left) and run through the arm-dsp kernel, which writes
 * them straight back into the buffer. Same weights and table.
 * @param[in]     p        layer parameters (depth_multiplier 1, batch 1)
 * @param[in,out] buf      int8 NHWC input, overwritten with the output
 * @param[in]     filter   int8 weights in the arm-dsp layout
 * @param[in]     table    the arm-dsp table
 * @param[in]     scratch  td_depthwise_conv_s8_arm_dsp_inplace_scratch_size(p) bytes
 */
void td_depthwise_conv_s8_arm_dsp_inplace(const td_dw_conv_params *p, int8_t *buf,
                                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *table,
                                          void *scratch);

/** Scratch bytes of the in-place twin: 4 * Hp * Wp (the windows' extent, Hp = (output.h - 1) * stride_h
 * + (filter_h - 1) * dilation_h + 1, Wp likewise) plus the scratch of td_depthwise_conv_s8_arm_dsp for
 * min(C, 4) channels. */
int32_t td_depthwise_conv_s8_arm_dsp_inplace_scratch_size(const td_dw_conv_params *p);

/**
 * @brief 16x8 depthwise convolution: int16 input/output, int8 weights, int64 bias; 64-bit accumulator.
 * @param[in]  p       layer parameters (input_offset and output_offset 0)
 * @param[in]  input   int16 NHWC input
 * @param[in]  filter  int8 [1, H, W, output.c] weights
 * @param[in]  bias    int64 [output.c], or NULL
 * @param[out] output  int16 NHWC output
 */
void td_depthwise_conv_s16(const td_dw_conv_params *p, const int16_t *input,
                           const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                           int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_DEPTHWISE_CONV_H */
