/* CONV_2D kernels (int8, and 16x8: int16 activations with int8 weights). */
#ifndef TD_CONV_H
#define TD_CONV_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief int8 convolution: out = requant(sum filter * (in + input_offset) + bias).
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[in]  filter  int8 OHWI weights (symmetric, zero point 0)
 * @param[in]  bias    int32 [output.c], or NULL
 * @param[out] output  int8 NHWC output
 * @return     nothing; the output is written in full
 */
void td_conv_s8(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                const TD_WEIGHTS_MEM int32_t *bias, int8_t *output);

/**
 * @brief 16x8 convolution: int16 input/output, int8 weights, int64 bias (may be NULL);
 * 64-bit accumulator.
 * @param[in]  p       layer parameters (input_offset and output_offset 0)
 * @param[in]  input   int16 NHWC input
 * @param[in]  filter  int8 OHWI weights
 * @param[in]  bias    int64 [output.c], or NULL
 * @param[out] output  int16 NHWC output
 */
void td_conv_s16(const td_conv_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                 const TD_WEIGHTS_MEM int64_t *bias, int16_t *output);

/**
 * @brief 16x8 convolution with an int32 bias (quantized_bias_type INT32): like LiteRT, the
 * accumulator is then 32 bits wide (wraps around on overflow) and requantized in 32 bits.
 * @param[in]  p       layer parameters (input_offset and output_offset 0)
 * @param[in]  input   int16 NHWC input
 * @param[in]  filter  int8 OHWI weights
 * @param[in]  bias    int32 [output.c], or NULL
 * @param[out] output  int16 NHWC output
 */
void td_conv_s16_b32(const td_conv_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                     const TD_WEIGHTS_MEM int32_t *bias, int16_t *output);

/**
 * @brief arm-dsp variant of td_conv_s8 (lib/tinydeploy/arm/td_arm_conv.c; Arm cores with the DSP
 * extension, one group): two output pixels x two filters per SMLAD tile over an im2col field.
 * @param[in]  p        layer parameters (as for td_conv_s8)
 * @param[in]  input    int8 NHWC input
 * @param[in]  weights  "arm-dsp conv layout": each filter's K = filter_h * filter_w * filter_c int8
 *                      (OHWI order) padded with zeros to a multiple of 4 and read as little-endian
 *                      words; filters in pairs, a pair's words interleaved (word g of filter 2i, word g
 *                      of filter 2i + 1, ...), then the last odd filter's words
 * @param[in]  bias     int32 [output.c]: bias + input_offset * sum of the filter's weights (not NULL)
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_conv_s8_arm_dsp_scratch_size(p) bytes (any alignment)
 */
void td_conv_s8_arm_dsp(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int32_t *weights,
                        const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch);

/** @brief Scratch bytes of td_conv_s8_arm_dsp: two widened fields (+ one int8 field unless 1x1 unpadded). */
int32_t td_conv_s8_arm_dsp_scratch_size(const td_conv_params *p);

/**
 * @brief td_conv_s8_arm_dsp for a 1x1 stride-1 convolution written over its input (as
 * td_conv_1x1_s8_inplace): weights and bias in the arm-dsp conv layout.
 * @param[in]     p        layer parameters
 * @param[in,out] buf      the input; holds the output on return
 * @param[in]     scratch  td_conv_1x1_s8_arm_dsp_inplace_scratch_size(p) bytes (any alignment)
 */
void td_conv_1x1_s8_arm_dsp_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int32_t *weights,
                                    const TD_WEIGHTS_MEM int32_t *bias, void *scratch);

/** @brief Scratch bytes of td_conv_1x1_s8_arm_dsp_inplace: two widened pixels. */
int32_t td_conv_1x1_s8_arm_dsp_inplace_scratch_size(const td_conv_params *p);

#ifdef __cplusplus
}
#endif

#endif /* TD_CONV_H */
