/* AVERAGE_POOL_2D and MAX_POOL_2D kernels on NHWC tensors (int8 and int16). */
#ifndef TD_POOLING_H
#define TD_POOLING_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Average pooling: mean of the window clipped to the input (padding is not counted),
 * rounded half away from zero, then clamped. Input and output share quantization.
 * @param[in]  p       layer parameters
 * @param[in]  input   NHWC input
 * @param[out] output  NHWC output
 */
void td_avg_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);
/** @brief int16 average pooling (window of at most 65535 elements); parameters as td_avg_pool_s8. */
void td_avg_pool_s16(const td_pool_params *p, const int16_t *input, int16_t *output);

/**
 * @brief Max pooling over the window clipped to the input, then clamped.
 * @param[in]  p       layer parameters
 * @param[in]  input   NHWC input
 * @param[out] output  NHWC output
 */
void td_max_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);
/** @brief int16 max pooling; parameters as td_max_pool_s8. */
void td_max_pool_s16(const td_pool_params *p, const int16_t *input, int16_t *output);

/**
 * @brief int8 average pooling for Arm cores with the DSP extension (lib/tinydeploy/arm/; compiled
 * only where __ARM_FEATURE_DSP is defined): bit-exact with td_avg_pool_s8, same parameters; four
 * channels per word load, halfword sums (SXTAB16) in passes of at most 256 taps.
 * @param[in]  p       layer parameters
 * @param[in]  input   NHWC input
 * @param[out] output  NHWC output
 */
void td_avg_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output);

/**
 * @brief int8 max pooling for Arm cores with the DSP extension: bit-exact with td_max_pool_s8, same
 * parameters; four channels per word load (SSUB8 + SEL).
 * @param[in]  p       layer parameters
 * @param[in]  input   NHWC input
 * @param[out] output  NHWC output
 */
void td_max_pool_s8_arm_dsp(const td_pool_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_POOLING_H */
