/* FULLY_CONNECTED reference kernels, bit-exact with TFLite's integer reference (single rounding). */
#include "td_fully_connected.h"

#include "td_kernel.h"

/* One fully-connected variant (see TD_DEFINE_CONV in td_conv.c for the parameters). The int32
 * product of (weight + filter_offset) and (input + input_offset) cannot overflow for int16 inputs:
 * their zero point is 0, so input_offset is 0. */
#define TD_DEFINE_FULLY_CONNECTED(NAME, T, BIAS_T, ACC_T, BIAS_LOAD, REQUANT)                        \
  void NAME(const td_fc_params *p, const T *input, const TD_WEIGHTS_MEM int8_t *weights,            \
            const TD_WEIGHTS_MEM BIAS_T *bias, T *output) {                                         \
    int32_t b, o, d;                                                                                \
    for (b = 0; b < p->batches; ++b) {                                                              \
      const T *in = input + b * p->accum_depth;                                                     \
      for (o = 0; o < p->output_depth; ++o) {                                                       \
        const TD_WEIGHTS_MEM int8_t *w = weights + o * p->accum_depth;                              \
        const int32_t ch = td_requant_channel(&p->requant, o);                                      \
        ACC_T acc = 0;                                                                              \
        for (d = 0; d < p->accum_depth; ++d) {                                                      \
          acc += (ACC_T)(((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset));  \
        }                                                                                           \
        output[b * p->output_depth + o] = TD_REQUANT_OUTPUT(T, ACC_T, BIAS_LOAD, REQUANT, p, bias, acc, o, ch); \
      }                                                                                             \
    }                                                                                               \
  }

TD_DEFINE_FULLY_CONNECTED(td_fully_connected_s8, int8_t, int32_t, int32_t, TD_BIAS_S32, td_mul_by_quantized_mult)
TD_DEFINE_FULLY_CONNECTED(td_fully_connected_s16, int16_t, int64_t, int64_t, TD_BIAS_S64,
                          td_mul_by_quantized_mult_64)
