/* Training kernels (td_train.h): exact int64 sums rounded once, float32 SGD in a fixed order. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off") /* a fused multiply-add would round differently from numpy */
#endif
#include "td_train.h"

/* No libm: every build of the runtime (host, boards, Arduino) links this file as it is. */

static int32_t shift_for(uint64_t peak) {
  int32_t bits = 0;
  while (peak) {
    bits++;
    peak >>= 1;
  }
  return bits > TD_TRAIN_GBITS ? bits - TD_TRAIN_GBITS : 0;
}

static uint64_t mag(int64_t a) { return a < 0 ? (uint64_t)(-(a + 1)) + 1u : (uint64_t)a; }

/* floor((a + 2^(r-1)) / 2^r): round half up (arithmetic right shift) */
static int64_t rshift(int64_t a, int32_t r) { return r > 0 ? (a + ((int64_t)1 << (r - 1))) >> r : a; }

typedef union {
  float f;
  uint32_t u;
} td_bits;

/* 2^e for -126 <= e <= 127 */
static float pow2(int32_t e) {
  td_bits b;
  b.u = (uint32_t)(e + 127) << 23;
  return b.f;
}

/* x * 2^e by exact power-of-two factors: 2^+-60 steps, then one factor (kernels.scale2 repeats them) */
static float scale2(float x, int32_t e) {
  while (e > 60) x *= pow2(60), e -= 60;
  while (e < -60) x *= pow2(-60), e += 60;
  return x * pow2(e);
}

/* natural log of x > 0 for the reported loss (not part of the exact math): 2 atanh((m-1)/(m+1)) */
static float ln(float x) {
  td_bits b;
  b.f = x;
  int32_t k = (int32_t)((b.u >> 23) & 0xff) - 127;
  b.u = (b.u & 0x7fffffu) | 0x3f800000u; /* m in [1, 2) */
  float s = (b.f - 1.0f) / (b.f + 1.0f), s2 = s * s;
  float series = s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 / 11)))));
  return (float)k * 0.69314718f + 2.0f * series;
}

/* floor(v) for a v already inside the integer range being clamped to */
static int32_t floor_int(float v) {
  int32_t r = (int32_t)v; /* truncates toward zero */
  return (float)r > v ? r - 1 : r;
}

float td_train_ce_grad(const int8_t *logits, int32_t n, int32_t label, const int32_t *table, td_grad_t *g,
                       int32_t *e) {
  int32_t top = -128;
  for (int32_t i = 0; i < n; i++) top = logits[i] > top ? logits[i] : top;
  uint64_t total = 0;
  for (int32_t i = 0; i < n; i++) total += (uint64_t)table[top - logits[i]];
  for (int32_t i = 0; i < n; i++) {
    uint64_t p = (2u * ((uint64_t)table[top - logits[i]] << TD_TRAIN_GBITS) + total) / (2u * total);
    g[i] = (td_grad_t)((int32_t)p - (i == label ? (1 << TD_TRAIN_GBITS) : 0));
  }
  *e = -TD_TRAIN_GBITS;
  int32_t own = table[top - logits[label]];
  return ln((float)total) - ln((float)(own > 0 ? own : 1));
}

void td_train_mask(td_grad_t *g, const int8_t *y, int32_t n, int32_t lo, int32_t hi) {
  for (int32_t i = 0; i < n; i++)
    if (y[i] <= lo || y[i] >= hi) g[i] = 0;
}

void td_train_grad_add(td_grad_t *dst, int32_t *dst_e, const td_grad_t *src, int32_t src_e, int32_t n) {
  int32_t top = *dst_e > src_e ? *dst_e : src_e;
  int32_t rd = top - *dst_e > 31 ? 31 : top - *dst_e, rs = top - src_e > 31 ? 31 : top - src_e;
  uint64_t peak = 0;
  for (int32_t i = 0; i < n; i++) {
    uint64_t a = mag(rshift(dst[i], rd) + rshift(src[i], rs));
    peak = a > peak ? a : peak;
  }
  int32_t r = shift_for(peak);
  for (int32_t i = 0; i < n; i++) dst[i] = (td_grad_t)rshift(rshift(dst[i], rd) + rshift(src[i], rs), r);
  *dst_e = top + r;
}

