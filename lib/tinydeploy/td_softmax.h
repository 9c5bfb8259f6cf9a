/* SOFTMAX (int8 -> int8, int8 -> int16, int16 -> int16) and LOG_SOFTMAX (int8) kernels. */
#ifndef TD_SOFTMAX_H
#define TD_SOFTMAX_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Parameters of one softmax / log-softmax, computed at conversion time exactly as TFLite's
 * SoftmaxPrepare / LogSoftmaxPrepare do. The softmax runs along the last dimension.
 */
typedef struct {
  int32_t outer_size;       /* product of all dimensions but the last */
  int32_t depth;            /* last dimension */
  int32_t input_multiplier; /* Q31 multiplier of (input - row max) (beta * input scale folded in) */
  int32_t input_shift;      /* its power-of-two exponent (left shift when positive) */
  int32_t diff_min;         /* int8: differences below this give exp() == 0 */
  int32_t reverse_multiplier; /* log-softmax only: Q31 multiplier back to the input scale */
  int32_t reverse_shift;      /* log-softmax only: its exponent (<= 0) */
  const TD_WEIGHTS_MEM int16_t *exp_lut;   /* int16 only: 513-entry exp() table on [-10, 0] */
  const TD_WEIGHTS_MEM int16_t *recip_lut; /* int16 only: 513-entry 1/(1+x) table on [0, 1] */
} td_softmax_params;

/**
 * @brief int8 softmax; output scale 1/256, zero point -128 (TFLite reference, gemmlowp fixed point).
 * @param[in]  p      parameters (outer_size, depth, input_multiplier, input_shift, diff_min)
 * @param[in]  input  [outer_size, depth] int8
 * @param[out] output [outer_size, depth] int8 (must not overlap input)
 * A row whose exponentials sum to 512 or more makes TFLite abort (its exponent check); we
 * clamp the exponent instead, so such rows have no reference to match.
 */
void td_softmax_s8(const td_softmax_params *p, const int8_t *input, int8_t *output);

/**
 * @brief int8 input, int16 output softmax; output scale 1/65536, zero point -32768.
 */
void td_softmax_s8_s16(const td_softmax_params *p, const int8_t *input, int16_t *output);

/**
 * @brief int16 softmax (zero points 0, output scale 1/32768), exp and reciprocal by
 * interpolated 513-entry tables (p->exp_lut, p->recip_lut).
 */
void td_softmax_s16(const td_softmax_params *p, const int16_t *input, int16_t *output);

/**
 * @brief int8 log-softmax; output scale 16/256, zero point 127.
 * @param[in]  p      parameters (all fields but the tables)
 */
void td_log_softmax_s8(const td_softmax_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_SOFTMAX_H */
