/*
 * Elementwise binary kernels: ADD, SUB, MUL, MAXIMUM, MINIMUM (int8 and int16), with
 * numpy-style broadcasting, bit-exact with TFLite's integer reference kernels.
 *
 * Broadcasting is described by a td_bcast computed at conversion time: the output shape with
 * its size-1 dimensions dropped and adjacent dimensions fused where both inputs allow it,
 * plus each input's element stride per dimension (0 where that input is broadcast). Equal
 * shapes fuse into a single dimension, so the non-broadcast case is one flat loop.
 *
 * Requantization rounds twice (gemmlowp SaturatingRoundingDoublingHighMul, then a rounding
 * right shift): LiteRT 2.3.0's ADD, SUB and MUL kernels do, as found against the oracle with
 * inputs chosen where one and two roundings differ.
 *
 * In-place: every kernel reads input 1 element i before it writes output element i and
 * never reads it again, so the output may share memory with input 1 (the first input)
 * when both have the same shape and element size.
 */
#ifndef TD_ELEMENTWISE_H
#define TD_ELEMENTWISE_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TD_BCAST_MAX_DIMS 6

/** Broadcast iteration plan; dimension 0 is the outermost, rank-1 the innermost. */
typedef struct {
  int32_t rank;                          /* 1 .. TD_BCAST_MAX_DIMS */
  int32_t shape[TD_BCAST_MAX_DIMS];      /* output extents */
  int32_t stride1[TD_BCAST_MAX_DIMS];    /* input 1 element strides (0: broadcast) */
  int32_t stride2[TD_BCAST_MAX_DIMS];    /* input 2 element strides (0: broadcast) */
} td_bcast;

/** ADD / SUB, general rescaling path (int8, and int16 with symmetric quantization). */
typedef struct {
  int32_t input1_offset;     /* -input 1 zero point */
  int32_t input2_offset;     /* -input 2 zero point */
  int32_t output_offset;     /* output zero point */
  int32_t left_shift;        /* 20 for int8, 15 for int16 */
  int32_t input1_multiplier; /* Q31, with power-of-two exponent input1_shift (<= 0) */
  int32_t input1_shift;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_multiplier; /* Q31, exponent output_shift */
  int32_t output_shift;
  td_activation activation;  /* fused activation clamp */
  td_bcast bcast;
} td_add_params;

/** ADD / SUB, int16 power-of-two-scale path (TFLite's LSTM-style path, zero points 0). */
typedef struct {
  int32_t input1_right_shift; /* >= 0: log2(output scale / input 1 scale) */
  int32_t input2_right_shift; /* >= 0; at least one of the two is 0 */
  td_activation activation;
  td_bcast bcast;
} td_add_pot_params;

/** MUL: out = requant((in1 + off1) * (in2 + off2)) + output_offset. */
typedef struct {
  int32_t input1_offset;     /* -input 1 zero point */
  int32_t input2_offset;     /* -input 2 zero point */
  int32_t output_offset;     /* output zero point */
  int32_t output_multiplier; /* Q31 */
  int32_t output_shift;      /* power-of-two exponent */
  td_activation activation;
  td_bcast bcast;
} td_mul_params;

/**
 * @brief int8 ADD: out = clamp(requant(s1 * (in1 + off1) << ls + s2 * (in2 + off2) << ls)).
 * @param[in]  p      parameters (scales, offsets, activation, broadcast plan)
 * @param[in]  input1 int8 input 1
 * @param[in]  input2 int8 input 2
 * @param[out] output int8 output (may alias input1, see above)
 */
