/* Data-movement kernels (see td_shape_ops.h). */
#include "td_shape_ops.h"

#include <string.h>

static void td_copy_elem(uint8_t *d, const uint8_t *s, int32_t elem_bytes) {
  switch (elem_bytes) {
    case 1:
      *d = *s;
      break;
    case 2:
      memcpy(d, s, 2);
      break;
    case 4:
      memcpy(d, s, 4);
      break;
    default:
      memcpy(d, s, (size_t)elem_bytes);
      break;
  }
}

void td_copy_nd(const td_copy_nd_params *p, const void *src, void *dst) {
  const int32_t last = p->rank - 1;
  const int32_t eb = p->elem_bytes;
  const int32_t n_inner = p->dims[last];
  const int32_t s_inner = p->src_strides[last];
  const int32_t d_inner = p->dst_strides[last];
  const int32_t contiguous = (s_inner == 1 && d_inner == 1);
  int32_t idx[TD_COPY_MAX_DIMS];
  int32_t k;
  int32_t s_off = p->src_offset;
  int32_t d_off = p->dst_offset;
  for (k = 0; k < TD_COPY_MAX_DIMS; ++k) idx[k] = 0;
  for (k = 0; k < p->rank; ++k) {
    if (p->dims[k] <= 0) return;
  }
  for (;;) {
    const uint8_t *s = (const uint8_t *)src + s_off * eb;
    uint8_t *d = (uint8_t *)dst + d_off * eb;
    if (contiguous) {
      memcpy(d, s, (size_t)(n_inner * eb));
    } else if (eb == 1) {
      int32_t i;
      for (i = 0; i < n_inner; ++i) d[i * d_inner] = s[i * s_inner];
    } else {
      int32_t i;
      for (i = 0; i < n_inner; ++i) td_copy_elem(d + i * d_inner * eb, s + i * s_inner * eb, eb);
    }
    /* odometer over the outer dimensions */
    k = last - 1;
    while (k >= 0) {
      ++idx[k];
      s_off += p->src_strides[k];
      d_off += p->dst_strides[k];
      if (idx[k] < p->dims[k]) break;
      s_off -= p->src_strides[k] * p->dims[k];
      d_off -= p->dst_strides[k] * p->dims[k];
      idx[k] = 0;
      --k;
    }
    if (k < 0) return;
  }
}

void td_copy_nd_memx(const td_copy_nd_params *p, const TD_WEIGHTS_MEM void *src, void *dst) {
#if defined(__AVR__)
  /* element by element through the 24-bit pointer (memcpy reads only SRAM) */
  const TD_WEIGHTS_MEM uint8_t *s = (const TD_WEIGHTS_MEM uint8_t *)src;
  uint8_t *d = (uint8_t *)dst;
  const int32_t eb = p->elem_bytes;
  int32_t idx[TD_COPY_MAX_DIMS];
  int32_t s_off = p->src_offset;
  int32_t d_off = p->dst_offset;
  int32_t k, b;
  for (k = 0; k < p->rank; ++k) {
    if (p->dims[k] <= 0) return;
    idx[k] = 0;
  }
  for (;;) {
    for (b = 0; b < eb; ++b) d[d_off * eb + b] = s[s_off * eb + b];
    for (k = p->rank - 1; k >= 0; --k) {  /* odometer over every dimension */
      ++idx[k];
      s_off += p->src_strides[k];
      d_off += p->dst_strides[k];
      if (idx[k] < p->dims[k]) break;
      s_off -= p->src_strides[k] * p->dims[k];
      d_off -= p->dst_strides[k] * p->dims[k];
      idx[k] = 0;
    }
    if (k < 0) return;
  }
#else
  td_copy_nd(p, (const void *)src, dst);
#endif
}

void td_fill(void *dst, int32_t value, int32_t count, int32_t elem_bytes) {
  int32_t i;
  if (elem_bytes == 1) {
    memset(dst, (int)(int8_t)value, (size_t)count);
  } else if (elem_bytes == 2) {
    int16_t *d = (int16_t *)dst;
    for (i = 0; i < count; ++i) d[i] = (int16_t)value;
  } else {
    int32_t *d = (int32_t *)dst;
    for (i = 0; i < count; ++i) d[i] = value;
  }
}

