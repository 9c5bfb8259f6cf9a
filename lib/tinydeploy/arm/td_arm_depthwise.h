/*
 * Internal to the arm-dsp depthwise kernels (td_arm_depthwise_conv.c, td_arm_depthwise_inplace.c): the
 * kernel state that sits at the start of the scratch, and the run over one layer or channel group.
 * Include only under #if defined(__ARM_FEATURE_DSP).
 */
#ifndef TD_ARM_DEPTHWISE_H
#define TD_ARM_DEPTHWISE_H

#include <stdint.h>

#include "td_arm_simd.h"
#include "td_depthwise_conv.h"

#define TD_ARM_DW_CHUNK 64       /* channels per widened weight block and zero-point row */
#define TD_ARM_DW_LAYER_WORDS 25 /* the scratch starts with the td_arm_dw_layer (25 words) */

/* One run of output pixels (td_arm_dw_pixel's instantiations; the first argument is the state). */
typedef void (*td_arm_dw_pixel_fn)(const void *, const int8_t *, const int32_t *, int32_t, int32_t, int8_t *,
                                   int32_t);

typedef struct {
  const td_dw_conv_params *p;
  const TD_WEIGHTS_MEM int32_t *table; /* 16 words per quad (td_depthwise_conv.h) */
  int32_t *wide;                       /* the chunk's widened weights: 2 * taps words per quad */
  const TD_WEIGHTS_MEM int8_t *filter; /* the arm-dsp weights (leftover channels read them directly) */
  int32_t *off, *border;               /* tap offsets: interior (from the pixel), border (from zrow) */
  uint32_t *zrow;                      /* TD_ARM_DW_CHUNK bytes of the input zero point */
  int32_t taps;
  int32_t bstep, ostep;                /* input / output bytes from one output pixel of a row to the next */
  int clamp;                           /* the activation narrows [-128, 127] */
  uint32_t lo4, hi4;                   /* activation bounds in all four bytes */
  /* the call (set by the public functions): input as h x w x c with top/left padding pad_h/pad_w */
  const int8_t *input;
  int8_t *output;                      /* output pixels ostep bytes apart */
  int32_t h, w, c, pad_h, pad_w;
  int fast;                            /* the fast table */
  int whole;                           /* in place: one batch, no padding, every window inside */
  /* set by td_arm_dw_run */
  td_arm_dw_pixel_fn pixel;
  int32_t ox0, ox1;                    /* interior output columns (every tap inside the input) */
} td_arm_dw_layer;

typedef char td_arm_dw_layer_fits[sizeof(td_arm_dw_layer) <= 4 * TD_ARM_DW_LAYER_WORDS ? 1 : -1];

/* Scratch of td_arm_dw_run (+ a word for the alignment): the td_arm_dw_layer, tap offsets (interior,
 * border), the widened weights of one chunk, zrow. */
static inline int32_t td_arm_dw_scratch(int32_t taps, int32_t channels) {
  const int32_t chunk = channels < TD_ARM_DW_CHUNK ? channels : TD_ARM_DW_CHUNK;
  return 4 * (1 + TD_ARM_DW_LAYER_WORDS + 2 * taps + 2 * taps * (chunk / 4) + TD_ARM_DW_CHUNK / 4);
}

/* The layer (or, in place, a group of at most four channels) as the call fields of l describe it; quads =
 * the table after its header. l is the start of the scratch (its state stays off the stack). */
void td_arm_dw_run(td_arm_dw_layer *l, const TD_WEIGHTS_MEM int32_t *quads);

#endif /* TD_ARM_DEPTHWISE_H */
