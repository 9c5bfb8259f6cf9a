/*
 * DEPTHWISE_CONV_2D int8, depth multiplier 1, for Cortex-M55/M85 with Helium (MVE): the arm-mve variant
 * of td_depthwise_conv_s8, bit-exact with it. Layouts in td_mve_dw.h (prepared by ops/_mve_dw.py).
 *
 * Channel by channel: eight channels at a time are scattered into planes of the scratch whose border holds
 * the input zero point (x + input_offset = 0 there, so a padded tap adds nothing, as TFLite skips it; the
 * offset itself is folded into the bias), then four neighbouring output pixels of a line are one vector:
 * per tap one widening load of four plane bytes (a gather for strides > 1) and one VMLA by the tap's
 * weight. 3x3 windows along stride-1 lines run in inline assembly (GCC spills otherwise): two vectors of
 * two neighbouring lines at once, each load serving both lines and each weight load four VMLAs.
 * Requantization on the four lanes: VQRDMULH is TFLite's saturating rounding doubling high multiply, and
 * the rounding right shift (ties away from zero) is VRSHL after subtracting one from negative values
 * (saturating, so INT32_MIN stays). The result is scattered to the NHWC output, C bytes apart.
 */
#include "td_mve_dw.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)

#include <arm_mve.h>
#include <string.h>

/* The layer in the kernel's orientation: lines l and positions a along a line. */
typedef struct {
  int32_t lin, ain, lo, ao;               /* input / output lines and positions */
  int32_t fl, fa, sl, sa, dl, da, pl, pa; /* filter, stride, dilation, padding */
  int32_t in_l, in_a, out_l, out_a;       /* NHWC bytes from one line / position to the next */
  int32_t lp, ap;                         /* the plane: lines, bytes per line */
} td_mve_dw_geo;

static td_mve_dw_geo td_mve_dw_geometry(const td_dw_conv_params *p, int32_t transposed) {
  const td_window *w = &p->window;
  const int32_t c = p->input.c;
  td_mve_dw_geo g;
  if (transposed) {
    g.lin = p->input.w, g.ain = p->input.h, g.lo = p->output.w, g.ao = p->output.h;
    g.fl = w->filter_w, g.fa = w->filter_h, g.sl = w->stride_w, g.sa = w->stride_h;
    g.dl = w->dilation_w, g.da = w->dilation_h, g.pl = w->pad_w, g.pa = w->pad_h;
    g.in_l = c, g.in_a = p->input.w * c, g.out_l = c, g.out_a = p->output.w * c;
  } else {
    g.lin = p->input.h, g.ain = p->input.w, g.lo = p->output.h, g.ao = p->output.w;
    g.fl = w->filter_h, g.fa = w->filter_w, g.sl = w->stride_h, g.sa = w->stride_w;
    g.dl = w->dilation_h, g.da = w->dilation_w, g.pl = w->pad_h, g.pa = w->pad_w;
    g.in_l = p->input.w * c, g.in_a = c, g.out_l = p->output.w * c, g.out_a = c;
  }
  g.lp = (g.lo - 1) * g.sl + (g.fl - 1) * g.dl + 1;
  g.ap = (g.ao - 1) * g.sa + (g.fa - 1) * g.da + 1;
  return g;
}

/* Bytes of one plane, and how many planes a group fills at once: 8 (or C when fewer) while the last one
 * starts below 64 KB (halfword scatter offsets), else 1. */
static int32_t td_mve_dw_plane(const td_mve_dw_geo *g) { return g->lp * g->ap + 3 * g->sa; }
static int32_t td_mve_dw_planes(const td_mve_dw_geo *g, int32_t channels) {
  return channels >= 2 && 7 * td_mve_dw_plane(g) <= 65535 ? (channels < 8 ? channels : 8) : 1;
}

int32_t td_depthwise_conv_s8_mve_scratch_size(const td_dw_conv_params *p, int32_t transposed) {
  const td_mve_dw_geo g = td_mve_dw_geometry(p, transposed);
  return td_mve_dw_planes(&g, p->input.c) * td_mve_dw_plane(&g);
}

