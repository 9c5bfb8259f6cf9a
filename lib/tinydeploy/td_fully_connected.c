/* FULLY_CONNECTED reference kernels, bit-exact with TFLite's integer reference. */
#include "td_fully_connected.h"

#include "td_math.h"

void td_fully_connected_s8(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                           const TD_WEIGHTS_MEM int32_t *bias, int8_t *output) {
  int32_t b, o, d;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in = input + b * p->accum_depth;
    for (o = 0; o < p->output_depth; ++o) {
      const TD_WEIGHTS_MEM int8_t *w = weights + o * p->accum_depth;
      const int32_t ch = p->per_channel ? o : 0;
      int32_t acc = 0;
      for (d = 0; d < p->accum_depth; ++d) {
        acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
      }
      if (bias) acc += bias[o];
      acc = td_mul_by_quantized_mult(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
      output[b * p->output_depth + o] = (int8_t)td_clamp(acc, p->act_min, p->act_max);
    }
  }
}

void td_fully_connected_s16(const td_fc_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                            const TD_WEIGHTS_MEM int64_t *bias, int16_t *output) {
  int32_t b, o, d;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in = input + b * p->accum_depth;
    for (o = 0; o < p->output_depth; ++o) {
      const TD_WEIGHTS_MEM int8_t *w = weights + o * p->accum_depth;
      const int32_t ch = p->per_channel ? o : 0;
      int64_t acc = 0;
      int32_t out;
      for (d = 0; d < p->accum_depth; ++d) {
        acc += (int64_t)((int32_t)w[d] + p->filter_offset) * (int64_t)in[d];
      }
      if (bias) acc += td_weights_s64(bias, o);
      out = td_mul_by_quantized_mult_64(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
      output[b * p->output_depth + o] = (int16_t)td_clamp(out, p->act_min, p->act_max);
    }
  }
}
