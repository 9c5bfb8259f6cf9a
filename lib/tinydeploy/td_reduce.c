/* MEAN kernels, bit-exact with TFLite's reference_ops::QuantizedMeanOrSum as LiteRT runs it. */
#include "td_reduce.h"

#include "td_math.h"

/* The reduce kernel's requantization rounds twice (high-mul, then divide by a power of two). */
static int32_t td_mean_requant(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(td_shl32(x, left), multiplier), right);
}

/* Advance an odometer over dims; returns the change of the element offset, 0 after the last. */
static int32_t td_odometer_step(int32_t rank, const int32_t *dims, const int32_t *strides, int32_t *idx,
                                int32_t *done) {
  int32_t k = rank - 1;
  int32_t delta = 0;
  while (k >= 0) {
    ++idx[k];
    delta += strides[k];
    if (idx[k] < dims[k]) return delta;
    delta -= strides[k] * dims[k];
    idx[k] = 0;
    --k;
  }
  *done = 1;
  return delta;
}

#define TD_DEFINE_MEAN(NAME, T)                                                                  \
  void NAME(const td_mean_params *p, const T *input, T *output) {                               \
    int32_t kept_idx[TD_REDUCE_MAX_DIMS] = {0, 0, 0, 0, 0, 0};                                  \
    int32_t kept_off = 0, kept_done = 0, k;                                                     \
    for (k = 0; k < p->kept_rank; ++k)                                                          \
      if (p->kept_dims[k] <= 0) return;                                                         \
    for (k = 0; k < p->reduced_rank; ++k)                                                       \
      if (p->reduced_dims[k] <= 0) return;                                                      \
    while (!kept_done) {                                                                        \
      int32_t red_idx[TD_REDUCE_MAX_DIMS] = {0, 0, 0, 0, 0, 0};                                 \
      int32_t red_off = 0, red_done = 0, acc;                                                   \
      uint32_t sum = 0;                                                                         \
      const int32_t last = p->reduced_rank - 1;                                                 \
      const int32_t n_inner = p->reduced_dims[last];                                            \
      const int32_t s_inner = p->reduced_strides[last];                                         \
      while (!red_done) {                                                                       \
        const T *in = input + kept_off + red_off;                                               \
        int32_t i;                                                                              \
        for (i = 0; i < n_inner; ++i) sum += (uint32_t)(int32_t)in[i * s_inner];                \
        red_idx[last] = n_inner - 1;                                                            \
        red_off += s_inner * (n_inner - 1);                                                     \
        red_off += td_odometer_step(p->reduced_rank, p->reduced_dims, p->reduced_strides,       \
                                    red_idx, &red_done);                                        \
      }                                                                                         \
      acc = (int32_t)(sum - (uint32_t)p->input_zero_point_times_count);                         \
      acc = td_mean_requant(acc, p->multiplier, p->shift) + p->output_zero_point;               \
      *output++ = (T)td_clamp(acc, p->activation.min, p->activation.max);                       \
      kept_off += td_odometer_step(p->kept_rank, p->kept_dims, p->kept_strides, kept_idx,       \
                                   &kept_done);                                                 \
    }                                                                                           \
  }

TD_DEFINE_MEAN(td_mean_s8, int8_t)
TD_DEFINE_MEAN(td_mean_s16, int16_t)
