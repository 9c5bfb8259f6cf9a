/* LOGISTIC and TANH kernels: int8 through a 256-entry table, int16 by TFLite's sigmoid table. */
#ifndef TD_LOGISTIC_TANH_H
#define TD_LOGISTIC_TANH_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of an int8 table activation (the table is computed at conversion time). */
typedef struct {
  int32_t size;      /* number of elements */
  const TD_WEIGHTS_MEM int8_t *lut; /* 256 outputs, indexed by the input byte as uint8_t (0..127, -128..-1) */
} td_lut_s8_params;

/**
 * @brief int8 elementwise table lookup: output[i] = lut[(uint8_t)input[i]].
 * Used for LOGISTIC and TANH, whose TFLite reference kernels use a table built in float.
 * In place (output == input) is allowed.
 */
void td_lut_s8(const td_lut_s8_params *p, const int8_t *input, int8_t *output);

/** Parameters of an int16 LOGISTIC / TANH (TFLite Prepare's input_multiplier / input_left_shift). */
typedef struct {
  int32_t size;             /* number of elements */
  int32_t input_multiplier; /* input rescale (includes the factor 3), 0 for power-of-two scales */
  int32_t input_left_shift; /* right shift applied after the multiplication */
} td_sigmoid_s16_params;

/**
 * @brief int16 logistic: input zero point 0, output scale 1/32768 zero point 0.
 * In place (output == input) is allowed.
 */
void td_logistic_s16(const td_sigmoid_s16_params *p, const int16_t *input, int16_t *output);

/**
 * @brief int16 tanh: input zero point 0, output scale 1/32768 zero point 0.
 * In place (output == input) is allowed.
 */
void td_tanh_s16(const td_sigmoid_s16_params *p, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_LOGISTIC_TANH_H */
