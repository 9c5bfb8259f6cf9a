/* ARG_MAX and ARG_MIN over one axis (int8 input, int32 or int64 indices). */
#ifndef TD_ARGMAX_H
#define TD_ARGMAX_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The input seen as [outer, axis_size, inner]; the output is [outer, inner]. */
typedef struct {
  int32_t outer;
  int32_t axis_size;
  int32_t inner;
  int32_t is_min;     /* 1: ARG_MIN, 0: ARG_MAX */
  int32_t out_int64;  /* 1: output is int64_t, 0: int32_t */
} td_arg_minmax_params;

/**
 * @brief Index of the largest (smallest) value along the axis; ties keep the first index.
 * @param[out] output int32_t or int64_t array of outer * inner indices (p->out_int64)
 */
void td_arg_minmax_s8(const td_arg_minmax_params *p, const int8_t *input, void *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_ARGMAX_H */
