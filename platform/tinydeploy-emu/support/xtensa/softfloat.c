/* IEEE-754 soft-float helpers missing from Debian's xtensa-lx106-elf libgcc (the ESP8266 has them in
 * its mask ROM, which QEMU's sim machine lacks): binary32/binary64 add, sub, mul, double divide,
 * conversions. Round to nearest even, subnormals, signed zeros, infinities; NaN results follow x86 SSE
 * (the first NaN operand, quieted; the default NaN is negative), so float-I/O models match LiteRT.
 *
 * One engine for both formats: a finite non-zero value is sign * sig * 2^x with the leading one of the
 * 64-bit sig at bit 62 (bits below the format's precision act as guard/sticky bits). Only 32x32->64
 * products built from 16-bit halves and 64-bit shifts/adds are used, so nothing here calls back into a
 * missing helper. Checked against the host's FPU (tests/boards/test_pio_emulated.py compiles it on the
 * host with -DTD_HELPER(n)=td_##n). */
#include <stdint.h>

#ifndef TD_HELPER
#define TD_HELPER(name) name
#endif

typedef struct {
  int mant;      /* fraction bits: 23 or 52 */
  int bias;      /* 127 or 1023 */
  int emax;      /* all-ones exponent: 255 or 2047 */
} td_fmt;

static const td_fmt TD_F32 = {23, 127, 255};
static const td_fmt TD_F64 = {52, 1023, 2047};

enum { TD_ZERO, TD_FINITE, TD_INF, TD_NAN };

typedef struct {
  int cls, sign;
  int32_t x;     /* value = sig * 2^x */
  uint64_t sig;  /* leading one at bit 62 (finite); NaN: the quieted payload bits, left aligned */
} td_unp;

typedef union {
  float f;
  uint32_t u;
} td_f32u;

typedef union {
  double d;
  uint64_t u;
} td_f64u;

static int td_clz64(uint64_t v) { /* v != 0 */
  int n = 0;
  while (!(v & 0x8000000000000000ull)) {
    v <<= 1;
    ++n;
  }
  return n;
}

/* Leading one to bit 62; shifting right keeps a sticky bit. */
static void td_normalize(td_unp *u) {
  if (u->sig & 0x8000000000000000ull) {
    u->sig = (u->sig >> 1) | (u->sig & 1u);
    u->x += 1;
  } else {
    int s = td_clz64(u->sig) - 1;
    u->sig <<= s;
    u->x -= s;
  }
}

static td_unp td_unpack(uint64_t bits, const td_fmt *f) {
  td_unp u;
  int width = f->mant + (f->emax == 255 ? 8 : 11);
  int32_t e = (int32_t)((bits >> f->mant) & (uint64_t)f->emax);
  uint64_t frac = bits & (((uint64_t)1 << f->mant) - 1u);
  u.sign = (int)((bits >> width) & 1u);
  u.x = 0;
  u.sig = 0;
  if (e == f->emax) {
    u.cls = frac ? TD_NAN : TD_INF;
    u.sig = frac << (63 - f->mant); /* payload, left aligned below the quiet bit's position */
    return u;
  }
  if (e == 0 && frac == 0) {
    u.cls = TD_ZERO;
    return u;
  }
  u.cls = TD_FINITE;
  u.sig = e ? (frac | ((uint64_t)1 << f->mant)) : frac;
  u.x = (e ? e : 1) - f->bias - f->mant;
  td_normalize(&u);
  return u;
}

static uint64_t td_pack_special(int cls, int sign, uint64_t payload, const td_fmt *f) {
  int width = f->mant + (f->emax == 255 ? 8 : 11);
  uint64_t b = ((uint64_t)sign << width) | ((uint64_t)f->emax << f->mant);
  if (cls == TD_NAN) b |= ((uint64_t)1 << (f->mant - 1)) | (payload >> (63 - f->mant)); /* quiet */
  return b;
}

/* Round sign * sig * 2^x to the format (nearest, ties to even). */
static uint64_t td_pack(int sign, uint64_t sig, int32_t x, const td_fmt *f) {
  int width = f->mant + (f->emax == 255 ? 8 : 11);
  uint64_t s = (uint64_t)sign << width, keep, rem, half;
  int32_t be;
  int shift;
  td_unp u;
  if (sig == 0) return s;
  u.sig = sig;
  u.x = x;
  td_normalize(&u);
  be = u.x + 62 + f->bias; /* biased exponent of the leading one */
  if (be >= 1) {
    shift = 62 - f->mant;
  } else { /* subnormal: units of 2^(1 - bias - mant) */
    int32_t sh = 1 - f->bias - f->mant - u.x;
    if (sh >= 64) return s;
    shift = (int)sh;
    be = 0;
  }
  keep = u.sig >> shift;
  rem = u.sig & (((uint64_t)1 << shift) - 1u);
  half = (uint64_t)1 << (shift - 1);
  if (rem > half || (rem == half && (keep & 1u))) ++keep;
  if (be == 0) return s | keep; /* a carry into bit `mant` is the smallest normal: same encoding */
  if (keep >> (f->mant + 1)) {
    keep >>= 1;
    ++be;
  }
  if (be >= f->emax) return s | ((uint64_t)f->emax << f->mant);
  return s | ((uint64_t)be << f->mant) | (keep & (((uint64_t)1 << f->mant) - 1u));
}

