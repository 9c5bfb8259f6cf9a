/* FULLY_CONNECTED kernels (int8 activations, and 16x8: int16 activations, int8 weights). */
#ifndef TD_FULLY_CONNECTED_H
#define TD_FULLY_CONNECTED_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief int8 fully connected: out = requant(W * (in + input_offset) + bias).
 * @param[in]  p       layer parameters
 * @param[in]  input   [batches, accum_depth] int8
 * @param[in]  weights [output_depth, accum_depth] int8
 * @param[in]  bias    [output_depth] int32, or NULL
 * @param[out] output  [batches, output_depth] int8
 */
void td_fully_connected_s8(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                           const TD_WEIGHTS_MEM int32_t *bias, int8_t *output);

/**
 * @brief int8 fully connected for Arm cores with the DSP extension (lib/tinydeploy/arm/; compiled
 * only where __ARM_FEATURE_DSP is defined): bit-exact with td_fully_connected_s8, on weights and a
 * bias that the compiler prepared for it (kernels="arm-dsp"). Needs filter_offset 0; input_offset
 * is not read (it is folded into the bias).
 *
 * arm-dsp weight layout: output rows in blocks of four; per block, for each group of four columns,
 * those four bytes of row 0, then of rows 1, 2, 3; then the block's accum_depth % 4 leftover
 * columns column by column (rows 0..3 each); the output_depth % 4 leftover rows follow as plain rows.
 *
 * @param[in]  p       layer parameters (filter_offset 0)
 * @param[in]  input   [batches, accum_depth] int8
 * @param[in]  weights [output_depth * accum_depth] int8 in the arm-dsp weight layout
 * @param[in]  bias    [output_depth] int32: bias[o] + input_offset * sum_d weights[o][d], wrapping
 * @param[out] output  [batches, output_depth] int8
 * @param[in]  scratch td_fully_connected_s8_arm_dsp_scratch_size(p) bytes, any alignment: one input row
 *                     widened to halfword pairs, read by every block of rows
 */
void td_fully_connected_s8_arm_dsp(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                                   const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch);

/** @brief Scratch bytes of td_fully_connected_s8_arm_dsp: 2 * accum_depth rounded up to a multiple of 8, + 3. */
int32_t td_fully_connected_s8_arm_dsp_scratch_size(const td_fc_params *p);

/**
 * @brief 16x8 fully connected: int16 input/output, int8 weights, int64 bias; 64-bit accumulator.
 * @param[in]  p       layer parameters (input_offset 0)
 * @param[in]  input   [batches, accum_depth] int16
 * @param[in]  weights [output_depth, accum_depth] int8
 * @param[in]  bias    [output_depth] int64, or NULL
 * @param[out] output  [batches, output_depth] int16
 */
void td_fully_connected_s16(const td_fc_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                            const TD_WEIGHTS_MEM int64_t *bias, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_FULLY_CONNECTED_H */
