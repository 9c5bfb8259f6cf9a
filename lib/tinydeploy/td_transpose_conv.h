/* TRANSPOSE_CONV kernels (int8, and 16x8: int16 activations with int8 weights). */
#ifndef TD_TRANSPOSE_CONV_H
#define TD_TRANSPOSE_CONV_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief int8 transposed convolution.
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[in]  filter  int8 OHWI weights (symmetric, zero point 0)
 * @param[in]  bias    int32 [output.c], or NULL
 * @param[out] output  int8 NHWC output
 * @return     nothing; the output is written in full
 */
void td_transpose_conv_s8(const td_transpose_conv_params *p, const int8_t *input,
                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                          int8_t *output);

/**
 * @brief 16x8 transposed convolution: int16 input/output, int8 weights, int64 bias (may be NULL);
 * 64-bit accumulator.
 * @param[in]  p       layer parameters (input_offset and output_offset 0)
 * @param[in]  input   int16 NHWC input
 * @param[in]  filter  int8 OHWI weights
 * @param[in]  bias    int64 [output.c], or NULL
 * @param[out] output  int16 NHWC output
 */
void td_transpose_conv_s16(const td_transpose_conv_params *p, const int16_t *input,
                           const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                           int16_t *output);

/**
 * @brief 16x8 transposed convolution with an int32 bias (quantized_bias_type INT32): 32-bit
 * accumulator that wraps around on overflow, 32-bit requantization, as LiteRT.
 * @param[in]  p       layer parameters (input_offset and output_offset 0)
 * @param[in]  input   int16 NHWC input
 * @param[in]  filter  int8 OHWI weights
 * @param[in]  bias    int32 [output.c], or NULL
 * @param[out] output  int16 NHWC output
 */
void td_transpose_conv_s16_b32(const td_transpose_conv_params *p, const int16_t *input,
                               const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                               int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_TRANSPOSE_CONV_H */
