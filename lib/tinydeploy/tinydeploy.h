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

/*
 * TD_WEIGHTS_MEM: the address space of the large constants (weights, biases, requantization
 * multipliers/shifts, lookup tables) and of the kernel pointer parameters that read them.
 * avr-gcc copies plain `static const` data into SRAM at start-up (8 KB on a mega2560), so on AVR
 * in GNU C mode (-std=gnu99/gnu11, what the Arduino IDE and PlatformIO use) they go to flash via
 * the 24-bit `__memx` address space: reads through such a pointer are ordinary C and also work
 * for SRAM data (a generic pointer converts to a __memx one implicitly; the reverse is wrong).
 * With -std=c99/c11 (__STRICT_ANSI__) or -fno-asm, avr-gcc has no named address spaces: it stays
 * empty and the constants stay in SRAM. Empty on every other target and in C++. C++ code on AVR
 * must not call the weight-taking kernels directly (their __memx pointers are 3 bytes wide); it
 * calls the generated <model>_invoke(), which is C. Define TD_WEIGHTS_MEM (e.g. empty) to override.
 */
#ifndef TD_WEIGHTS_MEM
#if defined(__AVR__) && defined(__GNUC__) && !defined(__cplusplus) && defined(__MEMX) && \
    !defined(__STRICT_ANSI__)
#define TD_WEIGHTS_MEM __memx
#else
#define TD_WEIGHTS_MEM
#endif
#endif

/* Alignment of the generated constant arrays: none on AVR (8-bit loads; padding would only waste
 * flash, or SRAM when the constants live there), 16 bytes elsewhere. */
#ifndef TD_CONST_ALIGN
#if defined(__AVR__)
#define TD_CONST_ALIGN
#else
#define TD_CONST_ALIGN TD_ALIGN(16)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One int64 read from TD_WEIGHTS_MEM (the 16x8 kernels' biases). Out of line on AVR: avr-gcc 5.4
 * miscompiles a 64-bit __memx load inside the 16x8 kernels (wrong results at -Os/-O2, "unable to
 * find a register to spill" at -O1); a separate function keeps the 24-bit pointer out of the
 * 64-bit arithmetic's registers.
 */
#if defined(__AVR__) && !defined(__cplusplus)
static __attribute__((noinline, unused)) int64_t td_weights_s64(const TD_WEIGHTS_MEM int64_t *p, int32_t i) {
  return p[i];
}
#else
#define td_weights_s64(p, i) ((p)[i])
#endif

/*
 * Building blocks of the kernels' parameter structs (as CMSIS-NN's cmsis_nn_dims, cmsis_nn_tile,
 * cmsis_nn_activation, cmsis_nn_per_channel_quant_params): every conv-like and pooling kernel
 * describes its tensors, window, requantization and activation with these, so optimized variants
 * of a kernel (same function name, another architecture) share one struct layout. Field names
 * follow one rule everywhere: _h / _w for the two spatial axes, n / h / w / c for the NHWC
 * extents, zero_point spelled out, offset for a negated zero point.
 */

/** Extents of an NHWC tensor: n batches, h rows, w columns, c channels. */
typedef struct {
  int32_t n, h, w, c;
} td_dims;

/** Sliding window along (rows, columns), as the compiler's ops/window.py Window. */
typedef struct {
  int32_t filter_h, filter_w;     /* taps */
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w; /* 1 where the op has none (pooling, transposed convolution) */
  int32_t pad_h, pad_w;           /* top / left padding (TFLite ComputePaddingHeightWidth) */
} td_window;

/** Fused activation clamp, in the output's quantized domain. */
typedef struct {
  int32_t min, max;
} td_activation;

/** Requantization of an accumulator: Q31 multiplier(s) with power-of-two exponent(s), >0 = left. */
typedef struct {
  int32_t per_channel; /* 1: one multiplier/shift per output channel, 0: element 0 for all */
  const TD_WEIGHTS_MEM int32_t *multiplier;
  const TD_WEIGHTS_MEM int32_t *shift;
} td_requant;

/*
 * Scratch check of the generated code: before a kernel that takes scratch memory it states
 * TD_CHECK_SCRATCH(<kernel>_scratch_size(params), planned bytes). With TD_DEBUG defined (the
 * host runner's --sanitize builds) a plan smaller than what the kernel says it needs stops in
 * assert(); otherwise the check compiles to nothing.
 */
#ifdef TD_DEBUG
#include <assert.h>
#define TD_CHECK_SCRATCH(needed, planned) assert((int32_t)(needed) <= (int32_t)(planned))
#else
#define TD_CHECK_SCRATCH(needed, planned) ((void)0)
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
  void *data;         /* not NULL: outside the arena, here (a float edge's buffer); NULL: in the arena */
} td_tensor_info;

/** Where a model input's or output's bytes are: its own buffer (float edges), else in the arena. */
static inline uint8_t *td_tensor_data(const td_tensor_info *t, uint8_t *arena) {
  return t->data ? (uint8_t *)t->data : arena + t->offset;
}

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
