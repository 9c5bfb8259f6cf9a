/*
 * RV32IMC kernel variant "riscv" (lib/tinydeploy/riscv/, compiled only where __riscv is defined):
 * plain C99, bit-exact with the reference kernels, on constants the compiler re-lays out for them
 * (tinydeploy/compile/ops/_riscv.py). The input offset is folded into the bias and padding reads the
 * input zero point, so the inner loops are int8 loads (lb sign-extends), mul and add only.
 */
#ifndef TD_RISCV_H
#define TD_RISCV_H

#include "tinydeploy.h"
#include "td_elementwise.h"
#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief int8 convolution (one group), bit-exact with td_conv_s8: three output pixels x four output
 * channels per register tile over an im2col field of the three pixels, interleaved byte by byte.
 *
 * "riscv conv layout" (K = filter_h * filter_w * filter_c in OHWI order, Kp = K rounded up to a
 * multiple of 4, the extra weights 0): output channels in blocks of four, each block k by k (the four
 * channels' weights of k, then of k + 1, ...: 4 * Kp bytes); the output.c % 4 leftover channels follow
 * as plain rows of Kp bytes.
 *
 * @param[in]  p        layer parameters (as for td_conv_s8)
 * @param[in]  input    int8 NHWC input
 * @param[in]  weights  int8 in the riscv conv layout
 * @param[in]  bias     int32 [output.c]: bias + input_offset * sum of the channel's weights (not NULL)
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_conv_s8_riscv_scratch_size(p) bytes, any alignment
 */
void td_conv_s8_riscv(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                      const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch);

/** @brief Scratch bytes of td_conv_s8_riscv: three pixels' field (3 * Kp). */
int32_t td_conv_s8_riscv_scratch_size(const td_conv_params *p);

/**
 * @brief td_conv_s8_riscv for a 1x1 stride-1 convolution written over its input (as
 * td_conv_1x1_s8_inplace: forwards when output.c <= input.c, else backwards, three pixels at a time).
 * @param[in]     p        layer parameters
 * @param[in,out] buf      input [P, Cin] on entry, output [P, Cout] on return
 * @param[in]     weights  int8 in the riscv conv layout
 * @param[in]     bias     int32 [output.c], the input offset folded in
 * @param[in]     scratch  td_conv_s8_riscv_scratch_size(p) bytes
 */
void td_conv_1x1_s8_riscv_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *weights,
                                  const TD_WEIGHTS_MEM int32_t *bias, void *scratch);

/**
 * @brief int8 depthwise convolution, depth multiplier 1, bit-exact with td_depthwise_conv_s8: channel by
 * channel, the channel's input plane is copied into the scratch inside a border of the input zero point
 * (as wide as the window needs), then the dot products of up to about 32 outputs (3x3 unrolled, the
 * weights in registers), then their requantization.
 *
 * "riscv depthwise layout": the weights channel by channel, each channel's filter_h * filter_w taps in
 * row-major order (the [1, H, W, C] weights transposed to [C, H * W]).
 *
 * @param[in]  p        layer parameters (depth_multiplier 1)
 * @param[in]  input    int8 NHWC input
 * @param[in]  weights  int8 in the riscv depthwise layout
 * @param[in]  bias     int32 [output.c]: bias + input_offset * sum of the channel's taps (not NULL)
 * @param[out] output   int8 NHWC output (may be the input: see td_depthwise_conv_s8_riscv_inplace)
 * @param[in]  scratch  td_depthwise_conv_s8_riscv_scratch_size(p) bytes, any alignment
 */
void td_depthwise_conv_s8_riscv(const td_dw_conv_params *p, const int8_t *input,
                                const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                int8_t *output, void *scratch);

/** @brief Scratch bytes of td_depthwise_conv_s8_riscv: int32 sums of a chunk of output rows (+ 3 to align
 * them), one padded plane. */
int32_t td_depthwise_conv_s8_riscv_scratch_size(const td_dw_conv_params *p);

/**
 * @brief td_depthwise_conv_s8_riscv with its output over its input (batch 1): each channel's plane is
 * in the scratch before its output slots are written, and no other channel reads them.
 * @param[in]     p        layer parameters (input.n 1, depth_multiplier 1)
 * @param[in,out] buf      input [H, W, C] on entry, output [OH, OW, C] on return
 * @param[in]     scratch  td_depthwise_conv_s8_riscv_scratch_size(p) bytes
 */
void td_depthwise_conv_s8_riscv_inplace(const td_dw_conv_params *p, int8_t *buf,
                                        const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias,
                                        void *scratch);

/**
 * @brief int8 fully connected with symmetric weights, bit-exact with td_fully_connected_s8 (single rounding).
 * @param[in]  p        layer parameters (filter_offset 0; input_offset is folded into the bias)
 * @param[in]  input    [batches, accum_depth] int8
 * @param[in]  weights  [output_depth, accum_depth] int8 in the riscv conv layout (K = accum_depth)
 * @param[in]  bias     int32 [output_depth]: bias + input_offset * sum of the row's weights (not NULL)
 * @param[out] output   [batches, output_depth] int8
 */
void td_fully_connected_s8_riscv(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                                 const TD_WEIGHTS_MEM int32_t *bias, int8_t *output);

/**
 * @brief int8 average pooling, bit-exact with td_avg_pool_s8 (four channels per pass over the window).
 * @param[in]  p       layer parameters (as for td_avg_pool_s8)
 * @param[in]  input   int8 NHWC input
 * @param[out] output  int8 NHWC output
 */
void td_avg_pool_s8_riscv(const td_pool_params *p, const int8_t *input, int8_t *output);

/** @brief int8 max pooling, bit-exact with td_max_pool_s8; parameters as td_avg_pool_s8_riscv. */
void td_max_pool_s8_riscv(const td_pool_params *p, const int8_t *input, int8_t *output);

/**
 * @brief int8 ADD or SUB of two inputs of the same shape, bit-exact with td_add_s8 / td_sub_s8.
 * @param[in]  p       the reference parameters (td_add_params; the elements are the product of bcast.shape)
 * @param[in]  table   512 int32: for x = -128..127 at x + 128, MBQM_dr((x + input1_offset) << 20,
 *                     input1_multiplier, input1_shift); then the same for input 2 (negated for SUB)
 * @param[in]  input1  int8 input 1
 * @param[in]  input2  int8 input 2
 * @param[out] output  int8 output (may be input1: each element is read before it is written)
 */
void td_add_s8_riscv(const td_add_params *p, const TD_WEIGHTS_MEM int32_t *table, const int8_t *input1,
                     const int8_t *input2, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_RISCV_H */