void td_add_s8(const td_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief int8 SUB, as td_add_s8 with input 2 subtracted; parameters as td_add_s8. */
void td_sub_s8(const td_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief int16 ADD, general scales (left_shift 15). */
void td_add_s16(const td_add_params *p, const int16_t *input1, const int16_t *input2, int16_t *output);
/** @brief int16 SUB, general scales (left_shift 15). */
void td_sub_s16(const td_add_params *p, const int16_t *input1, const int16_t *input2, int16_t *output);
/** @brief int16 ADD with power-of-two scales: out = clamp(rdiv(in1, 2^s1) + rdiv(in2, 2^s2)). */
void td_add_s16_pot(const td_add_pot_params *p, const int16_t *input1, const int16_t *input2,
                    int16_t *output);
/** @brief int16 SUB with power-of-two scales. */
void td_sub_s16_pot(const td_add_pot_params *p, const int16_t *input1, const int16_t *input2,
                    int16_t *output);

/** @brief int8 MUL with fused activation and broadcasting. */
void td_mul_s8(const td_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief int16 MUL (zero points 0) with fused activation and broadcasting. */
void td_mul_s16(const td_mul_params *p, const int16_t *input1, const int16_t *input2, int16_t *output);
/**
 * @brief int16 x int16 -> int8 MUL (TFLite's Q0.15 fixed-point path): the raw Q0.15 product,
 * rounded right by 8, plus output_offset, clamped to the activation. Input scales and zero
 * points are ignored, as in TFLite. No broadcasting (bcast.rank must be 1).
 */
void td_mul_s16_s8(const td_mul_params *p, const int16_t *input1, const int16_t *input2, int8_t *output);

/**
 * @brief MAXIMUM / MINIMUM on raw quantized values (no rescaling, as TFLite).
 * @param[in]  bc      broadcast plan
 * @param[in]  input1  input 1
 * @param[in]  input2  input 2
 * @param[out] output  output (may alias input1)
 */
void td_maximum_s8(const td_bcast *bc, const int8_t *input1, const int8_t *input2, int8_t *output);
void td_minimum_s8(const td_bcast *bc, const int8_t *input1, const int8_t *input2, int8_t *output);
void td_maximum_s16(const td_bcast *bc, const int16_t *input1, const int16_t *input2, int16_t *output);
void td_minimum_s16(const td_bcast *bc, const int16_t *input1, const int16_t *input2, int16_t *output);

/*
 * arm-dsp variants (lib/tinydeploy/arm/td_arm_elementwise.c; compiled only where __ARM_FEATURE_DSP is
 * defined): int8 ADD, SUB and MUL of two inputs of the same shape (no broadcast), bit-exact with
 * td_add_s8 / td_sub_s8 / td_mul_s8, on constants the compiler derives from the reference parameters
 * (ops/add_sub.py, ops/mul.py). The two-step roundings become one SMMLAR each:
 *   RDBP(SRDHM(d << 20, m), e) = (SMMLAR(d << 21, m, 2^(e-1) - [d < 0])) >> e       (e >= 1)
 *   RDBP(SRDHM(r, m), e) + zp  = (SMMLAR(2r, m, 2^(e-1) + (zp << e) - [r < 0])) >> e (e >= 1)
 * ADD / SUB: the input with the larger scale has multiplier 2^30 and shift 0, so its term is exactly
 * (d << 19); the kernel works on twice the sum, raw2 = 2 (s1 +- s2).
 */

/**
 * ADD / SUB int8 (arm-dsp): raw2 = t_offset + t_scale * xt + g_scale * G(xg), then the output. The
 * coefficients (t_scale, g_scale) are (2^20, 2) for ADD, (2^20, -2) or (-2^20, 2) for SUB.
 */
typedef struct {
  int32_t size;              /* elements of each input and of the output */
  int32_t swap;              /* 0: xt from input 1, xg from input 2; 1: the other way round */
  int32_t t_offset;          /* the exact terms' constant: +-(offset << 20), summed */
  int32_t t_scale;           /* +-2^20: xt's coefficient in raw2 */
  int32_t g_offset;          /* xg's input offset << 21 */
  int32_t g_multiplier;      /* xg's Q31 multiplier */
  int32_t g_round;           /* 2^(g_shift - 1) */
  int32_t g_shift;           /* >= 1 (equal scales: multiplier 2^31 - 1, shift 1 give the exact term) */
  int32_t g_scale;           /* +-2: G's coefficient in raw2 */
  int32_t output_multiplier; /* Q31 */
  int32_t output_round;      /* 2^(output_shift - 1) + output zero point << output_shift */
  int32_t output_shift;      /* >= 1 */
  td_activation activation;
} td_add_arm_params;

/** MUL int8 (arm-dsp): out = SMMLAR(2 (x1 + off1) (x2 + off2), m, output_round - [< 0]) >> shift. */
typedef struct {
  int32_t size;              /* elements of each input and of the output */
  int32_t input1_offset;     /* -input 1 zero point */
  int32_t input2_offset;     /* -input 2 zero point */
  int32_t output_multiplier; /* Q31 */
  int32_t output_round;      /* 2^(output_shift - 1) + output zero point << output_shift */
  int32_t output_shift;      /* >= 1 */
  td_activation activation;
} td_mul_arm_params;

/**
 * @brief int8 ADD or SUB of same-shape inputs for Arm cores with the DSP extension, bit-exact with
 * td_add_s8 / td_sub_s8 (SUB: the subtracted term's coefficient is negative).
 * @param[in]  p      constants (ops/add_sub.py)
 * @param[in]  input1 int8 input 1
 * @param[in]  input2 int8 input 2
 * @param[out] output int8 output (may alias input1)
 */
void td_add_s8_arm_dsp(const td_add_arm_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);
/** @brief int8 MUL of same-shape inputs (arm-dsp), bit-exact with td_mul_s8; output may alias input1. */
void td_mul_s8_arm_dsp(const td_mul_arm_params *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_ELEMENTWISE_H */
