/*
 * tinydeploy runtime: common types and macros shared by the kernels and generated models.
 * Portable C99; no malloc; int is assumed to be only 16 bits wide (AVR), so every
 * quantity that can exceed 32767 uses an explicit int32_t/int64_t.
 */
#ifndef TINYDEPLOY_H
#define TINYDEPLOY_H

#include <stddef.h>
#include <stdint.h>

#define TD_RUNTIME_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define TD_ALIGN(n) __attribute__((aligned(n)))
#else
#define TD_ALIGN(n)
#endif

/* Board glue may define this to place weights in a flash section. */
#ifndef TD_WEIGHTS_ATTR
#define TD_WEIGHTS_ATTR
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  TD_INT8 = 0,
  TD_INT16 = 1,
  TD_INT32 = 2,
  TD_FLOAT32 = 3,
  TD_UINT8 = 4,
  TD_INT64 = 5,
  TD_BOOL = 6
} td_dtype;

/** Description of one model input or output tensor (shape, type, quantization, place). */
typedef struct {
  const char *name;
  td_dtype dtype;
  uint8_t rank;
  int32_t dims[6];
  float scale;        /* 0 when not quantized */
  int32_t zero_point;
  uint32_t offset;    /* byte offset in the arena */
  uint32_t bytes;
} td_tensor_info;

/** Quantize floats: q = clamp(round(x / scale) + zero_point), as TFLite's QUANTIZE. */
void td_quantize_floats(const float *src, void *dst, td_dtype dtype, int32_t n, float scale,
                        int32_t zero_point);
/** Dequantize to floats: x = scale * (q - zero_point), as TFLite's DEQUANTIZE. */
void td_dequantize_floats(const void *src, float *dst, td_dtype dtype, int32_t n, float scale,
                          int32_t zero_point);
/** Byte copy that tolerates overlap (RESHAPE and friends). */
void td_copy(void *dst, const void *src, uint32_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* TINYDEPLOY_H */
