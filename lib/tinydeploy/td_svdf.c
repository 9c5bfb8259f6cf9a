/* SVDF integer kernel, bit-exact with LiteRT's reference. */
#include "td_svdf.h"

#include "td_math.h"

/* LiteRT's SVDF requantizes with the two-step (gemmlowp) rounding, not the single rounding
 * used elsewhere: a rounding doubling high multiply, then a rounding right shift. */
static int32_t svdf_requant(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(td_shl32(x, left), multiplier), right);
}

void td_svdf_s8(const td_svdf_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights_feature,
                const TD_WEIGHTS_MEM int16_t *weights_time, const TD_WEIGHTS_MEM int32_t *bias,
                int16_t *state, int8_t *output) {
  const int32_t mem = p->memory_size;
  const int32_t per_batch = mem * p->num_filters;
  const int32_t total = p->batches * per_batch;
  int32_t i, b, f, u, r, c, m;

  /* Shift the whole state left by one step (the newest column is overwritten below). */
  for (i = 0; i + 1 < total; ++i) state[i] = state[i + 1];

  /* Feature matmul into the newest column of every filter's memory. */
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in = input + b * p->input_size;
    int16_t *st = state + b * per_batch + (mem - 1);
    const TD_WEIGHTS_MEM int8_t *w = weights_feature;
    for (f = 0; f < p->num_filters; ++f) {
      int32_t acc = 0;
      for (c = 0; c < p->input_size; ++c) acc += (int32_t)w[c] * ((int32_t)in[c] + p->input_offset);
      w += p->input_size;
      acc = svdf_requant(acc, p->multiplier_1, p->shift_1);
      st[f * mem] = (int16_t)td_clamp(acc, -32768L, 32767L);
    }
  }

  /* Time weights, rank reduction, bias, requantization. int32 sums wrap like the reference. */
  for (b = 0; b < p->batches; ++b) {
    const int16_t *st = state + b * per_batch;
    for (u = 0; u < p->num_units; ++u) {
      uint32_t acc = bias ? (uint32_t)bias[u] : 0u;
      int32_t out;
      for (r = 0; r < p->rank; ++r) {
        const int32_t filt = u * p->rank + r;
        const TD_WEIGHTS_MEM int16_t *wt = weights_time + filt * mem;
        const int16_t *sv = st + filt * mem;
        for (m = 0; m < mem; ++m) acc += (uint32_t)((int32_t)wt[m] * (int32_t)sv[m]);
      }
      out = svdf_requant((int32_t)acc, p->multiplier_2, p->shift_2) + p->output_offset;
      output[b * p->num_units + u] = (int8_t)td_clamp(out, -128, 127);
    }
  }
}
