/* tinydeploy runtime helpers: float <-> quantized conversion and copies. */
#include <math.h>
#include <string.h>

#include "tinydeploy.h"

static int32_t td_clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

void td_quantize_floats(const float *src, void *dst, td_dtype dtype, int32_t n, float scale,
                        int32_t zero_point) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    if (dtype == TD_FLOAT32) {
      ((float *)dst)[i] = src[i];
      continue;
    }
    {
      const int32_t q = (int32_t)roundf(src[i] / scale) + zero_point;
      if (dtype == TD_INT8) ((int8_t *)dst)[i] = (int8_t)td_clamp32(q, -128, 127);
      else if (dtype == TD_INT16) ((int16_t *)dst)[i] = (int16_t)td_clamp32(q, -32768, 32767);
      else if (dtype == TD_UINT8) ((uint8_t *)dst)[i] = (uint8_t)td_clamp32(q, 0, 255);
      else if (dtype == TD_INT32) ((int32_t *)dst)[i] = q;
    }
  }
}

void td_dequantize_floats(const void *src, float *dst, td_dtype dtype, int32_t n, float scale,
                          int32_t zero_point) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    int32_t q;
    if (dtype == TD_FLOAT32) {
      dst[i] = ((const float *)src)[i];
      continue;
    }
    if (dtype == TD_INT8) q = ((const int8_t *)src)[i];
    else if (dtype == TD_INT16) q = ((const int16_t *)src)[i];
    else if (dtype == TD_UINT8) q = ((const uint8_t *)src)[i];
    else q = ((const int32_t *)src)[i];
    dst[i] = (float)((double)scale * (double)(q - zero_point));
  }
}

void td_copy(void *dst, const void *src, uint32_t bytes) {
  if (dst != src) memmove(dst, src, (size_t)bytes);
}
