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

/*
 * One binary kernel (the TD_DEFINE_<KERNEL> pattern, td_kernel.h): NAME(const P *p, const T *input1,
 * const T *input2, TO *output) walks the broadcast plan BCAST(p) and computes each output element as
 * ELEMENT(p, x, y) from the input elements x and y (int32_t), through a row function NAME##_row.
 */
#define TD_DEFINE_BINARY(NAME, P, T, TO, BCAST, ELEMENT)                                             \
  static void NAME##_row(const void *vp, const void *va, int32_t sa, const void *vb, int32_t sb,    \
                         void *vo, int32_t n) {                                                     \
    const P *p = (const P *)vp;                                                                     \
    const T *a = (const T *)va;                                                                     \
    const T *b = (const T *)vb;                                                                     \
    TO *o = (TO *)vo;                                                                               \
    int32_t i;                                                                                      \
    (void)p;                                                                                        \
    for (i = 0; i < n; ++i, a += sa, b += sb) o[i] = (TO)ELEMENT(p, (int32_t)*a, (int32_t)*b);      \
  }                                                                                                 \
  void NAME(const P *p, const T *input1, const T *input2, TO *output) {                             \
    td_bcast_walk(BCAST(p), p, NAME##_row, input1, input2, output, (uint8_t)sizeof(T),              \
                  (uint8_t)sizeof(TO));                                                             \
  }

#define TD_BCAST_OF(p) (&(p)->bcast) /* params that hold a td_bcast */
#define TD_BCAST_SELF(p) (p)         /* MAXIMUM / MINIMUM: the td_bcast is the params */

/* ---- ADD / SUB, general path ------------------------------------------------------------ */

static inline int32_t td_add_one(const td_add_params *p, int32_t x, int32_t y, int32_t subtract) {
  const int32_t a = td_shl32(x + p->input1_offset, p->left_shift);
  const int32_t b = td_shl32(y + p->input2_offset, p->left_shift);
  const int32_t sa = td_mul_by_quantized_mult_dr(a, p->input1_multiplier, p->input1_shift);
  const int32_t sb = td_mul_by_quantized_mult_dr(b, p->input2_multiplier, p->input2_shift);
  const int32_t raw = subtract ? sa - sb : sa + sb;
  const int32_t out = td_mul_by_quantized_mult_dr(raw, p->output_multiplier, p->output_shift) + p->output_offset;
  return td_clamp(out, p->activation.min, p->activation.max);
}

#define TD_ADD(p, x, y) td_add_one(p, x, y, 0)
#define TD_SUB(p, x, y) td_add_one(p, x, y, 1)

TD_DEFINE_BINARY(td_add_s8, td_add_params, int8_t, int8_t, TD_BCAST_OF, TD_ADD)
TD_DEFINE_BINARY(td_sub_s8, td_add_params, int8_t, int8_t, TD_BCAST_OF, TD_SUB)
TD_DEFINE_BINARY(td_add_s16, td_add_params, int16_t, int16_t, TD_BCAST_OF, TD_ADD)
TD_DEFINE_BINARY(td_sub_s16, td_add_params, int16_t, int16_t, TD_BCAST_OF, TD_SUB)

/* ---- ADD / SUB, int16 power-of-two path ------------------------------------------------- */

/* gemmlowp::RoundingDivideByPOT instantiated on int16_t: for exponents >= 16 its mask wraps
 * to -1 and the result degenerates to +1 / -1 by sign; below that it is the usual rounding. */
static inline int32_t td_rdiv_pot_s16(int32_t x, int32_t exponent) {
  if (exponent >= 16) return x >= 0 ? 1 : -1;
  return td_rounding_divide_by_pot(x, exponent);
}

static inline int32_t td_add_pot_one(const td_add_pot_params *p, int32_t x, int32_t y, int32_t subtract) {
  const int32_t a = td_rdiv_pot_s16(x, p->input1_right_shift);
  const int32_t b = td_rdiv_pot_s16(y, p->input2_right_shift);
  return td_clamp(subtract ? a - b : a + b, p->activation.min, p->activation.max);
}

#define TD_ADD_POT(p, x, y) td_add_pot_one(p, x, y, 0)
#define TD_SUB_POT(p, x, y) td_add_pot_one(p, x, y, 1)

TD_DEFINE_BINARY(td_add_s16_pot, td_add_pot_params, int16_t, int16_t, TD_BCAST_OF, TD_ADD_POT)
TD_DEFINE_BINARY(td_sub_s16_pot, td_add_pot_params, int16_t, int16_t, TD_BCAST_OF, TD_SUB_POT)

/* ---- MUL --------------------------------------------------------------------------------- */

static inline int32_t td_mul_one(const td_mul_params *p, int32_t x, int32_t y) {
  const int32_t prod = (x + p->input1_offset) * (y + p->input2_offset);
  const int32_t out = td_mul_by_quantized_mult_dr(prod, p->output_multiplier, p->output_shift) + p->output_offset;
  return td_clamp(out, p->activation.min, p->activation.max);
}

TD_DEFINE_BINARY(td_mul_s8, td_mul_params, int8_t, int8_t, TD_BCAST_OF, td_mul_one)
TD_DEFINE_BINARY(td_mul_s16, td_mul_params, int16_t, int16_t, TD_BCAST_OF, td_mul_one)

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
    const int32_t c = td_clamp(r, p->activation.min - p->output_offset, p->activation.max - p->output_offset);
    output[i] = (int8_t)(p->output_offset + c);
  }
}

/* ---- MAXIMUM / MINIMUM ------------------------------------------------------------------- */

#define TD_MAX(p, x, y) ((x) > (y) ? (x) : (y))
#define TD_MIN(p, x, y) ((x) < (y) ? (x) : (y))

TD_DEFINE_BINARY(td_maximum_s8, td_bcast, int8_t, int8_t, TD_BCAST_SELF, TD_MAX)
TD_DEFINE_BINARY(td_minimum_s8, td_bcast, int8_t, int8_t, TD_BCAST_SELF, TD_MIN)
TD_DEFINE_BINARY(td_maximum_s16, td_bcast, int16_t, int16_t, TD_BCAST_SELF, TD_MAX)
TD_DEFINE_BINARY(td_minimum_s16, td_bcast, int16_t, int16_t, TD_BCAST_SELF, TD_MIN)
