/*
 * Building blocks of the AVR kernels (td_avr.h; included only inside their `#if` for AVR cores with MUL):
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

/* Skip n bytes of the stream (RAMPZ:Z as one 24-bit address). */
static inline void td_avr_skip(td_avr_flash *f, uint16_t n) {
  const uint16_t z = f->z + n;
  f->hi += z < f->z;
  f->z = z;
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
 * MULS leaves the product in r1:r0, so the zero register is cleared again at the end. An odd tap first,
 * then two taps per loop.
 */
#define TD_AVR_MAC16 TD_AVR_RD("%[w]") "ld %[v], X+\n\tmuls %[w], %[v]\n\tadd %A[acc], r0\n\tadc %B[acc], r1\n\t"
#define TD_AVR_MAC24 TD_AVR_MAC16 "adc %C[acc], %[zero]\n\tsbrc r1, 7\n\tdec %C[acc]\n\t"
#define TD_AVR_PAIRS(MAC)                                                                                  \
  "sbrs %A[n], 0\n\trjmp 2f\n\t" MAC "2:\n\tlsr %B[n]\n\tror %A[n]\n\tsbiw %[n], 0\n\tbreq 3f\n"          \
  "1:\n\t" MAC MAC "sbiw %[n], 1\n\tbrne 1b\n"                                                            \
  "3:\n\tclr __zero_reg__\n\t"

static inline int32_t td_avr_dot16(td_avr_flash *f, const int8_t *x, uint16_t n) {
  int16_t acc = 0;
  uint8_t w, v;
  __asm__ volatile(TD_AVR_ZIN TD_AVR_PAIRS(TD_AVR_MAC16) TD_AVR_ZOUT
                   : [acc] "+r"(acc), [w] "=&d"(w), [v] "=&d"(v), [n] "+w"(n), [x] "+x"(x), [z] "+z"(f->z),
                     [hi] "+r"(f->hi)
                   : TD_AVR_RZ
                   : "memory");
  return acc;
}

static inline int32_t td_avr_dot24(td_avr_flash *f, const int8_t *x, uint16_t n) {
  __int24 acc = 0;
  uint8_t w, v, zero;
  __asm__ volatile(TD_AVR_ZIN "clr %[zero]\n\t" TD_AVR_PAIRS(TD_AVR_MAC24) TD_AVR_ZOUT
                   : [acc] "+r"(acc), [w] "=&d"(w), [v] "=&d"(v), [zero] "=&r"(zero), [n] "+w"(n), [x] "+x"(x),
                     [z] "+z"(f->z), [hi] "+r"(f->hi)
                   : TD_AVR_RZ
                   : "memory");
  return acc;
}

/* td_avr_dot24 over rows taps of cols contiguous bytes each, `skip` bytes between the rows (a window of
 * a padded plane). */
static inline int32_t td_avr_dot_rows(td_avr_flash *f, const int8_t *x, uint8_t rows, uint8_t cols, int16_t skip) {
  __int24 acc = 0;
  uint8_t w, v, zero, n;
  __asm__ volatile(TD_AVR_ZIN
                   "clr %[zero]\n"
                   "2:\n\t"
                   "mov %[n], %[cols]\n"
                   "1:\n\t" TD_AVR_RD("%[w]")
                   "ld %[v], X+\n\t"
                   "muls %[w], %[v]\n\t"
                   "add %A[acc], r0\n\t"
                   "adc %B[acc], r1\n\t"
                   "adc %C[acc], %[zero]\n\t"
                   "sbrc r1, 7\n\t"
                   "dec %C[acc]\n\t"
                   "dec %[n]\n\t"
                   "brne 1b\n\t"
                   "add r26, %A[skip]\n\t"
                   "adc r27, %B[skip]\n\t"
                   "dec %[rows]\n\t"
                   "brne 2b\n\t"
                   "clr __zero_reg__\n\t" TD_AVR_ZOUT
                   : [acc] "+r"(acc), [w] "=&d"(w), [v] "=&d"(v), [zero] "=&r"(zero), [n] "=&r"(n),
                     [rows] "+r"(rows), [x] "+x"(x), [z] "+z"(f->z), [hi] "+r"(f->hi)
                   : [cols] "r"(cols), [skip] "r"(skip), TD_AVR_RZ
                   : "memory");
  return acc;
}

static inline int32_t td_avr_dot(td_avr_flash *f, const int8_t *x, uint16_t n, uint8_t wide) {
  return wide ? td_avr_dot24(f, x, n) : td_avr_dot16(f, x, n);
}

/** A "dr" header (td_avr.h), read from the stream into SRAM. */
typedef struct {
  int32_t bias, mult, mask, below, above;
  uint8_t left, right, wide;
} td_avr_dr;

/* The header's 23 bytes copied as they are (the struct has the stream's little-endian layout, no padding). */
#define TD_AVR_COPY1 TD_AVR_RD("__tmp_reg__") "st X+, __tmp_reg__\n\t"
#define TD_AVR_COPY5 TD_AVR_COPY1 TD_AVR_COPY1 TD_AVR_COPY1 TD_AVR_COPY1 TD_AVR_COPY1
typedef char td_avr_dr_check[sizeof(td_avr_dr) == 23 ? 1 : -1];

static inline void td_avr_read_dr(td_avr_flash *f, td_avr_dr *h) {
  __asm__ volatile(TD_AVR_ZIN TD_AVR_COPY5 TD_AVR_COPY5 TD_AVR_COPY5 TD_AVR_COPY5 TD_AVR_COPY1 TD_AVR_COPY1
                   TD_AVR_COPY1 TD_AVR_ZOUT
                   : [z] "+z"(f->z), [hi] "+r"(f->hi), "+x"(h)
                   : TD_AVR_RZ
                   : "memory");
}

/* The 64-bit product x * m as two 32-bit halves. */
typedef union {
  int64_t v;
  struct {
    uint32_t lo;
    int32_t hi;
  } h;
} td_avr_wide;

/* Add the 16-bit product r1:r0 at byte K of the lo:hi product, carry up to byte 7 (unsigned products). */
#define TD_AVR_ADD1 "add %B[lo], r0\n\tadc %C[lo], r1\n\tadc %D[lo], %[zero]\n\tadc %A[hi], %[zero]\n\t" \
                    "adc %B[hi], %[zero]\n\tadc %C[hi], %[zero]\n\tadc %D[hi], %[zero]\n\t"
#define TD_AVR_ADD2 "add %C[lo], r0\n\tadc %D[lo], r1\n\tadc %A[hi], %[zero]\n\t" \
                    "adc %B[hi], %[zero]\n\tadc %C[hi], %[zero]\n\tadc %D[hi], %[zero]\n\t"
#define TD_AVR_ADD3 "add %D[lo], r0\n\tadc %A[hi], r1\n\tadc %B[hi], %[zero]\n\tadc %C[hi], %[zero]\n\t" \
                    "adc %D[hi], %[zero]\n\t"
#define TD_AVR_ADD4 "add %A[hi], r0\n\tadc %B[hi], r1\n\tadc %C[hi], %[zero]\n\tadc %D[hi], %[zero]\n\t"
#define TD_AVR_ADD5 "add %B[hi], r0\n\tadc %C[hi], r1\n\tadc %D[hi], %[zero]\n\t"
/* The same for a signed product (MULSU of x's top byte): sign-extended with 0x00 or 0xFF. */
#define TD_AVR_SIGN "mov %[sign], r1\n\tlsl %[sign]\n\tsbc %[sign], %[sign]\n\t"
#define TD_AVR_SADD3 TD_AVR_SIGN "add %D[lo], r0\n\tadc %A[hi], r1\n\tadc %B[hi], %[sign]\n\t" \
                     "adc %C[hi], %[sign]\n\tadc %D[hi], %[sign]\n\t"
#define TD_AVR_SADD4 TD_AVR_SIGN "add %A[hi], r0\n\tadc %B[hi], r1\n\tadc %C[hi], %[sign]\n\tadc %D[hi], %[sign]\n\t"
#define TD_AVR_SADD5 TD_AVR_SIGN "add %B[hi], r0\n\tadc %C[hi], r1\n\tadc %D[hi], %[sign]\n\t"

/* x * m for m in [0, 2^31) into the operands lo:hi: sixteen 8x8 multiplies (MUL, and MULSU for x's signed
 * top byte), without libgcc's 64-bit routines (__mulsidi3 takes about twice as long). */
#define TD_AVR_MUL                                                                                         \
  "clr %[zero]\n\t"                                                                                        \
  "mul %A[x], %A[m]\n\tmovw %A[lo], r0\n\t"                                                                \
  "mul %B[x], %B[m]\n\tmovw %C[lo], r0\n\t"                                                                \
  "mul %C[x], %C[m]\n\tmovw %A[hi], r0\n\t"                                                                \
  "mulsu %[x3], %D[m]\n\tmovw %C[hi], r0\n\t"                                                              \
  "mul %A[x], %B[m]\n\t" TD_AVR_ADD1 "mul %B[x], %A[m]\n\t" TD_AVR_ADD1                                    \
  "mul %A[x], %C[m]\n\t" TD_AVR_ADD2 "mul %C[x], %A[m]\n\t" TD_AVR_ADD2                                    \
  "mul %A[x], %D[m]\n\t" TD_AVR_ADD3 "mul %B[x], %C[m]\n\t" TD_AVR_ADD3 "mul %C[x], %B[m]\n\t" TD_AVR_ADD3 \
  "mulsu %[x3], %A[m]\n\t" TD_AVR_SADD3                                                                    \
  "mul %B[x], %D[m]\n\t" TD_AVR_ADD4 "mulsu %[x3], %B[m]\n\t" TD_AVR_SADD4                                 \
  "mul %C[x], %D[m]\n\t" TD_AVR_ADD5 "mulsu %[x3], %C[m]\n\t" TD_AVR_SADD5
#define TD_AVR_MUL_OPERANDS [lo] "=&r"(lo), [hi] "=&r"(hi), [zero] "=&r"(zero), [sign] "=&r"(sign)
#define TD_AVR_MUL_INPUTS [x] "r"(x), [x3] "a"((int8_t)(x >> 24)), [m] "a"(m)

/* The 64-bit x * m (the fully-connected requantization). */
static __attribute__((noinline, unused)) int64_t td_avr_mul(int32_t x, int32_t m) {
  td_avr_wide p;
  uint32_t lo;
  int32_t hi;
  uint8_t zero, sign;
  __asm__(TD_AVR_MUL "clr __zero_reg__\n\t" : TD_AVR_MUL_OPERANDS : TD_AVR_MUL_INPUTS);
  p.h.lo = lo;
  p.h.hi = hi;
  return p.v;
}

/* The rounding doubling high multiply for m in [0, 2^31): floor((x * m + 2^30) / 2^31) (the sign-dependent
 * nudge of td_sat_round_doubling_high_mul gives exactly that), without a 64-bit value in memory. */
static inline int32_t td_avr_high(int32_t x, int32_t m) {
  uint32_t lo;
  int32_t hi;
  uint8_t zero, sign;
  __asm__(TD_AVR_MUL
          "add %D[lo], %[c40]\n\tadc %A[hi], %[zero]\n\tadc %B[hi], %[zero]\n\tadc %C[hi], %[zero]\n\t"
          "adc %D[hi], %[zero]\n\t"
          "lsl %D[lo]\n\trol %A[hi]\n\trol %B[hi]\n\trol %C[hi]\n\trol %D[hi]\n\t"
          "clr __zero_reg__\n\t"
          : TD_AVR_MUL_OPERANDS
          : TD_AVR_MUL_INPUTS, [c40] "r"((uint8_t)0x40));
  return hi;
}

/* y >> e (e < 32) by bytes, then bits. */
static inline int32_t td_avr_asr(int32_t y, uint8_t e) {
  if (e & 16) y >>= 16;
  if (e & 8) y >>= 8;
  for (e &= 7; e; --e) y >>= 1;
  return y;
}

/*
 * td_mul_by_quantized_mult_dr(acc, m, left - right): the rounding doubling high multiply is
 * td_avr_high; the rounding right shift (ties away from zero) uses the header's mask. Then the output
 * offset and the clamp.
 */
static __attribute__((noinline, unused)) int8_t td_avr_requant_dr(int32_t acc, const td_avr_dr *h, int16_t offset,
                                                                  int16_t lo, int16_t hi) {
  const int32_t y = td_avr_high((int32_t)((uint32_t)acc << h->left), h->mult);
  int32_t r = td_avr_asr(y, h->right);
  r += (y & h->mask) > (h->mask >> 1) + (y < 0);
  r += offset;
  return (int8_t)(r < lo ? lo : (r > hi ? hi : r));
}

/** The output zero point and the activation clamp of a layer. */
typedef struct {
  int16_t offset, lo, hi;
} td_avr_range;

/*
 * One output: the dot product of n taps x with the stream's weights plus the header's bias, requantized
 * unless the header's saturation bounds say the clamp decides. Out of line: the kernels' loops keep their
 * registers (the fixed X and Z registers of the asm would leave them no pointer register).
 */
static inline int8_t td_avr_finish(int32_t acc, const td_avr_dr *h, const td_avr_range *o) {
  if (acc < h->below) return (int8_t)o->lo; /* saturated: no requantization */
  if (acc > h->above) return (int8_t)o->hi;
  return td_avr_requant_dr(acc, h, o->offset, o->lo, o->hi);
}

static __attribute__((noinline, unused)) int8_t td_avr_output(td_avr_flash *f, const int8_t *x, uint16_t n,
                                                              const td_avr_dr *h, const td_avr_range *o) {
  return td_avr_finish(h->bias + td_avr_dot(f, x, n, h->wide), h, o);
}

/* The same for a window of rows x cols taps in a plane, `skip` bytes from a row's end to the next row. */
static __attribute__((noinline, unused)) int8_t td_avr_output_rows(td_avr_flash *f, const int8_t *x, uint8_t rows,
                                                                   uint8_t cols, int16_t skip, const td_avr_dr *h,
                                                                   const td_avr_range *o) {
  return td_avr_finish(h->bias + td_avr_dot_rows(f, x, rows, cols, skip), h, o);
}

#endif /* TD_AVR_STREAM_H */