/* x86: a NaN operand comes back quieted (the first one); invalid operations give the negative default. */
static uint64_t td_nan2(const td_unp *a, const td_unp *b, const td_fmt *f) {
  const td_unp *n = a->cls == TD_NAN ? a : b;
  return td_pack_special(TD_NAN, n->sign, n->sig, f);
}

static uint64_t td_default_nan(const td_fmt *f) { return td_pack_special(TD_NAN, 1, 0, f); }

static uint64_t td_add(uint64_t ab, uint64_t bb, int negate_b, const td_fmt *f) {
  td_unp a = td_unpack(ab, f), b = td_unpack(bb, f), t;
  uint64_t sb;
  int32_t d;
  if (a.cls == TD_NAN || b.cls == TD_NAN) return td_nan2(&a, &b, f);
  b.sign ^= negate_b;
  if (a.cls == TD_INF || b.cls == TD_INF) {
    if (a.cls == TD_INF && b.cls == TD_INF && a.sign != b.sign) return td_default_nan(f);
    return td_pack_special(TD_INF, a.cls == TD_INF ? a.sign : b.sign, 0, f);
  }
  if (a.cls == TD_ZERO && b.cls == TD_ZERO) return td_pack(a.sign & b.sign, 0, 0, f);
  if (a.cls == TD_ZERO) return td_pack(b.sign, b.sig, b.x, f);
  if (b.cls == TD_ZERO) return td_pack(a.sign, a.sig, a.x, f);
  if (b.x > a.x || (b.x == a.x && b.sig > a.sig)) { /* |a| >= |b| */
    t = a;
    a = b;
    b = t;
  }
  d = a.x - b.x;
  sb = d >= 63 ? (uint64_t)(b.sig != 0) : (b.sig >> d) | (uint64_t)((b.sig & (((uint64_t)1 << d) - 1u)) != 0);
  if (a.sign == b.sign) return td_pack(a.sign, a.sig + sb, a.x, f);
  if (a.sig == sb) return td_pack(0, 0, 0, f); /* exact cancellation: +0 */
  return td_pack(a.sign, a.sig - sb, a.x, f);
}

/* 64x64 -> 128 from 16-bit limbs (no call to a 64-bit multiply helper). */
static uint32_t td_mul16(uint32_t a, uint32_t b) { return (a & 0xFFFFu) * (b & 0xFFFFu); }

static uint64_t td_mul32(uint32_t a, uint32_t b) {
  uint32_t a0 = a & 0xFFFFu, a1 = a >> 16, b0 = b & 0xFFFFu, b1 = b >> 16;
  uint64_t lo = td_mul16(a0, b0), mid = (uint64_t)td_mul16(a0, b1) + td_mul16(a1, b0);
  uint64_t hi = td_mul16(a1, b1);
  return lo + (mid << 16) + (hi << 32);
}

static void td_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
  uint32_t a0 = (uint32_t)a, a1 = (uint32_t)(a >> 32), b0 = (uint32_t)b, b1 = (uint32_t)(b >> 32);
  uint64_t p00 = td_mul32(a0, b0), p01 = td_mul32(a0, b1), p10 = td_mul32(a1, b0), p11 = td_mul32(a1, b1);
  uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
  *lo = (mid << 32) | (uint32_t)p00;
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static uint64_t td_mul(uint64_t ab, uint64_t bb, const td_fmt *f) {
  td_unp a = td_unpack(ab, f), b = td_unpack(bb, f);
  int sign = a.sign ^ b.sign;
  uint64_t hi, lo;
  if (a.cls == TD_NAN || b.cls == TD_NAN) return td_nan2(&a, &b, f);
  if (a.cls == TD_INF || b.cls == TD_INF) {
    if (a.cls == TD_ZERO || b.cls == TD_ZERO) return td_default_nan(f);
    return td_pack_special(TD_INF, sign, 0, f);
  }
  if (a.cls == TD_ZERO || b.cls == TD_ZERO) return td_pack(sign, 0, 0, f);
  td_mul64(a.sig, b.sig, &hi, &lo);
  return td_pack(sign, hi | (uint64_t)(lo != 0), a.x + b.x + 64, f);
}

static uint64_t td_div(uint64_t ab, uint64_t bb, const td_fmt *f) {
  td_unp a = td_unpack(ab, f), b = td_unpack(bb, f);
  int sign = a.sign ^ b.sign, i;
  uint64_t r, q = 0;
  if (a.cls == TD_NAN || b.cls == TD_NAN) return td_nan2(&a, &b, f);
  if (a.cls == TD_INF) return b.cls == TD_INF ? td_default_nan(f) : td_pack_special(TD_INF, sign, 0, f);
  if (b.cls == TD_INF) return td_pack(sign, 0, 0, f);
  if (b.cls == TD_ZERO) return a.cls == TD_ZERO ? td_default_nan(f) : td_pack_special(TD_INF, sign, 0, f);
  if (a.cls == TD_ZERO) return td_pack(sign, 0, 0, f);
  r = a.sig; /* restoring division: 63 quotient bits of a.sig / b.sig (both in [2^62, 2^63)) */
  for (i = 0; i < 63; ++i) {
    q <<= 1;
    if (r >= b.sig) {
      r -= b.sig;
      q |= 1u;
    }
    r <<= 1;
  }
  return td_pack(sign, q | (uint64_t)(r != 0), a.x - b.x - 62, f);
}