/* Channel c of one batch's input (in) into the plane's interior: four bytes per gather. */
static void td_mve_dw_fill(const td_mve_dw_geo *g, const int8_t *in, int8_t *plane) {
  const int32_t l0 = g->pl < 0 ? -g->pl : 0, a0 = g->pa < 0 ? -g->pa : 0;
  const int32_t l1 = g->lin < g->lp - g->pl ? g->lin : g->lp - g->pl;
  const int32_t a1 = g->ain < g->ap - g->pa ? g->ain : g->ap - g->pa;
  const uint32x4_t off = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)g->in_a);
  int32_t l;
  for (l = l0; l < l1; ++l) {
    const int8_t *src = in + l * g->in_l + a0 * g->in_a;
    int8_t *dst = plane + (l + g->pl) * g->ap + a0 + g->pa;
    int32_t n = a1 - a0;
    for (; n >= 4; n -= 4, src += 4 * g->in_a, dst += 4) vstrbq_s32(dst, vldrbq_gather_offset_s32(src, off));
    if (n > 0) {
      const mve_pred16_t pr = vctp32q((uint32_t)n);
      vstrbq_p_s32(dst, vldrbq_gather_offset_z_s32(src, off, pr), pr);
    }
  }
}

/* Channels [0, n) (n <= 8) of one batch's input (in) into the interiors of n planes `size` bytes apart:
 * the eight channels of an input position are one load and one scatter. */
static void td_mve_dw_fill8(const td_mve_dw_geo *g, const int8_t *in, int8_t *plane, int32_t size, int32_t n) {
  const int32_t l0 = g->pl < 0 ? -g->pl : 0, a0 = g->pa < 0 ? -g->pa : 0;
  const int32_t l1 = g->lin < g->lp - g->pl ? g->lin : g->lp - g->pl;
  const int32_t a1 = g->ain < g->ap - g->pa ? g->ain : g->ap - g->pa;
  const uint16x8_t off = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)size);
  const mve_pred16_t pr = vctp16q((uint32_t)n);
  int32_t l, a;
  for (l = l0; l < l1; ++l) {
    const int8_t *src = in + l * g->in_l + a0 * g->in_a;
    int8_t *dst = plane + (l + g->pl) * g->ap + a0 + g->pa;
    if (n == 8)
      for (a = a0; a < a1; ++a, src += g->in_a, ++dst) vstrbq_scatter_offset_s16(dst, off, vldrbq_s16(src));
    else
      for (a = a0; a < a1; ++a, src += g->in_a, ++dst)
        vstrbq_scatter_offset_p_s16(dst, off, vldrbq_z_s16(src, pr), pr);
  }
}

