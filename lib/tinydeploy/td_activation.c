/* Quantized activation kernels (see td_activation.h). */
#include "td_activation.h"

#include "td_math.h"

/* One variant per element type T (the TD_DEFINE_<KERNEL> pattern, td_kernel.h). */
#define TD_DEFINE_RELU(name, T)                                                                   \
  void name(const td_relu_params *p, const T *input, T *output) {                            \
    int32_t i;                                                                               \
    for (i = 0; i < p->size; ++i) {                                                          \
      const int32_t v = td_mul_by_quantized_mult_dr((int32_t)input[i] - p->input_zero_point, \
                                                    p->multiplier, p->shift)                 \
                        + p->output_zero_point;                                              \
      output[i] = (T)td_clamp(v, p->activation.min, p->activation.max);                      \
    }                                                                                        \
  }

TD_DEFINE_RELU(td_relu_s8, int8_t)
TD_DEFINE_RELU(td_relu_s16, int16_t)

#define TD_DEFINE_LEAKY_RELU(name, T, LO, HI)                                                     \
  void name(const td_leaky_relu_params *p, const T *input, T *output) {                      \
    int32_t i;                                                                               \
    for (i = 0; i < p->size; ++i) {                                                          \
      const int32_t x = (int32_t)input[i] - p->input_zero_point;                             \
      const int32_t v = (x >= 0 ? td_mul_by_quantized_mult_dr(x, p->identity_multiplier, p->identity_shift) \
                                : td_mul_by_quantized_mult_dr(x, p->alpha_multiplier, p->alpha_shift)) \
                        + p->output_zero_point;                                              \
      output[i] = (T)td_clamp(v, LO, HI);                                                    \
    }                                                                                        \
  }

TD_DEFINE_LEAKY_RELU(td_leaky_relu_s8, int8_t, -128, 127)
TD_DEFINE_LEAKY_RELU(td_leaky_relu_s16, int16_t, -32768L, 32767)

/* ---- int16 fixed-point helpers with TFLite/gemmlowp's exact int16_t semantics ---------------- */

/* Conversion of an int to int16_t (wraps, as on every compiler TFLite runs on). */
static inline int32_t td_wrap16(int32_t v) {
  return (int32_t)(((uint32_t)v + 32768UL) & 0xFFFFUL) - 32768L;
}

/* gemmlowp::SaturatingRoundingDoublingHighMul<int16_t> */
static inline int32_t td_srdhm16(int32_t a, int32_t b) {
  const int32_t ab = a * b;
  const int32_t nudge = ab >= 0 ? ((int32_t)1 << 14) : (1 - ((int32_t)1 << 14));
  if (a == b && a == -32768L) return 32767;
  return (ab + nudge) / ((int32_t)1 << 15);
}

/* TFLite's SaturatingDoublingHighMul (truncating) on int16_t */
static inline int32_t td_sdhm16(int32_t a, int32_t b) {
  if (a == b && a == -32768L) return 32767;
  return (a * b) / ((int32_t)1 << 15);
}

/* TFLite's SaturatingLeftShift on int16_t */
static inline int32_t td_sat_shl16(int32_t v, int32_t amount) {
  const int64_t r = (int64_t)v * ((int64_t)1 << amount);
  return r > 32767 ? 32767 : (r < -32768L ? -32768L : (int32_t)r);
}

/* gemmlowp::RoundingDivideByPOT<int16_t>: for exponents >= 16 the int16 mask wraps to -1 */
static inline int32_t td_rdiv_pot16(int32_t x, int32_t exponent) {
  if (exponent >= 16) return x >= 0 ? 1 : -1;
  return td_rounding_divide_by_pot(x, exponent);
}

void td_hard_swish_s8(const td_hard_swish_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  const int32_t rexp = p->reluish_multiplier_exponent;
  for (i = 0; i < p->size; ++i) {
    const int32_t in = td_wrap16((int32_t)input[i] - p->input_zero_point);
    const int32_t hires = td_wrap16(in * 128);
    const int32_t preshift = td_srdhm16(hires, p->output_multiplier_fixedpoint_int16);
    int32_t reluish = hires, out;
    if (rexp > 0) reluish = td_sat_shl16(reluish, rexp - 1);
    reluish = td_srdhm16(reluish, p->reluish_multiplier_fixedpoint_int16);
    if (rexp > 0) reluish = td_sat_shl16(reluish, 1);
    if (rexp < 0) reluish = td_rdiv_pot16(reluish, -rexp);
    reluish = (reluish + 32768L) >> 1; /* [-1, 1] -> [0, 1] in Q15 */
    out = td_rdiv_pot16(td_sdhm16(reluish, preshift), -p->output_multiplier_exponent);
    out = td_wrap16(out + p->output_zero_point);
    output[i] = (int8_t)td_clamp(out, -128, 127);
  }
}
