/*
 * In-place variants (TinyEngine-style): the output is written over the input, using a small
 * scratch buffer, so an op needs max(input, output) bytes instead of input + output.
 * They call the reference kernels on small pieces, so results are bit-identical to them.
 */
#ifndef TD_INPLACE_H
#define TD_INPLACE_H

#include "td_conv.h"
#include "td_depthwise_conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Depthwise convolution (depth multiplier 1, batch 1) with its output over its input.
 * Channel by channel: the channel's input plane is saved in `scratch`, then its output plane is
 * written into that channel's slots, which no other channel reads.
 * @param[in]     p       layer parameters
 * @param[in,out] buf     input [H, W, C] on entry, output [OH, OW, C] on return
 * @param[in]     filter  int8 [1, H, W, C] weights
 * @param[in]     bias    int32 [C], or NULL
 * @param[in]     scratch td_depthwise_conv_s8_inplace_scratch_size(p) bytes
 */
void td_depthwise_conv_s8_inplace(const td_dw_conv_params *p, int8_t *buf,
                                  const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                                  int8_t *scratch);
/** @brief 16x8 version of td_depthwise_conv_s8_inplace (int64 bias). */
void td_depthwise_conv_s16_inplace(const td_dw_conv_params *p, int16_t *buf,
                                   const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                                   int16_t *scratch);
/**
 * @brief Scratch bytes of td_depthwise_conv_s8_inplace: one input and one output plane, one
 * channel's taps.
 * @param[in] p  layer parameters
 * @return    bytes
 */
int32_t td_depthwise_conv_s8_inplace_scratch_size(const td_dw_conv_params *p);
/** @brief Scratch bytes of td_depthwise_conv_s16_inplace. */
int32_t td_depthwise_conv_s16_inplace_scratch_size(const td_dw_conv_params *p);

/**
 * @brief 1x1 convolution (stride 1, no padding) with its output over its input, pixel by pixel:
 * forwards when output.c <= input.c, backwards otherwise, so no unread pixel is overwritten.
 * @param[in]     p       layer parameters
 * @param[in,out] buf     input [P, Cin] on entry, output [P, Cout] on return (buffer of max bytes)
 * @param[in]     filter  int8 [Cout, 1, 1, Cin] weights
 * @param[in]     bias    int32 [Cout], or NULL
 * @param[in]     scratch td_conv_1x1_s8_inplace_scratch_size(p) bytes
 */
void td_conv_1x1_s8_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                            const TD_WEIGHTS_MEM int32_t *bias, int8_t *scratch);
/** @brief 16x8 version of td_conv_1x1_s8_inplace (int64 bias). */
void td_conv_1x1_s16_inplace(const td_conv_params *p, int16_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                             const TD_WEIGHTS_MEM int64_t *bias, int16_t *scratch);
/**
 * @brief Scratch bytes of td_conv_1x1_s8_inplace: one output pixel.
 * @param[in] p  layer parameters
 * @return    bytes
 */
int32_t td_conv_1x1_s8_inplace_scratch_size(const td_conv_params *p);
/** @brief Scratch bytes of td_conv_1x1_s16_inplace. */
int32_t td_conv_1x1_s16_inplace_scratch_size(const td_conv_params *p);

#ifdef __cplusplus
}
#endif

#endif /* TD_INPLACE_H */