/* The two passes of an input gradient: pass 0 finds the largest |sum|, pass 1 stores the rounded sums. */
#define TD_TWO_PASS(count, ACC, out, out_e, e0)                         \
  do {                                                                \
    uint64_t peak_ = 0;                                               \
    int32_t r_ = 0;                                                   \
    for (int32_t pass_ = 0; pass_ < 2; pass_++) {                     \
      for (int32_t i = 0; i < (count); i++) {                         \
        int64_t acc_ = ACC(i);                                        \
        if (pass_ == 0) {                                             \
          uint64_t a_ = mag(acc_);                                    \
          peak_ = a_ > peak_ ? a_ : peak_;                            \
        } else {                                                      \
          (out)[i] = (td_grad_t)rshift(acc_, r_);                       \
        }                                                             \
      }                                                               \
      r_ = shift_for(peak_);                                          \
    }                                                                 \
    *(out_e) = (e0) + r_;                                             \
  } while (0)

static const td_grad_t *s_g;
static const int32_t *s_r;
static const int8_t *s_w;
static int32_t s_out, s_in;
static const td_train_geom *s_p;

static int64_t fc_acc(int32_t i) {
  int64_t acc = 0;
  for (int32_t o = 0; o < s_out; o++) acc += (int64_t)s_w[o * s_in + i] * ((int64_t)s_g[o] * s_r[o]);
  return acc;
}

void td_train_fc_dx(const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r, int32_t k, int32_t out_n,
                    int32_t in_n, td_grad_t *dx, int32_t *dx_e) {
  s_g = g, s_w = w, s_r = r, s_out = out_n, s_in = in_n;
  TD_TWO_PASS(in_n, fc_acc, dx, dx_e, e - k);
}

/* output row/column that tap t of a window reaches from input position i, or -1 */
static int32_t tap_out(int32_t i, int32_t t, int32_t pad, int32_t dil, int32_t stride, int32_t out) {
  int32_t v = i + pad - t * dil;
  if (v < 0 || v % stride) return -1;
  v /= stride;
  return v < out ? v : -1;
}

static int64_t conv_acc(int32_t i) {
  const td_train_geom *p = s_p;
  int32_t ic = i % p->ic, ix = (i / p->ic) % p->iw, iy = i / (p->ic * p->iw);
  int64_t acc = 0;
  for (int32_t kh = 0; kh < p->kh; kh++) {
    int32_t oy = tap_out(iy, kh, p->ph, p->dh, p->sh, p->oh);
    if (oy < 0) continue;
    for (int32_t kw = 0; kw < p->kw; kw++) {
      int32_t ox = tap_out(ix, kw, p->pw, p->dw, p->sw, p->ow);
      if (ox < 0) continue;
      const td_grad_t *g = s_g + (oy * p->ow + ox) * p->oc;
      for (int32_t oc = 0; oc < p->oc; oc++)
        acc += (int64_t)s_w[((oc * p->kh + kh) * p->kw + kw) * p->ic + ic] * ((int64_t)g[oc] * s_r[oc]);
    }
  }
  return acc;
}

void td_train_conv_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r,
                      int32_t k, td_grad_t *dx, int32_t *dx_e) {
  s_p = p, s_g = g, s_w = w, s_r = r;
  TD_TWO_PASS(p->ih * p->iw * p->ic, conv_acc, dx, dx_e, e - k);
}

