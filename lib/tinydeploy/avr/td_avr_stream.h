/*
 * Building blocks of the AVR kernels (td_avr.h; included only inside their `#if defined(__AVR__)`):
 * a flash stream read in sequence, the MULS dot products, the headers and the requantization.
 */
#ifndef TD_AVR_STREAM_H
#define TD_AVR_STREAM_H

#include <avr/io.h>

#include "td_avr.h"
#include "td_math.h"

/* TD_AVR_MEMX: TD_WEIGHTS_MEM is __memx (tinydeploy.h), constants in flash; checked below. */
#if defined(__MEMX) && !defined(__STRICT_ANSI__) && !defined(__cplusplus)
#define TD_AVR_MEMX 1
#else
#define TD_AVR_MEMX 0
#endif
typedef char td_avr_memx_check[sizeof(const TD_WEIGHTS_MEM int8_t *) == (TD_AVR_MEMX ? 3 : 2) ? 1 : -1];

/* The read of one stream byte into operand R, Z post-incremented: ELPM (RAMPZ:Z, 24 bits, crosses 64 KB
 * boundaries), LPM on parts without RAMPZ, LD when the constants are in SRAM. */
#if TD_AVR_MEMX && defined(__AVR_HAVE_ELPMX__) && defined(__AVR_HAVE_RAMPZ__)
#define TD_AVR_RD(r) "elpm " r ", Z+\n\t"
#define TD_AVR_ZIN "out %[rz], %[hi]\n\t"
#define TD_AVR_ZOUT "in %[hi], %[rz]\n\t"
#define TD_AVR_RZ [rz] "I"(_SFR_IO_ADDR(RAMPZ))
#elif TD_AVR_MEMX
#define TD_AVR_RD(r) "lpm " r ", Z+\n\t"
#define TD_AVR_ZIN
#define TD_AVR_ZOUT
#define TD_AVR_RZ [rz] "I"(0)
#else
#define TD_AVR_RD(r) "ld " r ", Z+\n\t"
#define TD_AVR_ZIN
#define TD_AVR_ZOUT
#define TD_AVR_RZ [rz] "I"(0)
#endif

/** A position in a stream: Z and (with ELPM) RAMPZ. */
typedef struct {
  uint16_t z;
  uint8_t hi;
} td_avr_flash;

static inline td_avr_flash td_avr_open(const TD_WEIGHTS_MEM int8_t *p) {
  td_avr_flash f;
#if TD_AVR_MEMX
  const __uint24 a = (__uint24)p;
  f.z = (uint16_t)a;
  f.hi = (uint8_t)(a >> 16);
#else
  f.z = (uint16_t)p;
  f.hi = 0;
#endif
  return f;
}

static inline uint8_t td_avr_u8(td_avr_flash *f) {
  uint8_t v;
  __asm__(TD_AVR_ZIN TD_AVR_RD("%[v]") TD_AVR_ZOUT
          : [v] "=r"(v), [z] "+z"(f->z), [hi] "+r"(f->hi) : TD_AVR_RZ);
  return v;
}

static inline uint32_t td_avr_u32(td_avr_flash *f) {
  uint32_t v;
  __asm__(TD_AVR_ZIN TD_AVR_RD("%A[v]") TD_AVR_RD("%B[v]") TD_AVR_RD("%C[v]") TD_AVR_RD("%D[v]") TD_AVR_ZOUT
          : [v] "=&r"(v), [z] "+z"(f->z), [hi] "+r"(f->hi) : TD_AVR_RZ);
  return v;
}

/*
 * sum x[i] * w[i] over n > 0 taps, the w read from the stream. 16-bit sum: exact when the compiler proved
 * the channel's total fits int16 (wrapping partial sums do not matter); 24-bit otherwise (proved too).
 * MULS leaves the product in r1:r0, so the zero register is cleared again at the end.
 */
