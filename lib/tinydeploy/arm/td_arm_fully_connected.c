/*
 * FULLY_CONNECTED int8 for Arm cores with the DSP extension (Cortex-M4/M7/M33/M55): the arm-dsp
 * variant of td_fully_connected_s8, bit-exact with it (same single-rounding requantization).
 *
 * The compiler prepares two constants at conversion time (ops/_arm.py):
 *   - the weights in the order this loop reads them (td_fully_connected.h, "arm-dsp weight layout"):
 *     output rows in blocks of four, each block column group by column group (four bytes of row 0,
 *     four of row 1, 2, 3), then the block's leftover columns column by column, then the leftover
 *     rows (output_depth % 4) as plain rows; the byte count is unchanged;
 *   - the bias with the input offset folded in: bias[o] + input_offset * sum_d w[o][d] (int32,
 *     wrapping like the reference accumulator), so the loop multiplies the raw int8 input.
 * Four input bytes are sign-extended once into two halfword pairs (SXTB16, and SXTB16 of the word
 * rotated by 8: bytes 0,2 and 1,3); each weight word is split the same way, and SMLAD adds two
 * products at a time. Four rows share one input load, one extension and one weight pointer.
 */
#include "td_fully_connected.h"

#if defined(__ARM_FEATURE_DSP)

#include "td_arm_simd.h"
#include "td_kernel.h"

/* Whether every channel's shift is <= -2 (a rescale below 1/4, the usual case): td_arm_fc_outputs'
 * fast path. */
static int td_arm_fc_fast(const td_fc_params *p) {
  const int32_t n = p->requant.per_channel ? p->output_depth : 1;
  int32_t i;
  for (i = 0; i < n; ++i) {
    if (p->requant.shift[i] > -2) return 0;
  }
  return 1;
}

/*
 * Outputs o .. o + n - 1 from their accumulators (the folded bias included). On the fast path each
 * rounds once from the product's high word: (hi + 2^(k-1)) >> k = ((hi >> (k - 1)) + 1) >> 1 with
 * k = -shift - 1 (exact: the product's low word is a fraction below one that cannot carry across a
 * multiple of 2^k), the output offset and low bound riding along in c, then USAT to [0, 255] and the
 * span of the activation; otherwise td_mul_by_quantized_mult.
 */
static void td_arm_fc_outputs(const td_fc_params *p, int fast, const int32_t *acc, int32_t n, int8_t *out,
                              int32_t o) {
  const int32_t lo = p->activation.min, hi = p->activation.max, span = hi - lo;
  const int32_t step = p->requant.per_channel ? 1 : 0;
  const TD_WEIGHTS_MEM int32_t *mult = p->requant.multiplier + step * o, *shift = p->requant.shift + step * o;
  int32_t i;
  if (fast && step) {
    int8_t *const end = out + n;
    const int32_t c = 1 + 2 * (p->output_offset - lo);
    int32_t v, m, r;
    __asm__ volatile("1:\n\t"
                     "ldr %[v], [%[acc]], #4\n\t"
                     "ldr %[m], [%[mult]], #4\n\t"
                     "ldr %[r], [%[shift]], #4\n\t"
                     "smull %[m], %[v], %[v], %[m]\n\t"
                     "mvn %[r], %[r]\n\t"
                     "sub %[r], %[r], #1\n\t"
                     "asr %[v], %[v], %[r]\n\t"
                     "add %[v], %[v], %[c]\n\t"
                     "usat %[v], #8, %[v], asr #1\n\t"
                     "cmp %[v], %[span]\n\t"
                     "it gt\n\t"
                     "movgt %[v], %[span]\n\t"
                     "add %[v], %[v], %[lo]\n\t"
                     "strb %[v], [%[out]], #1\n\t"
                     "cmp %[out], %[end]\n\t"
                     "bne 1b"
                     : [v] "=&r"(v), [m] "=&r"(m), [r] "=&r"(r), [acc] "+r"(acc), [mult] "+r"(mult),
                       [shift] "+r"(shift), [out] "+r"(out)
                     : [c] "r"(c), [span] "r"(span), [lo] "r"(lo), [end] "r"(end)
                     : "cc", "memory");
    return;
  }
  for (i = 0; i < n; ++i, mult += step, shift += step) {
    out[i] = (int8_t)td_clamp(td_mul_by_quantized_mult(acc[i], *mult, *shift) + p->output_offset, lo, hi);
  }
}

