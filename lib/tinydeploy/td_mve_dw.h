/* DEPTHWISE_CONV_2D, pooling and ADD / MUL int8 kernels of the arm-mve variant: Cortex-M55/M85 with Helium
 * (MVE), lib/tinydeploy/mve/td_mve_dw.c, td_mve_pool.c, td_mve_elementwise.c. They build to nothing on
 * other cores; the compiler emits their calls only for kernels="arm-mve" (ops/variants/mve_*.py).
 *
 * "mve depthwise layout" (ops/_mve_dw.py): the kernel works channel by channel on a plane of the scratch
 * that holds one channel of the input padded with the input zero point, so every window lies inside it
 * and the four lanes of a vector are four neighbouring output pixels along a line (the planes of 8
 * channels are filled at once). A line is an input
 * row, or an input column when the table says "transposed" (chosen at conversion when that needs fewer
 * vectors, e.g. 25x5 maps: lines of 25). The weights are channel by channel, each channel's taps line by
 * line in the kernel's orientation (C * filter_h * filter_w bytes). The table (int32): 4 header words
 * (word 0: 1 = transposed), then per channel 4 words: the bias with input_offset * sum(w) folded in
 * (wrapping to int32), the multiplier, the shift, 0. */
#ifndef TD_MVE_DW_H
#define TD_MVE_DW_H

#include "tinydeploy.h"
#include "td_elementwise.h"
#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief arm-mve variant of td_depthwise_conv_s8 for depth multiplier 1, bit-exact with it (two-step
 * requantization with VQRDMULH and a rounding shift). Any filter, stride, dilation and padding. Channel by
 * channel, so it may also write its output over its input (td_depthwise_conv_s8_mve_inplace).
 * @param[in]  p        layer parameters (depth_multiplier 1; requant is not read)
 * @param[in]  input    int8 NHWC input
 * @param[in]  filter   int8 weights in the mve depthwise layout (above)
 * @param[in]  table    int32 [4 + 4 * output.c] (above)
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_depthwise_conv_s8_mve_scratch_size(p, table[0]) bytes (any alignment): the plane
 */
void td_depthwise_conv_s8_mve(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                              const TD_WEIGHTS_MEM int32_t *table, int8_t *output, void *scratch);

/**
 * @brief td_depthwise_conv_s8_mve with the output written over the input (same start; the output pixels
 * of a batch no more than its input pixels, or batch 1): channel c of the output only overwrites channel
 * c of the input, which is in the plane by then.
 * @param[in]     p        layer parameters
 * @param[in,out] buf      the input; holds the output on return
 * @param[in]     filter   int8 weights in the mve depthwise layout
 * @param[in]     table    the mve depthwise table
 * @param[in]     scratch  td_depthwise_conv_s8_mve_scratch_size(p, table[0]) bytes
 */
void td_depthwise_conv_s8_mve_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                                      const TD_WEIGHTS_MEM int32_t *table, void *scratch);

/** @brief Scratch bytes of the mve depthwise kernels: G planes of Lp * Ap + 3 * stride_a bytes (the padded
 * plane, Lp lines of Ap bytes, and what the last vector reads beyond it), G = min(C, 8) while 7 planes stay
 * below 64 KB, else 1; transposed as in the table. */
int32_t td_depthwise_conv_s8_mve_scratch_size(const td_dw_conv_params *p, int32_t transposed);

/**
 * @brief arm-mve variants of td_add_s8 / td_sub_s8 for inputs of the output's shape (no broadcast),
 * bit-exact with them: four elements per vector, the reference's three two-step requantizations each a
 * VQRDMULH and (for a shift < 0) a rounding shift.
 * @param[in]  p      the reference parameters (bcast is not read; input shifts <= 0, output shift <= 0)
 * @param[in]  size   elements of each input and of the output
 * @param[in]  input1 int8 input 1
 * @param[in]  input2 int8 input 2
 * @param[out] output int8 output (may be input1)
 */
void td_add_s8_mve(const td_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief td_sub_s8 for same-shape inputs (as td_add_s8_mve). */
void td_sub_s8_mve(const td_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief td_mul_s8 for same-shape inputs (as td_add_s8_mve; any output shift). */
void td_mul_s8_mve(const td_mul_params *p, int32_t size, const int8_t *input1, const int8_t *input2, int8_t *output);

/**
 * @brief arm-mve variants of td_avg_pool_s8 / td_max_pool_s8, bit-exact with them, same parameters: the
 * window taps of 8 (average: halfword sums, or 4 in words beyond 256 taps) or 16 (maximum) channels per
 * vector; output pixels in the reference's order (row streaming over the input stays safe).
 * @param[in]  p      pooling parameters
 * @param[in]  input  int8 NHWC input
 * @param[out] output int8 NHWC output
 */
void td_avg_pool_s8_mve(const td_pool_params *p, const int8_t *input, int8_t *output);
/** @brief int8 max pooling (as td_avg_pool_s8_mve). */
void td_max_pool_s8_mve(const td_pool_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_MVE_DW_H */
