/*
 * AVR kernel variant (PlanOptions.kernels = "avr"; lib/tinydeploy/avr/, compiled only for AVR cores with
 * MUL, i.e. every ATmega): int8 CONV_2D (one group), DEPTHWISE_CONV_2D and FULLY_CONNECTED, bit-exact
 * with the reference kernels, on a flash "stream" that the compiler lays out for them (ops/_avr.py);
 * int8 MAX_POOL_2D and AVERAGE_POOL_2D on the reference parameters.
 *
 * Stream: per output channel, in the order the kernel reads it, a header and then the channel's
 * weights. The input offset is folded into the header's bias (the kernels pad with the input zero point,
 * so borders stay exact), so the inner loop multiplies raw int8 by int8 (MULS) and accumulates in 16
 * bits when the compiler proved the channel's sum fits (flag 0), else in 24 bits (flag 1; the compiler
 * proves that). The weights are read in sequence with ELPM Z+ (LPM Z+ without RAMPZ, plain loads when
 * TD_WEIGHTS_MEM is not __memx), never through __xload; every pointer to a stream must point to flash.
 *
 * Conv-family header ("dr", the two-step rounding of LiteRT's conv kernels), 23 bytes little-endian:
 *   int32 bias (bias + input_offset * sum of the channel's weights, wrapped to int32), int32 Q31
 *   multiplier m, int32 mask = 2^right - 1, int32 below, int32 above (accumulators below `below` give
 *   activation.min and above `above` activation.max: no requantization there), uint8 left, uint8 right
 *   (the shift is left - right), uint8 wide.
 * Fully-connected header ("sr", one rounding), 18 bytes: int32 bias, int32 m, int32 rlo, int32 rhi
 *   (the rounding constant 2^(t-1) = rhi * 2^32 + rlo), uint8 t = 31 - shift, uint8 wide.
 * Requantization uses one 32x32->64 product and 32-bit operations (no 64-bit shifts or additions).
 */
#ifndef TD_AVR_H
#define TD_AVR_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief avr variant of td_conv_s8 (one group, any window, stride, dilation and padding).
 * @param[in]  p        layer parameters (requant unused: it is in the stream)
 * @param[in]  input    int8 NHWC input
 * @param[in]  stream   per output channel a "dr" header and its filter_h * filter_w * filter_c weights
 *                      (OHWI order), in flash
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_avr_conv_s8_scratch_size(p) bytes: one window, gathered
 */
void td_avr_conv_s8(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                    int8_t *output, int8_t *scratch);

/** @brief Scratch bytes of td_avr_conv_s8: filter_h * filter_w * filter_c (0 for a 1x1 filter). */
int32_t td_avr_conv_s8_scratch_size(const td_conv_params *p);

/**
 * @brief td_avr_conv_s8 for a 1x1 stride-1 convolution written over its input (as td_conv_1x1_s8_inplace):
 * each pixel is copied to the scratch, then its outputs go to the buffer (forward when output.c <= input.c,
 * else backward).
 * @param[in]     p        layer parameters
 * @param[in,out] buf      the input; holds the output on return
 * @param[in]     stream   as for td_avr_conv_s8
 * @param[in]     scratch  td_avr_conv_1x1_s8_inplace_scratch_size(p) bytes: one input pixel
 */
void td_avr_conv_1x1_s8_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                int8_t *scratch);

/** @brief Scratch bytes of td_avr_conv_1x1_s8_inplace: input.c. */
int32_t td_avr_conv_1x1_s8_inplace_scratch_size(const td_conv_params *p);

/**
 * @brief avr variant of td_depthwise_conv_s8 (any depth multiplier, window, stride, dilation, padding):
 * channel by channel (one header read per channel), each output pixel's taps gathered to the scratch.
 * @param[in]  p        layer parameters (requant unused)
 * @param[in]  input    int8 NHWC input
 * @param[in]  stream   per output channel a "dr" header and its filter_h * filter_w weights (row-major)
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_avr_depthwise_conv_s8_scratch_size(p) bytes: one window
 */
void td_avr_depthwise_conv_s8(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                              int8_t *output, int8_t *scratch);

/** @brief Scratch bytes of td_avr_depthwise_conv_s8: filter_h * filter_w. */
int32_t td_avr_depthwise_conv_s8_scratch_size(const td_dw_conv_params *p);

/**
 * @brief In-place twin of td_avr_depthwise_conv_s8 (depth multiplier 1, batch 1): each channel's input
 * plane is saved to the scratch, padded with the input zero point, then that channel's outputs are written
 * into the buffer.
 * @param[in]     p        layer parameters
 * @param[in,out] buf      int8 NHWC input, overwritten with the output
 * @param[in]     stream   as for td_avr_depthwise_conv_s8
 * @param[in]     scratch  td_avr_depthwise_conv_s8_inplace_scratch_size(p) bytes
 */
void td_avr_depthwise_conv_s8_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *stream,
                                      int8_t *scratch);

/** @brief Scratch bytes of the in-place twin: Hp * Wp + filter_h * filter_w, the windows' extent
 * Hp = (output.h - 1) * stride_h + (filter_h - 1) * dilation_h + 1 (Wp likewise): one padded plane. */
int32_t td_avr_depthwise_conv_s8_inplace_scratch_size(const td_dw_conv_params *p);

/**
 * @brief avr variant of td_fully_connected_s8 (symmetric weights), single rounding as the reference.
 * @param[in]  p       layer parameters (requant unused)
 * @param[in]  input   int8 [batches, accum_depth]
 * @param[in]  stream  per output unit an "sr" header and its accum_depth weights, in flash
 * @param[out] output  int8 [batches, output_depth]
 */
void td_avr_fully_connected_s8(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                               int8_t *output);

/**
 * @brief avr variant of td_max_pool_s8: the same parameters, bit-exact.
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[out] output  int8 NHWC output
 */
void td_avr_max_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);

/**
 * @brief avr variant of td_avg_pool_s8 (windows of at most 255 pixels): 16-bit sums and division.
 * @param[in]  p       layer parameters
 * @param[in]  input   int8 NHWC input
 * @param[out] output  int8 NHWC output
 */
void td_avr_avg_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_AVR_H */