/* The table's requantization of four accumulators (+ output offset, clamped to the activation). */
static inline __attribute__((always_inline)) int32x4_t td_mve_dw_requant(int32x4_t acc, int32_t m, int32_t shift,
                                                                         int right, int32_t oo, int32_t lo,
                                                                         int32_t hi) {
  if (right) {
    acc = vqrdmulhq_n_s32(acc, m);
    acc = vrshlq_n_s32(vqaddq_s32(acc, vshrq_n_s32(acc, 31)), shift);
  } else {
    acc = vqrdmulhq_n_s32(vshlq_r_s32(acc, shift), m);
  }
  acc = vaddq_n_s32(acc, oo);
  return vminq_s32(vmaxq_s32(acc, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

/* Four outputs of any window: tap (fl, fa) at rl + fa * da, gathered sa apart; w its taps. */
static inline __attribute__((always_inline)) int32x4_t td_mve_dw_any_vec(const td_mve_dw_geo *g, int32x4_t acc,
                                                                         const int8_t *r, uint32x4_t xoff,
                                                                         const TD_WEIGHTS_MEM int8_t *w) {
  const int32_t lstep = g->dl * g->ap;
  int32_t fl, fa;
  for (fl = 0; fl < g->fl; ++fl, r += lstep) {
    const int8_t *ra = r;
    for (fa = 0; fa < g->fa; ++fa, ++w, ra += g->da) acc = vmlaq_n_s32(acc, vldrbq_gather_offset_s32(ra, xoff), *w);
  }
  return acc;
}

/* Two vectors (eight outputs) of any window: the second gathered with offsets xoff1 = xoff + 4 * sa, so
 * both use one base address and one weight load per tap. */
static inline __attribute__((always_inline)) void td_mve_dw_any_pair(const td_mve_dw_geo *g, int32x4_t *a0,
                                                                     int32x4_t *a1, const int8_t *r, uint32x4_t xoff,
                                                                     uint32x4_t xoff1,
                                                                     const TD_WEIGHTS_MEM int8_t *w) {
  const int32_t lstep = g->dl * g->ap;
  int32x4_t x0 = *a0, x1 = *a1;
  int32_t fl, fa;
  for (fl = 0; fl < g->fl; ++fl, r += lstep) {
    const int8_t *ra = r;
    for (fa = 0; fa < g->fa; ++fa, ++w, ra += g->da) {
      const int32_t wt = *w;
      x0 = vmlaq_n_s32(x0, vldrbq_gather_offset_s32(ra, xoff), wt);
      x1 = vmlaq_n_s32(x1, vldrbq_gather_offset_s32(ra, xoff1), wt);
    }
  }
  *a0 = x0;
  *a1 = x1;
}

/* Two vectors (eight outputs along a line) of a 3x3 window, rows R0, R1, R2, weights W[9] (int32): each
 * weight loaded once for both, every plane load at a constant offset (widening loads take r0-r7: "l").
 * (GCC spills and recomputes addresses when this is written with intrinsics.) */
#define TD_MVE_DW_TAP(R, K, K4, W)                                                                            \
  "ldr %[t], [%[w], #" #W "]\n\t"                                                                             \
  "vldrb.s32 %q[x], [%[" #R "], #" #K "]\n\t"                                                                 \
  "vmla.s32 %q[a0], %q[x], %[t]\n\t"                                                                         \
  "vldrb.s32 %q[x], [%[" #R "], #" #K4 "]\n\t"                                                                \
  "vmla.s32 %q[a1], %q[x], %[t]\n\t"
#define TD_MVE_DW_K3_PAIR(A0, A1, R0, R1, R2, W)                                                               \
  do {                                                                                                       \
    int32x4_t x_;                                                                                            \
    int32_t t_;                                                                                              \
    __asm__(TD_MVE_DW_TAP(r0, 0, 4, 0) TD_MVE_DW_TAP(r0, 1, 5, 4) TD_MVE_DW_TAP(r0, 2, 6, 8)                    \
            TD_MVE_DW_TAP(r1, 0, 4, 12) TD_MVE_DW_TAP(r1, 1, 5, 16) TD_MVE_DW_TAP(r1, 2, 6, 20)                 \
            TD_MVE_DW_TAP(r2, 0, 4, 24) TD_MVE_DW_TAP(r2, 1, 5, 28) TD_MVE_DW_TAP(r2, 2, 6, 32)                 \
            : [a0] "+w"(A0), [a1] "+w"(A1), [x] "=&w"(x_), [t] "=&r"(t_)                                        \
            : [r0] "l"(R0), [r1] "l"(R1), [r2] "l"(R2), [w] "r"(W),                                          \
              "m"(*(const int32_t(*)[9])(W)), "m"(*(const int8_t(*)[])(R0))); /* reads W and the plane */         \
  } while (0)

/* One vector (four outputs) of a 3x3 window, as TD_MVE_DW_K3_PAIR. */
#define TD_MVE_DW_TAP1(R, K, W)                                                                               \
  "ldr %[t], [%[w], #" #W "]\n\t"                                                                             \
  "vldrb.s32 %q[x], [%[" #R "], #" #K "]\n\t"                                                                 \
  "vmla.s32 %q[a0], %q[x], %[t]\n\t"
#define TD_MVE_DW_K3_ONE(A0, R0, R1, R2, W)                                                                    \
  do {                                                                                                       \
    int32x4_t x_;                                                                                            \
    int32_t t_;                                                                                              \
    __asm__(TD_MVE_DW_TAP1(r0, 0, 0) TD_MVE_DW_TAP1(r0, 1, 4) TD_MVE_DW_TAP1(r0, 2, 8)                          \
            TD_MVE_DW_TAP1(r1, 0, 12) TD_MVE_DW_TAP1(r1, 1, 16) TD_MVE_DW_TAP1(r1, 2, 20)                       \
            TD_MVE_DW_TAP1(r2, 0, 24) TD_MVE_DW_TAP1(r2, 1, 28) TD_MVE_DW_TAP1(r2, 2, 32)                       \
            : [a0] "+w"(A0), [x] "=&w"(x_), [t] "=&r"(t_)                                                       \
            : [r0] "l"(R0), [r1] "l"(R1), [r2] "l"(R2), [w] "r"(W),                                          \
              "m"(*(const int32_t(*)[9])(W)), "m"(*(const int8_t(*)[])(R0))); /* reads W and the plane */         \
  } while (0)

/* Two lines x two vectors of a 3x3 window with line stride and dilation 1: plane rows R0..R3 (line 0 reads
 * R0..R2, line 1 R1..R3, so each load serves both lines), weights W[9]; each weight loaded once. Column K
 * of row J: x at +K (vector 0) and +K+4 (vector 1); line 0 takes weight (J, K), line 1 weight (J - 1, K). */
#define TD_MVE_DW_LD(T, W) "ldr %[" #T "], [%[w], #" #W "]\n\t"
#define TD_MVE_DW_X(R, K) "vldrb.s32 %q[x], [%[" #R "], #" #K "]\n\t"
#define TD_MVE_DW_M(A, T) "vmla.s32 %q[" #A "], %q[x], %[" #T "]\n\t"
/* row R at K, K4 into line 0 with weight T0 and / or line 1 with T1 (one temporary: 8 Q registers in all) */
#define TD_MVE_DW_R0(R, K, K4, T0) TD_MVE_DW_X(R, K) TD_MVE_DW_M(a00, T0) TD_MVE_DW_X(R, K4) TD_MVE_DW_M(a01, T0)
#define TD_MVE_DW_R1(R, K, K4, T1) TD_MVE_DW_X(R, K) TD_MVE_DW_M(a10, T1) TD_MVE_DW_X(R, K4) TD_MVE_DW_M(a11, T1)
#define TD_MVE_DW_R2(R, K, K4, T0, T1)                                                                        \
  TD_MVE_DW_X(R, K) TD_MVE_DW_M(a00, T0) TD_MVE_DW_M(a10, T1) TD_MVE_DW_X(R, K4) TD_MVE_DW_M(a01, T0)          \
  TD_MVE_DW_M(a11, T1)
/* column K (byte offsets K, K4 = K + 4; weight byte offsets W0, W1, W2 of rows 0..2 of the column) */
#define TD_MVE_DW_COL(K, K4, W0, W1, W2)                                                                      \
  TD_MVE_DW_LD(t, W0) TD_MVE_DW_R0(r0, K, K4, t) TD_MVE_DW_LD(u, W1) TD_MVE_DW_R2(r1, K, K4, u, t)             \
  TD_MVE_DW_LD(t, W2) TD_MVE_DW_R2(r2, K, K4, t, u) TD_MVE_DW_R1(r3, K, K4, t)
#define TD_MVE_DW_K3_QUAD(A00, A01, A10, A11, R0, R1, R2, R3, W)                                              \
  do {                                                                                                       \
    int32x4_t x_;                                                                                            \
    int32_t t_, u_;                                                                                          \
    __asm__(TD_MVE_DW_COL(0, 4, 0, 12, 24) TD_MVE_DW_COL(1, 5, 4, 16, 28) TD_MVE_DW_COL(2, 6, 8, 20, 32)      \
            : [a00] "+w"(A00), [a01] "+w"(A01), [a10] "+w"(A10), [a11] "+w"(A11), [x] "=&w"(x_),                 \
              [t] "=&r"(t_), [u] "=&r"(u_)                                                                    \
            : [r0] "l"(R0), [r1] "l"(R1), [r2] "l"(R2), [r3] "l"(R3), [w] "r"(W),                            \
              "m"(*(const int32_t(*)[9])(W)), "m"(*(const int8_t(*)[])(R0))); /* reads W and the plane */         \
  } while (0)

/* One vector of each of two neighbouring lines (as TD_MVE_DW_K3_QUAD, one vector). */
#define TD_MVE_DW_COL1(K, W0, W1, W2)                                                                         \
  TD_MVE_DW_LD(t, W0) TD_MVE_DW_X(r0, K) TD_MVE_DW_M(a0, t)                                                   \
  TD_MVE_DW_LD(u, W1) TD_MVE_DW_X(r1, K) TD_MVE_DW_M(a0, u) TD_MVE_DW_M(a1, t)                                \
  TD_MVE_DW_LD(t, W2) TD_MVE_DW_X(r2, K) TD_MVE_DW_M(a0, t) TD_MVE_DW_M(a1, u)                                \
  TD_MVE_DW_X(r3, K) TD_MVE_DW_M(a1, t)
#define TD_MVE_DW_K3_TWO(A0, A1, R0, R1, R2, R3, W)                                                           \
  do {                                                                                                       \
    int32x4_t x_;                                                                                            \
    int32_t t_, u_;                                                                                          \
    __asm__(TD_MVE_DW_COL1(0, 0, 12, 24) TD_MVE_DW_COL1(1, 4, 16, 28) TD_MVE_DW_COL1(2, 8, 20, 32)             \
            : [a0] "+w"(A0), [a1] "+w"(A1), [x] "=&w"(x_), [t] "=&r"(t_), [u] "=&r"(u_)                          \
            : [r0] "l"(R0), [r1] "l"(R1), [r2] "l"(R2), [r3] "l"(R3), [w] "r"(W),                            \
              "m"(*(const int32_t(*)[9])(W)), "m"(*(const int8_t(*)[])(R0))); /* reads W and the plane */         \
  } while (0)

/* The last vectors of a 3x3 line from plane row r: `full` whole ones, then `rest` (< 4) outputs. */
static inline __attribute__((always_inline)) void td_mve_dw_rest(const td_mve_dw_geo *g, const int8_t *r,
                                                                 const int32_t *wk, int32x4_t bias, int32_t m,
                                                                 int32_t shift, int right, int32_t oo, int32_t lo,
                                                                 int32_t hi, uint32x4_t ooff, int8_t *o, int32_t full,
                                                                 int32_t rest) {
  const int32_t lstep = g->dl * g->ap, ostep = 4 * g->out_a;
  int32_t i;
  for (i = 0; i <= full; ++i, o += ostep, r += 4) {
    int32x4_t acc = bias;
    if (i == full && !rest) break;
    TD_MVE_DW_K3_ONE(acc, r, r + lstep, r + 2 * lstep, wk);
    acc = td_mve_dw_requant(acc, m, shift, right, oo, lo, hi);
    if (i < full)
      vstrbq_scatter_offset_s32(o, ooff, acc);
    else
      vstrbq_scatter_offset_p_s32(o, ooff, acc, vctp32q((uint32_t)rest));
  }
}

/* One channel's output lines from its plane: w = its taps, q = its table words, out = its first byte.
 * k3: 3x3 taps, stride and dilation 1 along the line (contiguous loads at constant offsets). The weights
 * are copied to locals: the compiler cannot keep them across the scatter stores otherwise. */
static inline __attribute__((always_inline)) void td_mve_dw_lines(const td_mve_dw_geo *gp, const td_dw_conv_params *p,
                                                                  const int8_t *plane,
                                                                  const TD_WEIGHTS_MEM int8_t *w,
                                                                  const TD_WEIGHTS_MEM int32_t *q, int8_t *out,
                                                                  int right, int k3) {
  const td_mve_dw_geo gv = *gp, *g = &gv; /* a local copy: the scatter stores could alias *gp */
  const int32_t m = q[1], shift = q[2], oo = p->output_offset;
  const int32_t lo = p->activation.min, hi = p->activation.max;
  const int32x4_t bias = vdupq_n_s32(q[0]);
  const uint32x4_t ooff = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)g->out_a);
  const uint32x4_t xoff = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)g->sa);
  const uint32x4_t xoff1 = vaddq_n_u32(xoff, (uint32_t)(4 * g->sa));
  const int32_t lstep = g->dl * g->ap, ostep = 4 * g->out_a, full = g->ao >> 2, rest = g->ao & 3;
  const int two = g->sl == 1 && g->dl == 1; /* neighbouring lines share plane rows */
  int32_t wk[9], ol, i;
  if (k3)
    for (i = 0; i < 9; ++i) wk[i] = w[i];
  for (ol = 0; ol < g->lo; ++ol) {
    const int8_t *r = plane + ol * g->sl * g->ap;
    int8_t *o = out + ol * g->out_l;
    i = 0;
    if (k3 && two && ol + 1 < g->lo) { /* lines ol and ol + 1 together, then the rest of both one by one */
      for (; i + 2 <= full; i += 2, r += 8, o += 2 * ostep) {
        int32x4_t a00 = bias, a01 = bias, a10 = bias, a11 = bias;
        TD_MVE_DW_K3_QUAD(a00, a01, a10, a11, r, r + lstep, r + 2 * lstep, r + 3 * lstep, wk);
        vstrbq_scatter_offset_s32(o, ooff, td_mve_dw_requant(a00, m, shift, right, oo, lo, hi));
        vstrbq_scatter_offset_s32(o + ostep, ooff, td_mve_dw_requant(a01, m, shift, right, oo, lo, hi));
        vstrbq_scatter_offset_s32(o + g->out_l, ooff, td_mve_dw_requant(a10, m, shift, right, oo, lo, hi));
        vstrbq_scatter_offset_s32(o + g->out_l + ostep, ooff, td_mve_dw_requant(a11, m, shift, right, oo, lo, hi));
      }
      for (; i < full || (i == full && rest); ++i, r += 4, o += ostep) { /* the last vectors of both lines */
        int32x4_t a0 = bias, a1 = bias;
        TD_MVE_DW_K3_TWO(a0, a1, r, r + lstep, r + 2 * lstep, r + 3 * lstep, wk);
        a0 = td_mve_dw_requant(a0, m, shift, right, oo, lo, hi);
        a1 = td_mve_dw_requant(a1, m, shift, right, oo, lo, hi);
        if (i < full) {
          vstrbq_scatter_offset_s32(o, ooff, a0);
          vstrbq_scatter_offset_s32(o + g->out_l, ooff, a1);
        } else {
          vstrbq_scatter_offset_p_s32(o, ooff, a0, vctp32q((uint32_t)rest));
          vstrbq_scatter_offset_p_s32(o + g->out_l, ooff, a1, vctp32q((uint32_t)rest));
        }
      }
      ++ol;
      continue;
    } else if (k3) { /* two vectors at a time: each weight read once for both */
      for (; i + 2 <= full; i += 2, r += 8, o += 2 * ostep) {
        int32x4_t a0 = bias, a1 = bias;
        TD_MVE_DW_K3_PAIR(a0, a1, r, r + lstep, r + 2 * lstep, wk);
        vstrbq_scatter_offset_s32(o, ooff, td_mve_dw_requant(a0, m, shift, right, oo, lo, hi));
        vstrbq_scatter_offset_s32(o + ostep, ooff, td_mve_dw_requant(a1, m, shift, right, oo, lo, hi));
      }
    }
    if (k3) {
      td_mve_dw_rest(g, r, wk, bias, m, shift, right, oo, lo, hi, ooff, o, full - i, rest);
      continue;
    }
    for (; i + 2 <= full; i += 2, o += 2 * ostep, r += 8 * g->sa) {
      int32x4_t a0 = bias, a1 = bias;
      td_mve_dw_any_pair(g, &a0, &a1, r, xoff, xoff1, w);
      vstrbq_scatter_offset_s32(o, ooff, td_mve_dw_requant(a0, m, shift, right, oo, lo, hi));
      vstrbq_scatter_offset_s32(o + ostep, ooff, td_mve_dw_requant(a1, m, shift, right, oo, lo, hi));
    }
    for (; i <= full; ++i, o += ostep, r += 4 * g->sa) {
      int32x4_t acc;
      if (i == full && !rest) break;
      acc = td_mve_dw_requant(td_mve_dw_any_vec(g, bias, r, xoff, w), m, shift, right, oo, lo, hi);
      if (i < full)
        vstrbq_scatter_offset_s32(o, ooff, acc);
      else
        vstrbq_scatter_offset_p_s32(o, ooff, acc, vctp32q((uint32_t)rest));
    }
  }
}

