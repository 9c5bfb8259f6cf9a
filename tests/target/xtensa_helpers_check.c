/* Host check of platform/tinydeploy-emu/support/xtensa/{softfloat,libgcc_extra}.c (compiled with
 * -DTD_HELPER(n)=td_##n) against the host FPU and integer operators; see test_pio_emulated.py.
 * Usage: check [iterations]. Prints "<n> checks, <k> wrong"; exit status 1 when k > 0. */
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#define H(n) td_##n
float H(__addsf3)(float, float); float H(__subsf3)(float, float); float H(__mulsf3)(float, float);
float H(__floatsisf)(int32_t); float H(__floatunsisf)(uint32_t); uint32_t H(__fixunssfsi)(float);
double H(__adddf3)(double, double); double H(__subdf3)(double, double); double H(__muldf3)(double, double);
double H(__divdf3)(double, double); double H(__floatsidf)(int32_t); double H(__floatunsidf)(uint32_t);
int32_t H(__fixdfsi)(double); uint32_t H(__fixunsdfsi)(double); double H(__extendsfdf2)(float);
float H(__truncdfsf2)(double); uint64_t H(__umulsidi3)(uint32_t, uint32_t);
int64_t H(__muldi3)(int64_t, int64_t); int64_t H(__divdi3)(int64_t, int64_t); int64_t H(__moddi3)(int64_t, int64_t);
uint64_t H(__udivdi3)(uint64_t, uint64_t); uint64_t H(__umoddi3)(uint64_t, uint64_t);
int32_t H(__divsi3)(int32_t, int32_t); int32_t H(__modsi3)(int32_t, int32_t);
uint32_t H(__udivsi3)(uint32_t, uint32_t); uint32_t H(__umodsi3)(uint32_t, uint32_t);

static uint64_t st = 88172645463325252ull;
static uint64_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }
static uint32_t fb(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static uint64_t db(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static float bf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static double bd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
/* random float bits: uniform patterns, near-equal exponents, subnormals, specials */
static uint32_t rf(uint32_t other) {
  uint32_t r = (uint32_t)rnd(), k = (uint32_t)(rnd() % 8);
  static const uint32_t sp[] = {0, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7F800001u, 1, 0x807FFFFFu,
                                0x00800000u, 0x7F7FFFFFu, 0x3F800000u, 0xBF800000u, 0x4B000000u, 0x3F000000u};
  if (k == 0) return r;
  if (k == 1) return sp[rnd() % (sizeof sp / 4)];
  if (k == 2) return (r & 0x807FFFFFu);                      /* subnormal */
  if (k <= 5) return (other & 0x7F800000u) ^ (r & 0x80FFFFFFu) ^ ((uint32_t)(rnd() % 3) << 23); /* near */
  return (r & 0x807FFFFFu) | ((uint32_t)(100 + rnd() % 56) << 23);
}
static uint64_t rd(uint64_t other) {
  uint64_t r = rnd(), k = rnd() % 8;
  static const uint64_t sp[] = {0, 0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
      0x7FF8000000000000ull, 0x7FF0000000000001ull, 1, 0x000FFFFFFFFFFFFFull, 0x0010000000000000ull,
      0x7FEFFFFFFFFFFFFFull, 0x3FF0000000000000ull, 0x4330000000000000ull};
  if (k == 0) return r;
  if (k == 1) return sp[rnd() % (sizeof sp / 8)];
  if (k == 2) return r & 0x800FFFFFFFFFFFFFull;
  if (k <= 5) return (other & 0x7FF0000000000000ull) ^ (r & 0x801FFFFFFFFFFFFFull) ^ ((rnd() % 3) << 52);
  return (r & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(900 + rnd() % 250) << 52);
}
static long bad = 0, n = 0;
#define CHECK(name, got, want, a, b) do { ++n; if ((got) != (want)) { if (bad++ < 10) \
  printf("%s(%llx, %llx) = %llx, want %llx\n", name, (unsigned long long)(a), (unsigned long long)(b), \
         (unsigned long long)(got), (unsigned long long)(want)); } } while (0)
