/* SVDF kernel (fully integer: int8 input/output, int8 feature weights, int16 time weights and state). */
#ifndef TD_SVDF_H
#define TD_SVDF_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of one SVDF layer, computed at conversion time (as LiteRT's svdf.cc Prepare). */
typedef struct {
  int32_t batches;       /* input rows */
  int32_t input_size;    /* input features = weights_feature columns */
  int32_t num_filters;   /* weights_feature rows = weights_time rows */
  int32_t num_units;     /* num_filters / rank = output features */
  int32_t rank;
  int32_t memory_size;   /* weights_time columns */
  int32_t input_offset;  /* -input zero point */
  int32_t output_offset; /* output zero point */
  int32_t multiplier_1;  /* input * weights_feature -> state requantization */
  int32_t shift_1;
  int32_t multiplier_2;  /* state * weights_time -> output requantization */
  int32_t shift_2;
} td_svdf_params;

/**
 * @brief Integer SVDF step, bit-exact with LiteRT's EvalIntegerSVDF.
 * The state is shifted left by one time step, the newest column is filled with the
 * requantized feature matmul, then every filter's memory is dotted with its time weights,
 * `rank` filters are summed per unit, bias added and requantized to int8.
 * The fused activation is not applied beyond the int8 clamp (as the reference does).
 * @param[in]     p               layer parameters
 * @param[in]     input           [batches, input_size] int8
 * @param[in]     weights_feature [num_filters, input_size] int8
 * @param[in]     weights_time    [num_filters, memory_size] int16
 * @param[in]     bias            [num_units] int32, or NULL
 * @param[in,out] state           [batches, num_filters * memory_size] int16, persists across calls
 * @param[out]    output          [batches, num_units] int8
 */
void td_svdf_s8(const td_svdf_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights_feature,
                const TD_WEIGHTS_MEM int16_t *weights_time, const TD_WEIGHTS_MEM int32_t *bias,
                int16_t *state, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_SVDF_H */
