/*
 * Quantized activation kernels: the RELU family (RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1),
 * LEAKY_RELU and HARD_SWISH, bit-exact with TFLite's reference kernels (ReluX,
 * QuantizeLeakyRelu, HardSwish). Requantization rounds twice (gemmlowp style), as LiteRT 2.3.0's
 * activation kernels do.
 *
 * In-place: element i is read before output element i is written, so the output may share
 * memory with the input.
 */
#ifndef TD_ACTIVATION_H
#define TD_ACTIVATION_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** RELU family: out = clamp(output_zero_point + requant(in - input_zero_point), activation). */
typedef struct {
  int32_t size;              /* number of elements */
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;        /* Q31 of input scale / output scale (computed in float, as TFLite) */
  int32_t shift;
  td_activation activation;  /* quantized bounds of the activation, within the type's range */
} td_relu_params;

/** LEAKY_RELU: requant(in - in_zp) with the identity multiplier for x >= 0, the alpha one below. */
typedef struct {
  int32_t size;
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t identity_multiplier; /* Q31 of input scale / output scale */
  int32_t identity_shift;
  int32_t alpha_multiplier;    /* Q31 of input scale * alpha / output scale (may be negative) */
  int32_t alpha_shift;
} td_leaky_relu_params;

/** HARD_SWISH (int8): TFLite's 16-bit fixed-point evaluation of x * relu6(x + 3) / 6. */
typedef struct {
  int32_t size;
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t output_multiplier_fixedpoint_int16;  /* Q15 */
  int32_t output_multiplier_exponent;          /* <= 0 */
  int32_t reluish_multiplier_fixedpoint_int16; /* Q15 */
  int32_t reluish_multiplier_exponent;
} td_hard_swish_params;

/**
 * @brief RELU / RELU6 / RELU_N1_TO_1 / RELU_0_TO_1 on int8.
 * @param[in]  p       parameters
 * @param[in]  input   p->size elements
 * @param[out] output  p->size elements (may be the input)
 */
void td_relu_s8(const td_relu_params *p, const int8_t *input, int8_t *output);
/** @brief RELU / RELU6 on int16 (zero points 0); parameters as td_relu_s8. */
void td_relu_s16(const td_relu_params *p, const int16_t *input, int16_t *output);
/**
 * @brief LEAKY_RELU on int8.
 * @param[in]  p       parameters
 * @param[in]  input   p->size elements
 * @param[out] output  p->size elements (may be the input)
 */
void td_leaky_relu_s8(const td_leaky_relu_params *p, const int8_t *input, int8_t *output);
/** @brief LEAKY_RELU on int16 (zero points 0); parameters as td_leaky_relu_s8. */
void td_leaky_relu_s16(const td_leaky_relu_params *p, const int16_t *input, int16_t *output);
/**
 * @brief HARD_SWISH on int8.
 * @param[in]  p       parameters
 * @param[in]  input   p->size elements
 * @param[out] output  p->size elements (may be the input)
 */
void td_hard_swish_s8(const td_hard_swish_params *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_ACTIVATION_H */