#define TD_MVE_DW_LINES_FN(NAME, RIGHT, K3)                                                                  \
  static __attribute__((noinline)) void NAME(const td_mve_dw_geo *g, const td_dw_conv_params *p,             \
                                             const int8_t *plane, const TD_WEIGHTS_MEM int8_t *w,              \
                                             const TD_WEIGHTS_MEM int32_t *q, int8_t *out) {                  \
    td_mve_dw_lines(g, p, plane, w, q, out, RIGHT, K3);                                                      \
  }
TD_MVE_DW_LINES_FN(td_mve_dw_k3_right, 1, 1)
TD_MVE_DW_LINES_FN(td_mve_dw_k3_left, 0, 1)
TD_MVE_DW_LINES_FN(td_mve_dw_any_right, 1, 0)
TD_MVE_DW_LINES_FN(td_mve_dw_any_left, 0, 0)

static void td_mve_dw_run(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                          const TD_WEIGHTS_MEM int32_t *table, int8_t *output, int8_t *plane) {
  const td_mve_dw_geo g = td_mve_dw_geometry(p, table[0]);
  const int32_t channels = p->input.c, taps = g.fl * g.fa;
  const int k3 = g.fl == 3 && g.fa == 3 && g.sa == 1 && g.da == 1;
  const int32_t size = td_mve_dw_plane(&g), planes = td_mve_dw_planes(&g, channels);
  int32_t b, c0, c;
  memset(plane, -p->input_offset, (size_t)(planes * size));
  for (b = 0; b < p->input.n; ++b) {
    const int8_t *in = input + b * p->input.h * p->input.w * channels;
    int8_t *out = output + b * p->output.h * p->output.w * channels;
    for (c0 = 0; c0 < channels; c0 += planes) { /* a group's planes are filled before its outputs are written */
      const int32_t n = channels - c0 < planes ? channels - c0 : planes;
      if (planes == 1)
        td_mve_dw_fill(&g, in + c0, plane);
      else
        td_mve_dw_fill8(&g, in + c0, plane, size, n);
      for (c = c0; c < c0 + n; ++c) {
        const TD_WEIGHTS_MEM int32_t *q = table + 4 + 4 * c;
        const TD_WEIGHTS_MEM int8_t *w = filter + c * taps;
        const int8_t *pl = plane + (c - c0) * size;
        if (k3)
          (q[2] < 0 ? td_mve_dw_k3_right : td_mve_dw_k3_left)(&g, p, pl, w, q, out + c);
        else
          (q[2] < 0 ? td_mve_dw_any_right : td_mve_dw_any_left)(&g, p, pl, w, q, out + c);
      }
    }
  }
}

void td_depthwise_conv_s8_mve(const td_dw_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                              const TD_WEIGHTS_MEM int32_t *table, int8_t *output, void *scratch) {
  td_mve_dw_run(p, input, filter, table, output, (int8_t *)scratch);
}

void td_depthwise_conv_s8_mve_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                                      const TD_WEIGHTS_MEM int32_t *table, void *scratch) {
  td_mve_dw_run(p, buf, filter, table, buf, (int8_t *)scratch);
}

#else
typedef int td_mve_dw_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_MVE */