/* NaN results: exact bits when one operand is NaN or none (default NaN), any NaN when both are */
static int fnan(uint32_t u) { return (u & 0x7FFFFFFFu) > 0x7F800000u; }
static int dnan(uint64_t u) { return (u & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull; }
static volatile float vf1, vf2; static volatile double vd1, vd2;
int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 1000000;
  for (long i = 0; i < iters; ++i) {
    uint32_t a = rf(0), b = rf(a); uint64_t x = rd(0), y = rd(x);
    int fboth = fnan(a) && fnan(b), dboth = dnan(x) && dnan(y);
    vf1 = bf(a); vf2 = bf(b); uint32_t w;
    w = fb(vf1 + vf2); uint32_t g = fb(td___addsf3(bf(a), bf(b))); if (fboth) g = fnan(g) ? w : ~w; CHECK("addsf3", g, w, a, b);
    w = fb(vf1 - vf2); g = fb(td___subsf3(bf(a), bf(b))); if (fboth) g = fnan(g) ? w : ~w; CHECK("subsf3", g, w, a, b);
    w = fb(vf1 * vf2); g = fb(td___mulsf3(bf(a), bf(b))); if (fboth) g = fnan(g) ? w : ~w; CHECK("mulsf3", g, w, a, b);
    vd1 = bd(x); vd2 = bd(y); uint64_t wd, gd;
    wd = db(vd1 + vd2); gd = db(td___adddf3(bd(x), bd(y))); if (dboth) gd = dnan(gd) ? wd : ~wd; CHECK("adddf3", gd, wd, x, y);
    wd = db(vd1 - vd2); gd = db(td___subdf3(bd(x), bd(y))); if (dboth) gd = dnan(gd) ? wd : ~wd; CHECK("subdf3", gd, wd, x, y);
    wd = db(vd1 * vd2); gd = db(td___muldf3(bd(x), bd(y))); if (dboth) gd = dnan(gd) ? wd : ~wd; CHECK("muldf3", gd, wd, x, y);
    wd = db(vd1 / vd2); gd = db(td___divdf3(bd(x), bd(y))); if (dboth) gd = dnan(gd) ? wd : ~wd; CHECK("divdf3", gd, wd, x, y);
    CHECK("extendsfdf2", db(td___extendsfdf2(bf(a))), db((double)vf1), a, 0);
    CHECK("truncdfsf2", fb(td___truncdfsf2(bd(x))), fb((float)vd1), x, 0);
    int32_t si = (int32_t)rnd(); if (i & 1) si >>= rnd() % 31; uint32_t ui = (uint32_t)rnd() >> (rnd() % 32);
    CHECK("floatsisf", fb(td___floatsisf(si)), fb((float)si), si, 0);
    CHECK("floatunsisf", fb(td___floatunsisf(ui)), fb((float)ui), ui, 0);
    CHECK("floatsidf", db(td___floatsidf(si)), db((double)si), si, 0);
    CHECK("floatunsidf", db(td___floatunsidf(ui)), db((double)ui), ui, 0);
    double dv = (double)(int64_t)(rnd() >> (rnd() % 64)) / (double)(1 << (rnd() % 16)) * ((i & 2) ? -1 : 1);
    volatile double vdv = dv;
    CHECK("fixdfsi", (uint32_t)td___fixdfsi(dv), (uint32_t)(int32_t)vdv, db(dv), 0);  /* x86 cvttsd2si */
    if (dv >= 0 && dv < 4294967296.0) CHECK("fixunsdfsi", td___fixunsdfsi(dv), (uint32_t)vdv, db(dv), 0);
    float fv = (float)dv; volatile float vfv = fv;
    if (fv >= 0 && fv < 4294967296.0f) CHECK("fixunssfsi", td___fixunssfsi(fv), (uint32_t)vfv, fb(fv), 0);
    uint32_t p = (uint32_t)rnd(), q = (uint32_t)rnd() >> (rnd() % 32);
    CHECK("umulsidi3", td___umulsidi3(p, q), (uint64_t)p * q, p, q);
    int64_t A = (int64_t)(rnd() >> (rnd() % 64)) * ((i & 4) ? -1 : 1), B = (int64_t)(rnd() >> (rnd() % 64)) * ((i & 8) ? -1 : 1);
    CHECK("muldi3", td___muldi3(A, B), (int64_t)((uint64_t)A * (uint64_t)B), A, B);
    if (B != 0 && !(A == INT64_MIN && B == -1)) { CHECK("divdi3", td___divdi3(A, B), A / B, A, B); CHECK("moddi3", td___moddi3(A, B), A % B, A, B);
      CHECK("udivdi3", td___udivdi3((uint64_t)A, (uint64_t)B), (uint64_t)A / (uint64_t)B, A, B);
      CHECK("umoddi3", td___umoddi3((uint64_t)A, (uint64_t)B), (uint64_t)A % (uint64_t)B, A, B); }
    int32_t c = (int32_t)rnd() >> (rnd() % 32), d = (int32_t)rnd() >> (rnd() % 32);
    if (d != 0 && !(c == INT32_MIN && d == -1)) { CHECK("divsi3", td___divsi3(c, d), c / d, c, d); CHECK("modsi3", td___modsi3(c, d), c % d, c, d);
      CHECK("udivsi3", td___udivsi3((uint32_t)c, (uint32_t)d), (uint32_t)c / (uint32_t)d, c, d);
      CHECK("umodsi3", td___umodsi3((uint32_t)c, (uint32_t)d), (uint32_t)c % (uint32_t)d, c, d); }
  }
  printf("%ld checks, %ld wrong\n", n, bad);
  return bad != 0;
}