static inline int32_t td_avr_dot16(td_avr_flash *f, const int8_t *x, uint16_t n) {
  int16_t acc = 0;
  uint8_t w, v;
  __asm__ volatile(TD_AVR_ZIN
                   "1:\n\t" TD_AVR_RD("%[w]")
                   "ld %[v], X+\n\t"
                   "muls %[w], %[v]\n\t"
                   "add %A[acc], r0\n\t"
                   "adc %B[acc], r1\n\t"
                   "sbiw %[n], 1\n\t"
                   "brne 1b\n\t"
                   "clr __zero_reg__\n\t" TD_AVR_ZOUT
                   : [acc] "+r"(acc), [w] "=&d"(w), [v] "=&d"(v), [n] "+w"(n), [x] "+x"(x), [z] "+z"(f->z),
                     [hi] "+r"(f->hi)
                   : TD_AVR_RZ
                   : "memory");
  return acc;
}

static inline int32_t td_avr_dot24(td_avr_flash *f, const int8_t *x, uint16_t n) {
  __int24 acc = 0;
  uint8_t w, v, zero;
  __asm__ volatile(TD_AVR_ZIN
                   "clr %[zero]\n"
                   "1:\n\t" TD_AVR_RD("%[w]")
                   "ld %[v], X+\n\t"
                   "muls %[w], %[v]\n\t"
                   "add %A[acc], r0\n\t"
                   "adc %B[acc], r1\n\t"
                   "adc %C[acc], %[zero]\n\t"
                   "sbrc r1, 7\n\t"
                   "dec %C[acc]\n\t"
                   "sbiw %[n], 1\n\t"
                   "brne 1b\n\t"
                   "clr __zero_reg__\n\t" TD_AVR_ZOUT
                   : [acc] "+r"(acc), [w] "=&d"(w), [v] "=&d"(v), [zero] "=&r"(zero), [n] "+w"(n), [x] "+x"(x),
                     [z] "+z"(f->z), [hi] "+r"(f->hi)
                   : TD_AVR_RZ
                   : "memory");
  return acc;
}

/* Out of line (as the header read): inlined into the kernels' loops, the fixed X and Z registers leave
 * avr-gcc no pointer register for the rest. */
static __attribute__((noinline, unused)) int32_t td_avr_dot(td_avr_flash *f, const int8_t *x, uint16_t n,
                                                            uint8_t wide) {
  return wide ? td_avr_dot24(f, x, n) : td_avr_dot16(f, x, n);
}

/** A "dr" header (td_avr.h), read from the stream into SRAM. */
typedef struct {
  int32_t bias, mult, mask;
  uint8_t left, right, wide;
} td_avr_dr;

static __attribute__((noinline, unused)) void td_avr_read_dr(td_avr_flash *f, td_avr_dr *h) {
  h->bias = (int32_t)td_avr_u32(f);
  h->mult = (int32_t)td_avr_u32(f);
  h->mask = (int32_t)td_avr_u32(f);
  h->left = td_avr_u8(f);
  h->right = td_avr_u8(f);
  h->wide = td_avr_u8(f);
}

/* The 64-bit product x * m as two 32-bit halves (one widening multiply, __mulsidi3). */
typedef union {
  int64_t v;
  struct {
    uint32_t lo;
    int32_t hi;
  } h;
} td_avr_wide;

/*
 * td_mul_by_quantized_mult_dr(acc, m, left - right): the rounding doubling high multiply is
 * floor((x * m + 2^30) / 2^31) for m >= 0 (its sign-dependent nudge gives exactly that), taken from the
 * halves; the rounding right shift uses the header's mask. Then the output offset and the clamp.
 */
static inline int8_t td_avr_requant_dr(int32_t acc, const td_avr_dr *h, int16_t offset, int16_t lo, int16_t hi) {
  td_avr_wide p;
  uint32_t low;
  int32_t y, r, rem, threshold;
  p.v = (int64_t)(int32_t)((uint32_t)acc << h->left) * h->mult;
  low = p.h.lo + 0x40000000UL;
  y = (int32_t)(((uint32_t)(p.h.hi + (low < 0x40000000UL)) << 1) | (low >> 31));
  r = y >> h->right;
  rem = y & h->mask;
  threshold = (h->mask >> 1) + (y < 0);
  r += rem > threshold;
  r += offset;
  return (int8_t)(r < lo ? lo : (r > hi ? hi : r));
}

#endif /* TD_AVR_STREAM_H */