void td_pad(const td_pad_params *p, const void *input, void *output) {
  const int32_t last = p->rank - 1;
  const int32_t eb = p->elem_bytes;
  const int32_t in_row = p->in_dims[last];
  const int32_t lo = p->before[last];
  const int32_t out_row = lo + in_row + p->after[last];
  const size_t row_bytes = (size_t)out_row * (size_t)eb;
  const uint8_t *in = (const uint8_t *)input;
  int32_t idx[TD_COPY_MAX_DIMS];
  int32_t out_dims[TD_COPY_MAX_DIMS];
  int32_t rows = 1;
  int32_t r, k;
  uint8_t *out;
  for (k = 0; k < last; ++k) {
    out_dims[k] = p->before[k] + p->in_dims[k] + p->after[k];
    idx[k] = out_dims[k] - 1;
    rows *= out_dims[k];
  }
  if (rows <= 0 || out_row <= 0) return;
  out = (uint8_t *)output + (size_t)rows * row_bytes;
  for (r = rows - 1; r >= 0; --r) {
    int32_t in_index = 0;
    int32_t inside = in_row > 0;
    out -= row_bytes;
    for (k = 0; k < last && inside; ++k) {  /* the input row this output row holds, if any */
      const int32_t i = idx[k] - p->before[k];
      inside = i >= 0 && i < p->in_dims[k];
      in_index = in_index * p->in_dims[k] + i;
    }
    if (inside) {  /* move first: the source may lie under this row's borders */
      memmove(out + (size_t)lo * (size_t)eb, in + (size_t)in_index * (size_t)in_row * (size_t)eb,
              (size_t)in_row * (size_t)eb);
      td_fill(out, p->value, lo, eb);
      td_fill(out + (size_t)(lo + in_row) * (size_t)eb, p->value, p->after[last], eb);
    } else {
      td_fill(out, p->value, out_row, eb);
    }
    for (k = last - 1; k >= 0; --k) {  /* odometer, counting down */
      if (idx[k] > 0) {
        --idx[k];
        break;
      }
      idx[k] = out_dims[k] - 1;
    }
  }
}

void td_resize_nearest(const td_resize_nearest_params *p, const void *input, void *output) {
  const int32_t row_bytes = p->input.c * p->elem_bytes;
  const uint8_t *in = (const uint8_t *)input;
  uint8_t *out = (uint8_t *)output;
  int32_t b, y, x;
  for (b = 0; b < p->input.n; ++b) {
    const uint8_t *in_b = in + b * p->input.h * p->input.w * row_bytes;
    for (y = 0; y < p->output.h; ++y) {
      const uint8_t *in_row = in_b + p->y_map[y] * p->input.w * row_bytes;
      for (x = 0; x < p->output.w; ++x) {
        memcpy(out, in_row + p->x_map[x] * row_bytes, (size_t)row_bytes);
        out += row_bytes;
      }
    }
  }
}

int td_gather(const td_gather_params *p, const void *input, const void *indices, void *output) {
  const int32_t slice_bytes = p->inner * p->elem_bytes;
  const uint8_t *in = (const uint8_t *)input;
  uint8_t *out = (uint8_t *)output;
  int32_t b, o, i;
  for (b = 0; b < p->batches; ++b) {
    for (o = 0; o < p->outer; ++o) {
      const uint8_t *in_slab = in + ((b * p->outer + o) * p->axis_size) * slice_bytes;
      for (i = 0; i < p->num_indices; ++i) {
        const int32_t k = b * p->num_indices + i;
        int64_t index;
        if (p->index_bytes == 8) {
          index = ((const int64_t *)indices)[k];
        } else {
          index = ((const int32_t *)indices)[k];
        }
        if (index < 0 || index >= p->axis_size) return -1;
        memcpy(out, in_slab + (int32_t)index * slice_bytes, (size_t)slice_bytes);
        out += slice_bytes;
      }
    }
  }
  return 0;
}
