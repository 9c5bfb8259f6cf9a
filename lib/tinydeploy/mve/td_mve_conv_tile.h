/* Shared by the arm-mve conv kernels (td_mve_conv.c, td_mve_conv_tile.c): scratch sizes, alignment and
 * the three-pixel tile. */
#ifndef TD_MVE_CONV_TILE_H
#define TD_MVE_CONV_TILE_H

#include "td_mve_conv.h"

/* Three pixels' accumulators: output.c each, rounded up to whole vectors of four. */
static inline int32_t td_mve_acc_bytes(int32_t channels) { return 12 * ((channels + 3) & ~(int32_t)3); }

static inline void *td_mve_align16(void *p) { return (void *)(((uintptr_t)p + 15u) & ~(uintptr_t)15u); }

/* Where channel ch's accumulator of pixel 0 goes: per four channels, four of each of the three pixels
 * (pixel j's at + 4 j), so the requantization reads whole vectors in order. */
static inline int32_t *td_mve_acc_at(int32_t *acc, int32_t ch) { return acc + 12 * (ch >> 2) + (ch & 3); }

/* Whether some channel's shift is > 0 (a rescale of 1 or more): td_mve_conv_3px's `left`. */
int td_mve_conv_left_shifts(const td_conv_params *p);

/*
 * Three pixels' fields x0, x1, x2 (k int8 each; they may repeat) times every filter: outputs to o0, o1,
 * o2 (repeated with the fields). acc: td_mve_acc_bytes(output.c) bytes, 16-byte aligned.
 */
void td_mve_conv_3px(const td_conv_params *p, int32_t k, int left, const int8_t *x0, const int8_t *x1,
                     const int8_t *x2, const TD_WEIGHTS_MEM int8_t *weights, int32_t *acc, int8_t *o0, int8_t *o1,
                     int8_t *o2);

#endif /* TD_MVE_CONV_TILE_H */
