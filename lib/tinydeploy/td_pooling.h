/* AVERAGE_POOL_2D and MAX_POOL_2D kernels on NHWC tensors (int8 and int16). */
#ifndef TD_POOLING_H
#define TD_POOLING_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of one pooling layer, computed at conversion time. */
typedef struct {
  int32_t batches;
  int32_t input_height;
  int32_t input_width;
  int32_t depth;          /* channels (input and output) */
  int32_t output_height;
  int32_t output_width;
  int32_t stride_height;
  int32_t stride_width;
  int32_t filter_height;
  int32_t filter_width;
  int32_t pad_height;     /* padding before the first row / column (TFLite's padding_values) */
  int32_t pad_width;
  int32_t act_min;        /* fused activation clamp in the output's quantized domain */
  int32_t act_max;
} td_pool_params;

/**
 * @brief Average pooling: mean of the window clipped to the input (padding is not counted),
 * rounded half away from zero, then clamped. Input and output share quantization.
 */
void td_avg_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);
/** @brief int16 average pooling (window of at most 65535 elements). */
void td_avg_pool_s16(const td_pool_params *p, const int16_t *input, int16_t *output);

/** @brief Max pooling over the window clipped to the input, then clamped. */
void td_max_pool_s8(const td_pool_params *p, const int8_t *input, int8_t *output);
/** @brief int16 max pooling. */
void td_max_pool_s16(const td_pool_params *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_POOLING_H */