static int64_t dw_acc(int32_t i) {
  const td_train_geom *p = s_p;
  int32_t ic = i % p->ic, ix = (i / p->ic) % p->iw, iy = i / (p->ic * p->iw);
  int64_t acc = 0;
  for (int32_t kh = 0; kh < p->kh; kh++) {
    int32_t oy = tap_out(iy, kh, p->ph, p->dh, p->sh, p->oh);
    if (oy < 0) continue;
    for (int32_t kw = 0; kw < p->kw; kw++) {
      int32_t ox = tap_out(ix, kw, p->pw, p->dw, p->sw, p->ow);
      if (ox < 0) continue;
      for (int32_t m = 0; m < p->mult; m++) {
        int32_t oc = ic * p->mult + m;
        acc += (int64_t)s_w[(kh * p->kw + kw) * p->oc + oc] *
               ((int64_t)s_g[(oy * p->ow + ox) * p->oc + oc] * s_r[oc]);
      }
    }
  }
  return acc;
}

void td_train_dw_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r,
                    int32_t k, td_grad_t *dx, int32_t *dx_e) {
  s_p = p, s_g = g, s_w = w, s_r = r;
  TD_TWO_PASS(p->ih * p->iw * p->ic, dw_acc, dx, dx_e, e - k);
}

static int32_t valid_taps(int32_t o, int32_t stride, int32_t pad, int32_t taps, int32_t size) {
  int32_t lo = o * stride - pad, hi = lo + taps;
  return (hi < size ? hi : size) - (lo > 0 ? lo : 0);
}

static int64_t avg_acc(int32_t i) {
  const td_train_geom *p = s_p;
  int32_t c = i % p->ic, ix = (i / p->ic) % p->iw, iy = i / (p->ic * p->iw);
  int64_t acc = 0;
  for (int32_t kh = 0; kh < p->kh; kh++) {
    int32_t oy = tap_out(iy, kh, p->ph, 1, p->sh, p->oh);
    if (oy < 0) continue;
    for (int32_t kw = 0; kw < p->kw; kw++) {
      int32_t ox = tap_out(ix, kw, p->pw, 1, p->sw, p->ow);
      if (ox < 0) continue;
      int32_t n = valid_taps(oy, p->sh, p->ph, p->kh, p->ih) * valid_taps(ox, p->sw, p->pw, p->kw, p->iw);
      int64_t q = (((int64_t)1 << TD_TRAIN_POOL_BITS) + n / 2) / n;
      acc += (int64_t)s_g[(oy * p->ow + ox) * p->oc + c] * q;
    }
  }
  return acc;
}

void td_train_avg_pool_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, td_grad_t *dx, int32_t *dx_e) {
  s_p = p, s_g = g;
  TD_TWO_PASS(p->ih * p->iw * p->ic, avg_acc, dx, dx_e, e - TD_TRAIN_POOL_BITS);
}

/* the input index of window (oy, ox)'s first largest valid value in channel c */
static int32_t window_argmax(const td_train_geom *p, const int8_t *x, int32_t oy, int32_t ox, int32_t c) {
  int32_t best = -1;
  for (int32_t kh = 0; kh < p->kh; kh++) {
    int32_t iy = oy * p->sh - p->ph + kh;
    if (iy < 0 || iy >= p->ih) continue;
    for (int32_t kw = 0; kw < p->kw; kw++) {
      int32_t ix = ox * p->sw - p->pw + kw;
      if (ix < 0 || ix >= p->iw) continue;
      int32_t at = (iy * p->iw + ix) * p->ic + c;
      if (best < 0 || x[at] > x[best]) best = at;
    }
  }
  return best;
}

static const int8_t *s_x;

static int64_t max_acc(int32_t i) {
  const td_train_geom *p = s_p;
  int32_t c = i % p->ic, ix = (i / p->ic) % p->iw, iy = i / (p->ic * p->iw);
  int64_t acc = 0;
  for (int32_t kh = 0; kh < p->kh; kh++) {
    int32_t oy = tap_out(iy, kh, p->ph, 1, p->sh, p->oh);
    if (oy < 0) continue;
    for (int32_t kw = 0; kw < p->kw; kw++) {
      int32_t ox = tap_out(ix, kw, p->pw, 1, p->sw, p->ow);
      if (ox >= 0 && window_argmax(p, s_x, oy, ox, c) == i) acc += s_g[(oy * p->ow + ox) * p->oc + c];
    }
  }
  return acc;
}

