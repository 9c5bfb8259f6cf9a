/* Integer helpers missing from Debian's xtensa-lx106-elf libgcc (the ESP8266 has them in its mask ROM,
 * which QEMU's sim machine lacks). Written without `/`, `%` or 64-bit `*`, so GCC cannot turn them
 * back into calls to themselves. Exact; meant to be checked against the host's operators
 * (compile on the host with -DTD_HELPER(n)=td_##n; tests/boards/test_pio_emulated.py does). The float
 * helpers (float-I/O models: QUANTIZE/DEQUANTIZE) are in softfloat.c. */
#include <stdint.h>

#ifndef TD_HELPER
#define TD_HELPER(name) name
#endif

static uint64_t td_udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
  uint64_t q = 0, r = 0;
  int i;
  if (d == 0) { /* as undefined as in C; do not loop forever */
    if (rem) *rem = n;
    return ~(uint64_t)0;
  }
  if ((d >> 32) == 0 && (n >> 32) == 0) { /* 32-bit fast path */
    uint32_t n32 = (uint32_t)n, d32 = (uint32_t)d, q32 = 0, r32 = 0;
    for (i = 31; i >= 0; --i) {
      r32 = (r32 << 1) | ((n32 >> i) & 1u);
      if (r32 >= d32) {
        r32 -= d32;
        q32 |= 1u << i;
      }
    }
    if (rem) *rem = r32;
    return q32;
  }
  for (i = 63; i >= 0; --i) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) {
      r -= d;
      q |= (uint64_t)1 << i;
    }
  }
  if (rem) *rem = r;
  return q;
}

static uint32_t td_udivmod32(uint32_t n, uint32_t d, uint32_t *rem) {
  uint32_t q = 0, r = 0;
  int i;
  if (d == 0) {
    if (rem) *rem = n;
    return 0xFFFFFFFFu;
  }
  for (i = 31; i >= 0; --i) {
    r = (r << 1) | ((n >> i) & 1u);
    if (r >= d) {
      r -= d;
      q |= 1u << i;
    }
  }
  if (rem) *rem = r;
  return q;
}

uint32_t TD_HELPER(__udivsi3)(uint32_t a, uint32_t b) { return td_udivmod32(a, b, 0); }

uint32_t TD_HELPER(__umodsi3)(uint32_t a, uint32_t b) {
  uint32_t r;
  td_udivmod32(a, b, &r);
  return r;
}

int32_t TD_HELPER(__divsi3)(int32_t a, int32_t b) {
  uint32_t ua = a < 0 ? 0u - (uint32_t)a : (uint32_t)a, ub = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
  uint32_t q = td_udivmod32(ua, ub, 0);
  return (int32_t)((a < 0) != (b < 0) ? 0u - q : q);
}

int32_t TD_HELPER(__modsi3)(int32_t a, int32_t b) { /* sign of the dividend */
  uint32_t ua = a < 0 ? 0u - (uint32_t)a : (uint32_t)a, ub = b < 0 ? 0u - (uint32_t)b : (uint32_t)b, r;
  td_udivmod32(ua, ub, &r);
  return (int32_t)(a < 0 ? 0u - r : r);
}

uint64_t TD_HELPER(__udivdi3)(uint64_t a, uint64_t b) { return td_udivmod64(a, b, 0); }

uint64_t TD_HELPER(__umoddi3)(uint64_t a, uint64_t b) {
  uint64_t r;
  td_udivmod64(a, b, &r);
  return r;
}

int64_t TD_HELPER(__divdi3)(int64_t a, int64_t b) {
  uint64_t ua = a < 0 ? 0u - (uint64_t)a : (uint64_t)a, ub = b < 0 ? 0u - (uint64_t)b : (uint64_t)b;
  uint64_t q = td_udivmod64(ua, ub, 0);
  return (int64_t)((a < 0) != (b < 0) ? 0u - q : q);
}

int64_t TD_HELPER(__moddi3)(int64_t a, int64_t b) {
  uint64_t ua = a < 0 ? 0u - (uint64_t)a : (uint64_t)a, ub = b < 0 ? 0u - (uint64_t)b : (uint64_t)b, r;
  td_udivmod64(ua, ub, &r);
  return (int64_t)(a < 0 ? 0u - r : r);
}

/* Low 64 bits of a * b from 16x16->32 partial products. */
int64_t TD_HELPER(__muldi3)(int64_t a, int64_t b) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  uint32_t al = (uint32_t)ua, ah = (uint32_t)(ua >> 32), bl = (uint32_t)ub, bh = (uint32_t)(ub >> 32);
  uint32_t a0 = al & 0xFFFFu, a1 = al >> 16, b0 = bl & 0xFFFFu, b1 = bl >> 16;
  uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint32_t mid = (p00 >> 16) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
  uint32_t lo = (p00 & 0xFFFFu) | (mid << 16);
  uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
  hi += ah * bl + al * bh;
  return (int64_t)(((uint64_t)hi << 32) | lo);
}
