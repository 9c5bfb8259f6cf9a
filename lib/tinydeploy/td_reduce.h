/* MEAN over any set of axes (int8 and int16), TFLite's general requantizing path. */
#ifndef TD_REDUCE_H
#define TD_REDUCE_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TD_REDUCE_MAX_DIMS 6

/**
 * Parameters of one MEAN, computed at conversion time. The input is seen as kept dimensions
 * (one output element per index, in output order) times reduced dimensions (summed), each
 * with its own input strides, so any axis combination reduces without scratch memory.
 */
typedef struct {
  int32_t kept_rank;                            /* 1..6 */
  int32_t kept_dims[TD_REDUCE_MAX_DIMS];
  int32_t kept_strides[TD_REDUCE_MAX_DIMS];     /* input strides in elements */
  int32_t reduced_rank;                         /* 1..6 */
  int32_t reduced_dims[TD_REDUCE_MAX_DIMS];
  int32_t reduced_strides[TD_REDUCE_MAX_DIMS];
  int32_t input_zero_point_times_count; /* input zero point * elements per output (wrapped to int32) */
  int32_t multiplier;            /* Q31 multiplier of (input_scale / output_scale) / count */
  int32_t shift;                 /* its power-of-two exponent (>= -31) */
  int32_t output_zero_point;
  td_activation activation;      /* the output type's range */
} td_mean_params;

/**
 * @brief out = clamp(MBQM(sum(in) - zp_in * count, multiplier, shift) + zp_out) with the
 * double-rounding MultiplyByQuantizedMultiplier LiteRT's reduce kernel uses.
 * @param[in]  p       parameters
 * @param[in]  input   int8 input
 * @param[out] output  int8 output, the kept dimensions in order
 */
void td_mean_s8(const td_mean_params *p, const int8_t *input, int8_t *output);
/** @brief int16 version (zero points 0); parameters as td_mean_s8. */
void td_mean_s16(const td_mean_params *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_REDUCE_H */
