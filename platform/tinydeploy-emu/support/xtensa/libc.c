/* The few libc functions the runtime and the firmware use; there is no libc for xtensa-lx106-elf in
 * Debian. The float functions are the usual bit manipulations (as in newlib/musl): exact results. */
#include <math.h>
#include <stdint.h>
#include <string.h>

void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  while (n--) *d++ = (uint8_t)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  for (; n; --n, ++x, ++y)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p) ++p;
  return (size_t)(p - s);
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) ++a, ++b;
  return (int)(unsigned char)*a - (int)(unsigned char)*b;
}

typedef union {
  float f;
  uint32_t u;
} td_f32;

float roundf(float x) { /* half away from zero */
  td_f32 v = {x};
  int e = (int)((v.u >> 23) & 0xFFu) - 127;
  if (e >= 23) return x; /* integral, inf or nan */
  if (e < 0) {
    uint32_t sign = v.u & 0x80000000u;
    v.u = sign | (e == -1 ? 0x3F800000u : 0u);
    return v.f;
  }
  uint32_t frac = 0x007FFFFFu >> e;
  if ((v.u & frac) == 0) return x;
  v.u += 0x00400000u >> e;
  v.u &= ~frac;
  return v.f;
}

static float td_trunc_toward(float x, int up) { /* floor (up = 0) or ceil (up = 1) */
  td_f32 v = {x};
  int e = (int)((v.u >> 23) & 0xFFu) - 127;
  uint32_t neg = v.u >> 31;
  if (e >= 23) return x;
  if (e < 0) {
    if ((v.u & 0x7FFFFFFFu) == 0) return x;
    v.u = up ? (neg ? 0x80000000u : 0x3F800000u) : (neg ? 0xBF800000u : 0u);
    return v.f;
  }
  uint32_t frac = 0x007FFFFFu >> e;
  if ((v.u & frac) == 0) return x;
  if ((uint32_t)up != neg) v.u += 0x00800000u >> e; /* away from zero first */
  v.u &= ~frac;
  return v.f;
}

float floorf(float x) { return td_trunc_toward(x, 0); }
float ceilf(float x) { return td_trunc_toward(x, 1); }
float fabsf(float x) {
  td_f32 v = {x};
  v.u &= 0x7FFFFFFFu;
  return v.f;
}
float fminf(float a, float b) { return a != a ? b : (b != b ? a : (a < b ? a : b)); }
float fmaxf(float a, float b) { return a != a ? b : (b != b ? a : (a > b ? a : b)); }
