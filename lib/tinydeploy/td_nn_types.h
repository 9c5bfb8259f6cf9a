/* Parameter structs of the window kernels (conv, depthwise, transpose conv, pooling) and fully
 * connected, built from the shared pieces of tinydeploy.h (td_dims, td_window, td_requant,
 * td_activation), as CMSIS-NN's arm_nn_types.h. Every kernel variant (reference, per-architecture)
 * takes the same structs. */
#ifndef TD_NN_TYPES_H
#define TD_NN_TYPES_H

#include "tinydeploy.h"

/**
 * Parameters of one 2-D convolution, computed at conversion time.
 * Layouts: input NHWC `input`, filter OHWI [output.c, window.filter_h, window.filter_w, filter_c],
 * output NHWC `output` (output.n = input.n).
 * Grouped convolution: input.c = groups * filter_c, output.c = groups * filters per group.
 */
typedef struct {
  td_dims input;
  td_dims output;
  int32_t filter_c;          /* input channels seen by one filter */
  td_window window;
  int32_t input_offset;      /* -input zero point (0 for int16) */
  int32_t output_offset;     /* output zero point (0 for int16) */
  td_requant requant;        /* per output channel or per tensor */
  td_activation activation;  /* fused activation clamp */
} td_conv_params;

/**
 * Parameters of one depthwise convolution, computed at conversion time.
 * Layouts: input NHWC `input`, filter [1, window.filter_h, window.filter_w, output.c], output NHWC
 * `output` with output.c = input.c * depth_multiplier; output channel ic * depth_multiplier + m
 * reads input channel ic.
 */
typedef struct {
  td_dims input;
  td_dims output;
  int32_t depth_multiplier;
  td_window window;
  int32_t input_offset;      /* -input zero point (0 for int16) */
  int32_t output_offset;     /* output zero point (0 for int16) */
  td_requant requant;        /* per output channel or per tensor */
  td_activation activation;  /* fused activation clamp */
} td_dw_conv_params;

/**
 * Parameters of one transposed convolution, computed at conversion time.
 * Layouts: input NHWC `input`, filter OHWI [output.c, window.filter_h, window.filter_w, input.c],
 * output NHWC `output`. Input pixel (iy, ix) feeds output pixels
 * (iy * stride_h - pad_h + fy, ix * stride_w - pad_w + fx); the window's dilation is 1.
 *
 * LiteRT scatters every input pixel into an int32/int64 buffer of output size; these kernels
 * gather instead (each output sums the input pixels that reach it), which gives the same
 * integer sums without that buffer, so they need no scratch memory.
 */
typedef struct {
  td_dims input;
  td_dims output;
  td_window window;          /* padding: ComputePaddingHeightWidth on the output size */
  int32_t input_offset;      /* -input zero point (0 for int16) */
  int32_t output_offset;     /* output zero point (0 for int16) */
  td_requant requant;        /* per output channel or per tensor */
  td_activation activation;  /* fused activation clamp */
} td_transpose_conv_params;

/** Parameters of one pooling layer, computed at conversion time (output.c = input.c). */
typedef struct {
  td_dims input;
  td_dims output;
  td_window window;          /* dilation 1; padding: TFLite's padding_values */
  td_activation activation;  /* fused activation clamp in the output's quantized domain */
} td_pool_params;

/** Parameters of one fully-connected layer, computed at conversion time. */
typedef struct {
  int32_t batches;           /* rows of the input */
  int32_t accum_depth;       /* input features = weights columns */
  int32_t output_depth;      /* output features = weights rows */
  int32_t input_offset;      /* -input zero point (0 for int16) */
  int32_t filter_offset;     /* -weights zero point (0 for symmetric weights) */
  int32_t output_offset;     /* output zero point */
  td_requant requant;        /* per output feature or per tensor */
  td_activation activation;  /* fused activation clamp */
} td_fc_params;

#endif /* TD_NN_TYPES_H */
