/*
 * Data-movement kernels: one strided N-D copy shared by SLICE, STRIDED_SLICE, TRANSPOSE, SPLIT,
 * SPLIT_V and CONCATENATION (dims and strides are computed at conversion time), PAD (in place or not),
 * RESIZE_NEAREST_NEIGHBOR with precomputed index maps, and GATHER.
 * None of them does arithmetic on the values: they move elements of elem_bytes bytes.
 */
#ifndef TD_SHAPE_OPS_H
#define TD_SHAPE_OPS_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TD_COPY_MAX_DIMS 6

/** One strided copy: dst[dst_offset + sum(i_k * dst_strides[k])] = src[src_offset + sum(i_k * src_strides[k])]. */
typedef struct {
  int32_t rank;                           /* 1..TD_COPY_MAX_DIMS */
  int32_t dims[TD_COPY_MAX_DIMS];         /* extent of each copied dimension, outermost first */
  int32_t src_strides[TD_COPY_MAX_DIMS];  /* in elements; may be negative or zero */
  int32_t dst_strides[TD_COPY_MAX_DIMS];  /* in elements */
  int32_t src_offset;                     /* element index of the first element read */
  int32_t dst_offset;                     /* element index of the first element written */
  int32_t elem_bytes;                     /* 1, 2, 4 or 8 */
} td_copy_nd_params;

/**
 * @brief Strided N-D copy (src and dst must not overlap).
 * When the innermost dimension is contiguous on both sides, rows are copied with memcpy.
 */
void td_copy_nd(const td_copy_nd_params *p, const void *src, void *dst);

/**
 * @brief td_copy_nd from a source that may be in flash: a `TD_WEIGHTS_MEM` (`__memx` on AVR) pointer, which
 * also reaches SRAM (a model input held in PROGMEM, read tile by tile). Elsewhere it is td_copy_nd.
 */
void td_copy_nd_memx(const td_copy_nd_params *p, const TD_WEIGHTS_MEM void *src, void *dst);

/** @brief Set count elements of elem_bytes bytes (1, 2, 4) to value (PAD's border). */
void td_fill(void *dst, int32_t value, int32_t count, int32_t elem_bytes);

/** PAD/PADV2: the input (in_dims, row-major) inside an output of in_dims + before + after per dim. */
typedef struct {
  int32_t rank;                      /* 1..TD_COPY_MAX_DIMS (unpadded inner dims merged at conversion) */
  int32_t in_dims[TD_COPY_MAX_DIMS];
  int32_t before[TD_COPY_MAX_DIMS];  /* pad elements before the input, per dim */
  int32_t after[TD_COPY_MAX_DIMS];
  int32_t elem_bytes;                /* 1, 2 or 4 */
  int32_t value;                     /* the pad value */
} td_pad_params;

/**
 * @brief Pad: one pass over the output rows, last row first; an interior row moves its input row in
 * (memmove), then fills its borders. Every element lands at or after the byte it came from, so the
 * output may be written over the input when output == input, or starts up to the padded offset of
 * the input's first element before it: the planner puts PAD in place when its input dies there.
 */
void td_pad(const td_pad_params *p, const void *input, void *output);

/** RESIZE_NEAREST_NEIGHBOR on NHWC: output pixel (y, x) copies input pixel (y_map[y], x_map[x]). */
typedef struct {
  td_dims input;
  td_dims output;       /* output.n = input.n, output.c = input.c */
  int32_t elem_bytes;
  const int32_t *y_map; /* [output.h] source rows, computed as TFLite does */
  const int32_t *x_map; /* [output.w] source columns */
} td_resize_nearest_params;

/** @brief Nearest-neighbour resize (any element type; the maps carry the float index arithmetic). */
void td_resize_nearest(const td_resize_nearest_params *p, const void *input, void *output);

/** GATHER: output[b][o][i][n] = input[b][o][indices[b][i]][n] (coordinates of the flattened shapes). */
typedef struct {
  int32_t batches;      /* product of the first batch_dims dimensions */
  int32_t outer;        /* product of the dimensions between batch_dims and axis */
  int32_t axis_size;    /* input size along axis */
  int32_t inner;        /* elements after axis */
  int32_t num_indices;  /* indices per batch */
  int32_t index_bytes;  /* 4 (int32 indices) or 8 (int64) */
  int32_t elem_bytes;
} td_gather_params;

/**
 * @brief Gather slices along one axis; returns 0, or -1 (output left partly written) when an
 * index is out of range, as TFLite returns an error then.
 */
int td_gather(const td_gather_params *p, const void *input, const void *indices, void *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_SHAPE_OPS_H */
