/* QUANTIZE / DEQUANTIZE kernels (see td_quantize.h for the exact arithmetic). */
#include "td_quantize.h"

#include <math.h>

#include "td_math.h"

/* a - b and a + b with int32 wrap-around (TFLite does this arithmetic in int32). */
static inline int32_t td_wrap32(uint32_t d) {
  return d <= 0x7FFFFFFFUL ? (int32_t)d : -(int32_t)(0xFFFFFFFFUL - d) - 1;
}
static inline int32_t td_sub_wrap(int32_t a, int32_t b) { return td_wrap32((uint32_t)a - (uint32_t)b); }
static inline int32_t td_add_wrap(int32_t a, int32_t b) { return td_wrap32((uint32_t)a + (uint32_t)b); }

/* clamp(int32(round(x / scale)) + zero_point, lo, hi) as TFLite's AffineQuantize: float division,
 * roundf (halves away from zero). Where the rounded quotient does not fit int32 (or is NaN) the
 * C++ conversion is undefined; LiteRT on x86 (cvttss2si) yields INT32_MIN there and then adds the
 * zero point with wrap-around. We reproduce that so the results match LiteRT everywhere. */
static int32_t td_quantize_one(float x, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
  const float r = roundf(x / scale);
  const int32_t q = (r >= -2147483648.0f && r < 2147483648.0f) ? (int32_t)r : TD_INT32_MIN;
  return td_clamp(td_add_wrap(q, zero_point), lo, hi);
}

static inline int32_t td_quantize_s8(float x, float scale, int32_t zp) { return td_quantize_one(x, scale, zp, -128, 127); }
static inline int32_t td_quantize_s16(float x, float scale, int32_t zp) {
  return td_quantize_one(x, scale, zp, -32768L, 32767);
}
static inline int32_t td_quantize_u8(float x, float scale, int32_t zp) { return td_quantize_one(x, scale, zp, 0, 255); }
static inline float td_dequantize_one(int32_t q, float scale, int32_t zp) { return scale * (float)(q - zp); }

/* One (de)quantization variant (the TD_DEFINE_<KERNEL> pattern, td_kernel.h): TI -> TO through
 * CONVERT(x, scale, zero_point) per element, the channel's scale and zero point per channel. */
#define TD_DEFINE_AFFINE(NAME, TI, TO, CONVERT)                                                  \
  void NAME(const td_affine_params *p, const TI *input, TO *output) {                           \
    int32_t o, c, i;                                                                            \
    for (o = 0; o < p->outer; ++o) {                                                            \
      for (c = 0; c < p->channels; ++c) {                                                       \
        const float scale = p->scale[c];                                                        \
        const int32_t zp = p->zero_point[c];                                                    \
        for (i = 0; i < p->inner; ++i) *output++ = (TO)CONVERT(*input++, scale, zp);            \
      }                                                                                         \
    }                                                                                           \
  }

TD_DEFINE_AFFINE(td_quantize_f32_s8, float, int8_t, td_quantize_s8)
TD_DEFINE_AFFINE(td_quantize_f32_s16, float, int16_t, td_quantize_s16)
TD_DEFINE_AFFINE(td_quantize_f32_u8, float, uint8_t, td_quantize_u8)
TD_DEFINE_AFFINE(td_dequantize_s8_f32, int8_t, float, td_dequantize_one)
TD_DEFINE_AFFINE(td_dequantize_s16_f32, int16_t, float, td_dequantize_one)
TD_DEFINE_AFFINE(td_dequantize_u8_f32, uint8_t, float, td_dequantize_one)

/* One requantization variant: TI -> TO, clamped to [LO, HI]. */
#define TD_DEFINE_REQUANTIZE(name, TI, TO, LO, HI)                                                \
  void name(const td_requantize_params *p, const TI *input, TO *output) {                    \
    int32_t i;                                                                               \
    for (i = 0; i < p->size; ++i) {                                                          \
      const int32_t x = td_sub_wrap((int32_t)input[i], p->input_zero_point);                 \
      const int32_t y = td_mul_by_quantized_mult_dr(x, p->multiplier, p->shift);             \
      output[i] = (TO)td_clamp(td_add_wrap(y, p->output_zero_point), LO, HI);               \
    }                                                                                        \
  }

TD_DEFINE_REQUANTIZE(td_requantize_s8_s8, int8_t, int8_t, -128, 127)
TD_DEFINE_REQUANTIZE(td_requantize_s8_s16, int8_t, int16_t, -32768L, 32767)
TD_DEFINE_REQUANTIZE(td_requantize_s8_u8, int8_t, uint8_t, 0, 255)
TD_DEFINE_REQUANTIZE(td_requantize_u8_s8, uint8_t, int8_t, -128, 127)
TD_DEFINE_REQUANTIZE(td_requantize_u8_u8, uint8_t, uint8_t, 0, 255)
TD_DEFINE_REQUANTIZE(td_requantize_s16_s8, int16_t, int8_t, -128, 127)
TD_DEFINE_REQUANTIZE(td_requantize_s16_s16, int16_t, int16_t, -32768L, 32767)
TD_DEFINE_REQUANTIZE(td_requantize_s16_s32, int16_t, int32_t, TD_INT32_MIN, TD_INT32_MAX)
TD_DEFINE_REQUANTIZE(td_requantize_s32_s8, int32_t, int8_t, -128, 127)
TD_DEFINE_REQUANTIZE(td_requantize_s32_s16, int32_t, int16_t, -32768L, 32767)