static uint64_t td_from_int(int sign, uint32_t mag, const td_fmt *f) { return td_pack(sign, mag, 0, f); }

/* Truncation toward zero. Where C leaves the conversion undefined: signed gives INT32_MIN as x86's
 * cvttsd2si does (NaN, out of range), unsigned saturates (0 for negative values). */
static uint32_t td_to_uint(uint64_t bits, const td_fmt *f, int is_signed) {
  td_unp u = td_unpack(bits, f);
  int32_t sh;
  uint64_t mag;
  uint32_t lim = is_signed ? 0x80000000u : (u.sign ? 0u : 0xFFFFFFFFu);
  if (u.cls == TD_ZERO) return 0;
  if (u.cls != TD_FINITE) return is_signed ? lim : 0u;
  sh = -u.x; /* integer part = sig >> sh */
  if (sh >= 64) return 0;
  if (sh <= 30) return lim; /* |value| >= 2^32 */
  mag = u.sig >> sh;
  if (is_signed) {
    if (mag > (u.sign ? 0x80000000ull : 0x7FFFFFFFull)) return lim;
    return u.sign ? 0u - (uint32_t)mag : (uint32_t)mag;
  }
  return u.sign ? 0u : (uint32_t)mag;
}

static uint64_t td_convert(uint64_t bits, const td_fmt *from, const td_fmt *to) {
  td_unp u = td_unpack(bits, from);
  if (u.cls == TD_NAN || u.cls == TD_INF) return td_pack_special(u.cls, u.sign, u.sig, to);
  if (u.cls == TD_ZERO) return td_pack(u.sign, 0, 0, to);
  return td_pack(u.sign, u.sig, u.x, to);
}

static float td_f(uint64_t b) {
  td_f32u v;
  v.u = (uint32_t)b;
  return v.f;
}
static uint32_t td_fb(float f) {
  td_f32u v;
  v.f = f;
  return v.u;
}
static double td_d(uint64_t b) {
  td_f64u v;
  v.u = b;
  return v.d;
}
static uint64_t td_db(double d) {
  td_f64u v;
  v.d = d;
  return v.u;
}

float TD_HELPER(__addsf3)(float a, float b) { return td_f(td_add(td_fb(a), td_fb(b), 0, &TD_F32)); }
float TD_HELPER(__subsf3)(float a, float b) { return td_f(td_add(td_fb(a), td_fb(b), 1, &TD_F32)); }
float TD_HELPER(__mulsf3)(float a, float b) { return td_f(td_mul(td_fb(a), td_fb(b), &TD_F32)); }
float TD_HELPER(__floatsisf)(int32_t v) {
  return td_f(td_from_int(v < 0, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, &TD_F32));
}
float TD_HELPER(__floatunsisf)(uint32_t v) { return td_f(td_from_int(0, v, &TD_F32)); }
uint32_t TD_HELPER(__fixunssfsi)(float a) { return td_to_uint(td_fb(a), &TD_F32, 0); }

double TD_HELPER(__adddf3)(double a, double b) { return td_d(td_add(td_db(a), td_db(b), 0, &TD_F64)); }
double TD_HELPER(__subdf3)(double a, double b) { return td_d(td_add(td_db(a), td_db(b), 1, &TD_F64)); }
double TD_HELPER(__muldf3)(double a, double b) { return td_d(td_mul(td_db(a), td_db(b), &TD_F64)); }
double TD_HELPER(__divdf3)(double a, double b) { return td_d(td_div(td_db(a), td_db(b), &TD_F64)); }
double TD_HELPER(__floatsidf)(int32_t v) {
  return td_d(td_from_int(v < 0, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, &TD_F64));
}
double TD_HELPER(__floatunsidf)(uint32_t v) { return td_d(td_from_int(0, v, &TD_F64)); }
int32_t TD_HELPER(__fixdfsi)(double a) { return (int32_t)td_to_uint(td_db(a), &TD_F64, 1); }
uint32_t TD_HELPER(__fixunsdfsi)(double a) { return td_to_uint(td_db(a), &TD_F64, 0); }
double TD_HELPER(__extendsfdf2)(float a) { return td_d(td_convert(td_fb(a), &TD_F32, &TD_F64)); }
float TD_HELPER(__truncdfsf2)(double a) { return td_f(td_convert(td_db(a), &TD_F64, &TD_F32)); }

/* Widening 32x32 -> 64 multiply (also in the ESP8266 ROM). */
uint64_t TD_HELPER(__umulsidi3)(uint32_t a, uint32_t b) { return td_mul32(a, b); }
