/*
 * QUANTIZE and DEQUANTIZE kernels, bit-exact with TFLite's reference kernels:
 *  - float -> int8/int16/uint8: q = clamp(round(x / scale) + zero_point), the division and the
 *    rounding (half away from zero) in float, per tensor or per channel (AffineQuantize,
 *    PerChannelQuantize); no reciprocal multiply, which would round differently;
 *  - int -> int requantization: q = clamp(requant(x - in_zp) + out_zp), with a Q31 multiplier
 *    and two roundings (reference_ops::Requantize as LiteRT 2.3.0 builds it);
 *  - int8/int16/uint8 -> float: x = scale * (q - zero_point). TFLite multiplies in double and
 *    rounds to float; since the product of a float and an integer below 2^24 is exact in double,
 *    one float multiplication gives the same correctly rounded result on every IEEE target.
 *
 * In-place: each element is read before the same index is written, and the output element is
 * never wider than the input's (for requantization to the same width), so the output may share
 * memory with the input when both have the same size in bytes.
 */
#ifndef TD_QUANTIZE_H
#define TD_QUANTIZE_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Float <-> integer affine (de)quantization, per tensor (channels = 1) or per channel. */
typedef struct {
  int32_t outer;             /* product of the dimensions before the quantized axis */
  int32_t channels;          /* extent of the quantized axis (1 for per-tensor) */
  int32_t inner;             /* product of the dimensions after it */
  const float *scale;        /* [channels] */
  const int32_t *zero_point; /* [channels] */
} td_affine_params;

/** Integer -> integer requantization (QUANTIZE with an integer input). */
typedef struct {
  int32_t size;              /* number of elements */
  int32_t multiplier;        /* Q31 of input scale / output scale */
  int32_t shift;             /* its power-of-two exponent */
  int32_t input_zero_point;
  int32_t output_zero_point;
} td_requantize_params;

/**
 * @brief float32 -> int8 / int16 / uint8 (QUANTIZE). Quotients beyond the int32 range (and NaN)
 * behave as in LiteRT on x86: the conversion yields INT32_MIN before the zero point is added.
 */
void td_quantize_f32_s8(const td_affine_params *p, const float *input, int8_t *output);
void td_quantize_f32_s16(const td_affine_params *p, const float *input, int16_t *output);
void td_quantize_f32_u8(const td_affine_params *p, const float *input, uint8_t *output);

/** @brief int8 / int16 / uint8 -> float32 (DEQUANTIZE). */
void td_dequantize_s8_f32(const td_affine_params *p, const int8_t *input, float *output);
void td_dequantize_s16_f32(const td_affine_params *p, const int16_t *input, float *output);
void td_dequantize_u8_f32(const td_affine_params *p, const uint8_t *input, float *output);

/** @brief Requantization (QUANTIZE), named td_requantize_<input>_<output>. */
void td_requantize_s8_s8(const td_requantize_params *p, const int8_t *input, int8_t *output);
void td_requantize_s8_s16(const td_requantize_params *p, const int8_t *input, int16_t *output);
void td_requantize_s8_u8(const td_requantize_params *p, const int8_t *input, uint8_t *output);
void td_requantize_u8_s8(const td_requantize_params *p, const uint8_t *input, int8_t *output);
void td_requantize_u8_u8(const td_requantize_params *p, const uint8_t *input, uint8_t *output);
void td_requantize_s16_s8(const td_requantize_params *p, const int16_t *input, int8_t *output);
void td_requantize_s16_s16(const td_requantize_params *p, const int16_t *input, int16_t *output);
void td_requantize_s16_s32(const td_requantize_params *p, const int16_t *input, int32_t *output);
void td_requantize_s32_s8(const td_requantize_params *p, const int32_t *input, int8_t *output);
void td_requantize_s32_s16(const td_requantize_params *p, const int32_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_QUANTIZE_H */
