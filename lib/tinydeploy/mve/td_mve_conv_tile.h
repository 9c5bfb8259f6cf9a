/* Shared by the arm-mve conv kernels (td_mve_conv.c, td_mve_conv_tile.c): scratch sizes, alignment and
 * the three-pixel tile. */
#ifndef TD_MVE_CONV_TILE_H
#define TD_MVE_CONV_TILE_H

#include "td_mve_conv.h"

/* Three pixels' accumulators: output.c each, rounded up to whole vectors of four. */
static inline int32_t td_mve_acc_bytes(int32_t channels) { return 12 * ((channels + 3) & ~(int32_t)3); }

static inline void *td_mve_align16(void *p) { return (void *)(((uintptr_t)p + 15u) & ~(uintptr_t)15u); }

/*
 * Three pixels' fields x0, x1, x2 (k int8 each; they may repeat) times every filter: outputs to o0, o1,
 * o2 (repeated with the fields). acc: td_mve_acc_bytes(output.c) bytes, 16-byte aligned.
 */
void td_mve_conv_3px(const td_conv_params *p, int32_t k, const int8_t *x0, const int8_t *x1, const int8_t *x2,
                     const TD_WEIGHTS_MEM int8_t *weights, const TD_WEIGHTS_MEM int32_t *bias, int32_t *acc,
                     int8_t *o0, int8_t *o1, int8_t *o2);

#endif /* TD_MVE_CONV_TILE_H */