void td_train_max_pool_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, td_grad_t *dx,
                          int32_t *dx_e) {
  s_p = p, s_g = g, s_x = x;
  TD_TWO_PASS(p->ih * p->iw * p->ic, max_acc, dx, dx_e, e);
}

/* One element of the SGD step, in the order kernels.py's sgd reproduces. */
static void step(const td_train_param *p, int32_t i, int64_t acc, int32_t e, const td_train_sgd *o) {
  float t = scale2((float)acc, e);
  t = t * p->factor[(i / p->inner) % p->channels];
  if (p->velocity) {
    float v = p->velocity[i] * o->momentum;
    v = v + t;
    p->velocity[i] = v;
    t = v;
  }
  float u = t * o->lr;
  float w = p->master[i] - u;
  p->master[i] = w;
  float q = w + 0.5f;
  if (p->q8)
    p->q8[i] = (int8_t)(q < -127.0f ? -127 : q >= 127.0f ? 127 : floor_int(q));
  else
    p->q32[i] = q < -2147483648.0f ? INT32_MIN : q >= 2147483647.0f ? INT32_MAX : floor_int(q);
}

void td_train_fc_update(const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp, int32_t out_n, int32_t in_n,
                        const td_train_param *w, const td_train_sgd *opt) {
  for (int32_t o = 0; o < out_n && o * in_n < w->count; o++)
    for (int32_t i = 0; i < in_n; i++) step(w, o * in_n + i, (int64_t)g[o] * (x[i] - x_zp), e, opt);
}

/* sum over output positions of g[., oc] * (x[tap position, ic] - zp), padded taps left out */
static int64_t window_sum(const td_train_geom *p, const td_grad_t *g, int32_t oc, const int8_t *x, int32_t ic,
                          int32_t x_zp, int32_t kh, int32_t kw) {
  int64_t acc = 0;
  for (int32_t oy = 0; oy < p->oh; oy++) {
    int32_t iy = oy * p->sh + kh * p->dh - p->ph;
    if (iy < 0 || iy >= p->ih) continue;
    for (int32_t ox = 0; ox < p->ow; ox++) {
      int32_t ix = ox * p->sw + kw * p->dw - p->pw;
      if (ix < 0 || ix >= p->iw) continue;
      acc += (int64_t)g[(oy * p->ow + ox) * p->oc + oc] * (x[(iy * p->iw + ix) * p->ic + ic] - x_zp);
    }
  }
  return acc;
}

void td_train_conv_update(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp,
                          const td_train_param *w, const td_train_sgd *opt) {
  for (int32_t oc = 0; oc < p->oc && oc * p->kh * p->kw * p->ic < w->count; oc++)
    for (int32_t kh = 0; kh < p->kh; kh++)
      for (int32_t kw = 0; kw < p->kw; kw++)
        for (int32_t ic = 0; ic < p->ic; ic++)
          step(w, ((oc * p->kh + kh) * p->kw + kw) * p->ic + ic, window_sum(p, g, oc, x, ic, x_zp, kh, kw), e, opt);
}

void td_train_dw_update(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp,
                        const td_train_param *w, const td_train_sgd *opt) {
  for (int32_t kh = 0; kh < p->kh; kh++)
    for (int32_t kw = 0; kw < p->kw; kw++)
      for (int32_t oc = 0; oc < p->oc; oc++)
        step(w, (kh * p->kw + kw) * p->oc + oc, window_sum(p, g, oc, x, oc / p->mult, x_zp, kh, kw), e, opt);
}

void td_train_bias_update(const td_grad_t *g, int32_t e, int32_t positions, int32_t channels,
                          const td_train_param *b, const td_train_sgd *opt) {
  for (int32_t c = 0; c < channels; c++) {
    int64_t acc = 0;
    for (int32_t i = 0; i < positions; i++) acc += g[i * channels + c];
    step(b, c, acc, e, opt);
  }
}