/* Four output rows (one weight block) for one input row; returns the end of the block. */
static const TD_WEIGHTS_MEM int8_t *td_arm_fc_block4(const td_fc_params *p, int fast, const int8_t *in,
                                                      const int32_t *xw,
                                                      const TD_WEIGHTS_MEM int8_t *w,
                                      const TD_WEIGHTS_MEM int32_t *bias, int8_t *out, int32_t o) {
  const int32_t depth = p->accum_depth, d4 = depth & ~(int32_t)3;
  int32_t a0 = bias[o], a1 = bias[o + 1], a2 = bias[o + 2], a3 = bias[o + 3], d = d4;
  int32_t acc[4];
  if (d4) { /* per four columns: the widened input pair (LDRD), four weight words (two LDRD) */
    const int32_t *x_at = xw;
    const int32_t *const x_end = xw + d4 / 2;
    int32_t x02, x13, wa, wb, t;
    __asm__("1:\n\t"
            "ldrd %[x02], %[x13], [%[in]], #8\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad %[a0], %[t], %[x02], %[a0]\n\t"
            "smlad %[a0], %[wa], %[x13], %[a0]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad %[a1], %[t], %[x02], %[a1]\n\t"
            "smlad %[a1], %[wb], %[x13], %[a1]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "sxtb16 %[wa], %[wa], ror #8\n\t"
            "smlad %[a2], %[t], %[x02], %[a2]\n\t"
            "smlad %[a2], %[wa], %[x13], %[a2]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "sxtb16 %[wb], %[wb], ror #8\n\t"
            "smlad %[a3], %[t], %[x02], %[a3]\n\t"
            "smlad %[a3], %[wb], %[x13], %[a3]\n\t"
            "cmp %[in], %[end]\n\t"
            "bne 1b"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [in] "+r"(x_at), [w] "+r"(w),
              [x02] "=&r"(x02), [x13] "=&r"(x13), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t)
            : [end] "r"(x_end)
            : "cc", "memory");
  }
  for (; d < depth; ++d) { /* leftover columns: the four rows' weights of column d */
    const int32_t x = in[d];
    a0 += w[0] * x;
    a1 += w[1] * x;
    a2 += w[2] * x;
    a3 += w[3] * x;
    w += 4;
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
  td_arm_fc_outputs(p, fast, acc, 4, out + o, o);
  return w;
}

/* One leftover output row (a plain row of weights); returns the end of the row. */
static const TD_WEIGHTS_MEM int8_t *td_arm_fc_row(const td_fc_params *p, int fast, const int8_t *in, const TD_WEIGHTS_MEM int8_t *w,
                                   const TD_WEIGHTS_MEM int32_t *bias, int8_t *out, int32_t o) {
  const int32_t depth = p->accum_depth, d4 = depth & ~(int32_t)3;
  int32_t acc = bias[o], d;
  for (d = 0; d < d4; d += 4) {
    const uint32_t x = td_arm_read4(in + d);
    acc = td_arm_dot4(acc, td_arm_read4(w + d), __sxtb16((int32_t)x), td_arm_sxtb16_ror8(x));
  }
  for (; d < depth; ++d) acc += w[d] * in[d];
  td_arm_fc_outputs(p, fast, &acc, 1, out + o, o);
  return w + depth;
}

int32_t td_fully_connected_s8_arm_dsp_scratch_size(const td_fc_params *p) {
  return 2 * ((p->accum_depth + 3) & ~(int32_t)3) + 3; /* the input row widened, + word alignment */
}

void td_fully_connected_s8_arm_dsp(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                                   const TD_WEIGHTS_MEM int32_t *bias, int8_t *output, void *scratch) {
  int32_t *const xw = (int32_t *)td_arm_word_align(scratch);
  const int32_t units = p->output_depth, u4 = units & ~(int32_t)3;
  const int fast = td_arm_fc_fast(p);
  int32_t b, o;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in = input + b * p->accum_depth;
    int8_t *out = output + b * units;
    const TD_WEIGHTS_MEM int8_t *w = weights;
    int32_t d;
    for (d = 0; d + 4 <= p->accum_depth; d += 4) { /* the input row widened once: (x0, x2), (x1, x3) */
      const uint32_t v = td_arm_read4(in + d);
      xw[d / 2] = __sxtb16((int32_t)v);
      xw[d / 2 + 1] = td_arm_sxtb16_ror8(v);
    }
    for (o = 0; o < u4; o += 4) w = td_arm_fc_block4(p, fast, in, xw, w, bias, out, o);
    for (; o < units; ++o) w = td_arm_fc_row(p, fast, in, w, bias, out, o);
  }
}

#else
typedef int td_arm_fully_connected_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
