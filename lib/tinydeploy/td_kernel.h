/*
 * Building blocks of the kernel implementations (not for generated code): window taps, bias loads,
 * requantization of the accumulator kinds.
 *
 * One way to write the int8 / int16 variants of a kernel: a TD_DEFINE_<KERNEL>(NAME, T, ...) macro
 * right above its instantiations defines the whole public function once, parameterized by the
 * element type and, for the conv family, by the bias type, accumulator type, bias load and
 * requantization; each variant is one TD_DEFINE_<KERNEL>(...) line. Variants that are not
 * near-copies (different arithmetic) stay separate functions sharing static helpers.
 */
#ifndef TD_KERNEL_H
#define TD_KERNEL_H

#include "tinydeploy.h"
#include "td_math.h"

/*
 * The range [start, end) of the window taps k with 0 <= origin + dilation * k < size: the taps that
 * fall inside the input (TFLite skips the others: zero padding adds nothing, pooling ignores it).
 */
typedef struct {
  int32_t start, end; /* taps [start, end) of the window read real input */
} td_taps;

static inline td_taps td_window_taps(int32_t origin, int32_t dilation, int32_t taps, int32_t size) {
  const int32_t last = size - 1 - origin; /* largest dilation * k allowed */
  td_taps t;
  int32_t e;
  if (dilation == 1) { /* the common case, without divisions (a library call on AVR and the LX106) */
    t.start = origin < 0 ? -origin : 0;
    e = last < 0 ? 0 : last + 1;
  } else {
    t.start = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
    e = last < 0 ? 0 : last / dilation + 1;
  }
  if (e > taps) e = taps;
  t.end = e < t.start ? t.start : e;
  return t; /* returned by value: no address-taken locals (AVR keeps them in registers) */
}

/* Bias loads of the variants: int32 biases, and int64 ones (16x8) read through td_weights_s64. */
#define TD_BIAS_S32(bias, i) ((bias)[i])
#define TD_BIAS_S64(bias, i) td_weights_s64(bias, i)

/* Index of output channel ch's multiplier / shift in a td_requant. */
static inline int32_t td_requant_channel(const td_requant *q, int32_t ch) { return q->per_channel ? ch : 0; }

/*
 * One output element of a conv-like kernel (conv, depthwise, transpose conv, fully connected): the
 * accumulator plus output channel oc's bias, requantized with channel ch's multiplier and shift, plus
 * the output zero point, clamped to the fused activation.
 */
#define TD_REQUANT_OUTPUT(T, ACC_T, BIAS_LOAD, REQUANT, p, bias, acc, oc, ch)                        \
  ((T)td_clamp(REQUANT((ACC_T)((acc) + ((bias) ? (ACC_T)BIAS_LOAD(bias, oc) : (ACC_T)0)),             \
                       (p)->requant.multiplier[ch], (p)->requant.shift[ch]) + (p)->output_offset,     \
               (p)->activation.min, (p)->activation.max))

/*
 * Two-step requantization of a 32-bit accumulator that wraps around (uint32_t, the 16x8 kernels with
 * an int32 bias: LiteRT's int32 accumulator overflows there without the undefined behaviour).
 */
static inline int32_t td_mul_by_quantized_mult_wrap_dr(uint32_t acc, int32_t multiplier, int32_t shift) {
  return td_mul_by_quantized_mult_dr((int32_t)acc, multiplier, shift);
}

#endif /* TD_KERNEL_H */
