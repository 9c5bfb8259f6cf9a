/* ARG_MAX / ARG_MIN, same results as TFLite's ArgMinMax (first index wins on ties). */
#include "td_argmax.h"

void td_arg_minmax_s8(const td_arg_minmax_params *p, const int8_t *input, void *output) {
  int32_t o, n, i;
  for (o = 0; o < p->outer; ++o) {
    const int8_t *slab = input + o * p->axis_size * p->inner;
    for (n = 0; n < p->inner; ++n) {
      int32_t best = slab[n];
      int32_t best_i = 0;
      for (i = 1; i < p->axis_size; ++i) {
        const int32_t v = slab[i * p->inner + n];
        if (p->is_min ? (v < best) : (v > best)) {
          best = v;
          best_i = i;
        }
      }
      if (p->out_int64) {
        ((int64_t *)output)[o * p->inner + n] = best_i;
      } else {
        ((int32_t *)output)[o * p->inner + n] = best_i;
      }
    }
  }
}
