/* Elementwise binary kernels (ADD, SUB, MUL, MAXIMUM, MINIMUM), bit-exact with TFLite's
 * reference kernels (reference_integer_ops::Add/Mul, reference_ops::Sub, BroadcastAdd6DSlow...). */
#include "td_elementwise.h"

#include "td_math.h"

/* One innermost row: n elements, input pointers advanced by sa / sb elements per step. */
typedef void (*td_row_fn)(const void *p, const void *a, int32_t sa, const void *b, int32_t sb, void *out,
                          int32_t n);

/* Walk the broadcast plan, calling `row` once per innermost row (once in total without
 * broadcasting). in_size / out_size are element sizes in bytes. */
static void td_bcast_walk(const td_bcast *bc, const void *p, td_row_fn row, const void *a, const void *b,
                          void *out, uint8_t in_size, uint8_t out_size) {
  int32_t idx[TD_BCAST_MAX_DIMS];
  const int32_t last = bc->rank - 1;
  const int32_t n = bc->shape[last];
  int32_t off_a = 0, off_b = 0, d;
  const uint8_t *pa = (const uint8_t *)a;
  const uint8_t *pb = (const uint8_t *)b;
  uint8_t *po = (uint8_t *)out;
  for (d = 0; d < TD_BCAST_MAX_DIMS; ++d) idx[d] = 0;
  for (d = 0; d < last; ++d) {
    if (bc->shape[d] <= 0) return;
  }
  for (;;) {
    row(p, pa + (uint32_t)off_a * in_size, bc->stride1[last], pb + (uint32_t)off_b * in_size,
        bc->stride2[last], po, n);
    po += (uint32_t)n * out_size;
    /* advance the odometer over the outer dimensions */
    for (d = last - 1; d >= 0; --d) {
      off_a += bc->stride1[d];
      off_b += bc->stride2[d];
      if (++idx[d] < bc->shape[d]) break;
      off_a -= bc->stride1[d] * bc->shape[d];
      off_b -= bc->stride2[d] * bc->shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/* ---- ADD / SUB, general path ------------------------------------------------------------ */

static inline int32_t td_add_one(const td_add_params *p, int32_t x, int32_t y, int32_t subtract) {
  const int32_t a = td_shl32(x + p->input1_offset, p->left_shift);
  const int32_t b = td_shl32(y + p->input2_offset, p->left_shift);
  const int32_t sa = td_mul_by_quantized_mult_dr(a, p->input1_multiplier, p->input1_shift);
  const int32_t sb = td_mul_by_quantized_mult_dr(b, p->input2_multiplier, p->input2_shift);
  const int32_t raw = subtract ? sa - sb : sa + sb;
  const int32_t out = td_mul_by_quantized_mult_dr(raw, p->output_multiplier, p->output_shift) + p->output_offset;
  return td_clamp(out, p->act_min, p->act_max);
}

#define TD_ADD_ROW(name, T, SUBTRACT)                                                            \
  static void name(const void *vp, const void *va, int32_t sa, const void *vb, int32_t sb,      \
                   void *vo, int32_t n) {                                                       \
    const td_add_params *p = (const td_add_params *)vp;                                         \
    const T *a = (const T *)va;                                                                 \
    const T *b = (const T *)vb;                                                                 \
    T *o = (T *)vo;                                                                             \
    int32_t i;                                                                                  \
    for (i = 0; i < n; ++i, a += sa, b += sb) o[i] = (T)td_add_one(p, *a, *b, SUBTRACT);        \
  }

TD_ADD_ROW(td_add_row_s8, int8_t, 0)
TD_ADD_ROW(td_sub_row_s8, int8_t, 1)
TD_ADD_ROW(td_add_row_s16, int16_t, 0)
TD_ADD_ROW(td_sub_row_s16, int16_t, 1)

void td_add_s8(const td_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_bcast_walk(&p->bcast, p, td_add_row_s8, input1, input2, output, 1, 1);
}

void td_sub_s8(const td_add_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_bcast_walk(&p->bcast, p, td_sub_row_s8, input1, input2, output, 1, 1);
}

void td_add_s16(const td_add_params *p, const int16_t *input1, const int16_t *input2, int16_t *output) {
  td_bcast_walk(&p->bcast, p, td_add_row_s16, input1, input2, output, 2, 2);
}

void td_sub_s16(const td_add_params *p, const int16_t *input1, const int16_t *input2, int16_t *output) {
  td_bcast_walk(&p->bcast, p, td_sub_row_s16, input1, input2, output, 2, 2);
}

/* ---- ADD / SUB, int16 power-of-two path ------------------------------------------------- */

/* gemmlowp::RoundingDivideByPOT instantiated on int16_t: for exponents >= 16 its mask wraps
 * to -1 and the result degenerates to +1 / -1 by sign; below that it is the usual rounding. */
static inline int32_t td_rdiv_pot_s16(int32_t x, int32_t exponent) {
  if (exponent >= 16) return x >= 0 ? 1 : -1;
  return td_rounding_divide_by_pot(x, exponent);
}

#define TD_ADD_POT_ROW(name, OP)                                                                 \
  static void name(const void *vp, const void *va, int32_t sa, const void *vb, int32_t sb,      \
                   void *vo, int32_t n) {                                                       \
    const td_add_pot_params *p = (const td_add_pot_params *)vp;                                 \
    const int16_t *a = (const int16_t *)va;                                                     \
    const int16_t *b = (const int16_t *)vb;                                                     \
    int16_t *o = (int16_t *)vo;                                                                 \
    int32_t i;                                                                                  \
    for (i = 0; i < n; ++i, a += sa, b += sb) {                                                 \
      const int32_t x = td_rdiv_pot_s16(*a, p->input1_right_shift);                             \
      const int32_t y = td_rdiv_pot_s16(*b, p->input2_right_shift);                             \
      o[i] = (int16_t)td_clamp(x OP y, p->act_min, p->act_max);                                 \
    }                                                                                           \
  }

TD_ADD_POT_ROW(td_add_pot_row, +)
TD_ADD_POT_ROW(td_sub_pot_row, -)

void td_add_s16_pot(const td_add_pot_params *p, const int16_t *input1, const int16_t *input2,
                    int16_t *output) {
  td_bcast_walk(&p->bcast, p, td_add_pot_row, input1, input2, output, 2, 2);
}

void td_sub_s16_pot(const td_add_pot_params *p, const int16_t *input1, const int16_t *input2,
                    int16_t *output) {
  td_bcast_walk(&p->bcast, p, td_sub_pot_row, input1, input2, output, 2, 2);
}

/* ---- MUL --------------------------------------------------------------------------------- */

#define TD_MUL_ROW(name, T)                                                                      \
  static void name(const void *vp, const void *va, int32_t sa, const void *vb, int32_t sb,      \
                   void *vo, int32_t n) {                                                       \
    const td_mul_params *p = (const td_mul_params *)vp;                                         \
    const T *a = (const T *)va;                                                                 \
    const T *b = (const T *)vb;                                                                 \
    T *o = (T *)vo;                                                                             \
    int32_t i;                                                                                  \
    for (i = 0; i < n; ++i, a += sa, b += sb) {                                                 \
      const int32_t prod = ((int32_t)*a + p->input1_offset) * ((int32_t)*b + p->input2_offset); \
      const int32_t out = td_mul_by_quantized_mult_dr(prod, p->output_multiplier, p->output_shift) \
                          + p->output_offset;                                                   \
      o[i] = (T)td_clamp(out, p->act_min, p->act_max);                                          \
    }                                                                                           \
  }

TD_MUL_ROW(td_mul_row_s8, int8_t)
TD_MUL_ROW(td_mul_row_s16, int16_t)

void td_mul_s8(const td_mul_params *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_bcast_walk(&p->bcast, p, td_mul_row_s8, input1, input2, output, 1, 1);
}

void td_mul_s16(const td_mul_params *p, const int16_t *input1, const int16_t *input2, int16_t *output) {
  td_bcast_walk(&p->bcast, p, td_mul_row_s16, input1, input2, output, 2, 2);
}

/* gemmlowp SaturatingRoundingDoublingHighMul on int16_t (Q0.15 fixed-point product). */
static inline int32_t td_q15_mul(int32_t a, int32_t b) {
  const int32_t ab = a * b;
  const int32_t nudge = ab >= 0 ? ((int32_t)1 << 14) : (1 - ((int32_t)1 << 14));
  if (a == b && a == -32768) return 32767;
  return (ab + nudge) / ((int32_t)1 << 15);
}

void td_mul_s16_s8(const td_mul_params *p, const int16_t *input1, const int16_t *input2, int8_t *output) {
  const int32_t n = p->bcast.shape[0];
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t r = td_rounding_divide_by_pot(td_q15_mul(input1[i], input2[i]), 8);
    const int32_t c = td_clamp(r, p->act_min - p->output_offset, p->act_max - p->output_offset);
    output[i] = (int8_t)(p->output_offset + c);
  }
}

/* ---- MAXIMUM / MINIMUM ------------------------------------------------------------------- */

#define TD_MINMAX_ROW(name, T, CMP)                                                              \
  static void name(const void *vp, const void *va, int32_t sa, const void *vb, int32_t sb,      \
                   void *vo, int32_t n) {                                                       \
    const T *a = (const T *)va;                                                                 \
    const T *b = (const T *)vb;                                                                 \
    T *o = (T *)vo;                                                                             \
    int32_t i;                                                                                  \
    (void)vp;                                                                                   \
    for (i = 0; i < n; ++i, a += sa, b += sb) o[i] = (*a CMP *b) ? *a : *b;                     \
  }

TD_MINMAX_ROW(td_max_row_s8, int8_t, >)
TD_MINMAX_ROW(td_min_row_s8, int8_t, <)
TD_MINMAX_ROW(td_max_row_s16, int16_t, >)
TD_MINMAX_ROW(td_min_row_s16, int16_t, <)

void td_maximum_s8(const td_bcast *bc, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_bcast_walk(bc, NULL, td_max_row_s8, input1, input2, output, 1, 1);
}

void td_minimum_s8(const td_bcast *bc, const int8_t *input1, const int8_t *input2, int8_t *output) {
  td_bcast_walk(bc, NULL, td_min_row_s8, input1, input2, output, 1, 1);
}

void td_maximum_s16(const td_bcast *bc, const int16_t *input1, const int16_t *input2, int16_t *output) {
  td_bcast_walk(bc, NULL, td_max_row_s16, input1, input2, output, 2, 2);
}

void td_minimum_s16(const td_bcast *bc, const int16_t *input1, const int16_t *input2, int16_t *output) {
  td_bcast_walk(bc, NULL, td_min_row_s16, input1, input2, output, 2, 2);
}
