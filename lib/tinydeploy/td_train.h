/* Training kernels: the backward of int8 layers and the SGD step (tinydeploy/train, issue 17).
 *
 * A gradient tensor is int16 mantissas m with one exponent e (the float gradient is m * 2^e),
 * normalized so that |m| <= 2^14. Sums are exact in int64, then rounded once (half up) to 14 bits,
 * so the result does not depend on the loop order. Parameter updates are float32, element-wise, in
 * a fixed operation order (no fused multiply-add). tinydeploy/train/kernels.py is the same math in
 * numpy, bit for bit. */
#ifndef TD_TRAIN_H
#define TD_TRAIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TD_TRAIN_GBITS 14    /* |mantissa| <= 2^14 */
#define TD_TRAIN_POOL_BITS 24 /* an average window's 1/count as round(2^24 / count) */

typedef int16_t td_grad_t; /* gradient mantissas, |m| <= 2^14 */

/** A sliding window over NHWC, batch 1 (conv, depthwise, pooling, spatial mean). */
typedef struct {
  int32_t ih, iw, ic;  /* input */
  int32_t oh, ow, oc;  /* output */
  int32_t kh, kw;      /* filter taps */
  int32_t sh, sw;      /* stride */
  int32_t dh, dw;      /* dilation */
  int32_t ph, pw;      /* top / left padding */
  int32_t mult;        /* depthwise channel multiplier */
} td_train_geom;

/** An updated parameter: its float32 master (in units of its quantization step), the optional
 * momentum buffer, and the quantized copy the forward reads (int8 weights or int32 bias). Element i
 * belongs to channel (i / inner) % channels, whose factor turns gradient accumulators (times 2^e)
 * into the gradient in quantization steps (QAS). Only the first `count` elements are updated (the
 * leading output channels of FC/conv weights; masters and momentum hold `count` floats). */
typedef struct {
  float *master;
  float *velocity;      /* NULL: plain SGD */
  const float *factor;  /* [channels] */
  int32_t channels;
  int32_t inner;
  int32_t count;
  int8_t *q8;           /* one of q8 / q32 */
  int32_t *q32;
} td_train_param;

typedef struct {
  float lr;
  float momentum;
} td_train_sgd;

/** Softmax cross-entropy on int8 logits: gradient (p - onehot) in Q14 (*e = -14) from the Q30 table
 * exp(beta * scale * d), d = 0..-255; returns the loss (natural log). */
float td_train_ce_grad(const int8_t *logits, int32_t n, int32_t label, const int32_t *table, td_grad_t *g,
                       int32_t *e);

/** Zero g where the saved int8 output y is on its clamp: y <= lo or y >= hi. */
void td_train_mask(td_grad_t *g, const int8_t *y, int32_t n, int32_t lo, int32_t hi);

/** dst += src (gradients of one tensor from two consumers): both rounded to the larger exponent. */
void td_train_grad_add(td_grad_t *dst, int32_t *dst_e, const td_grad_t *src, int32_t src_e, int32_t n);

/** FULLY_CONNECTED input gradient: dx[i] = sum_o w[o][i] * r[o] * g[o], exponent e - k. */
void td_train_fc_dx(const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r, int32_t k, int32_t out_n,
                    int32_t in_n, td_grad_t *dx, int32_t *dx_e);
/** CONV_2D input gradient (w: OHWI). */
void td_train_conv_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r,
                      int32_t k, td_grad_t *dx, int32_t *dx_e);
/** DEPTHWISE_CONV_2D input gradient (w: [1, kh, kw, oc]). */
void td_train_dw_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *w, const int32_t *r,
                    int32_t k, td_grad_t *dx, int32_t *dx_e);
/** AVERAGE_POOL_2D / MEAN input gradient: g / (valid taps of the window). */
void td_train_avg_pool_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, td_grad_t *dx, int32_t *dx_e);
/** MAX_POOL_2D input gradient: each window's gradient to its first largest valid input of x. */
void td_train_max_pool_dx(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, td_grad_t *dx,
                          int32_t *dx_e);

/** Weight gradients of FULLY_CONNECTED (w: [out_n, in_n]) from g and the saved input x, and the SGD step. */
void td_train_fc_update(const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp, int32_t out_n, int32_t in_n,
                        const td_train_param *w, const td_train_sgd *opt);
void td_train_conv_update(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp,
                          const td_train_param *w, const td_train_sgd *opt);
void td_train_dw_update(const td_train_geom *p, const td_grad_t *g, int32_t e, const int8_t *x, int32_t x_zp,
                        const td_train_param *w, const td_train_sgd *opt);
/** Bias gradients (sum of g over the positions) and the SGD step. */
void td_train_bias_update(const td_grad_t *g, int32_t e, int32_t positions, int32_t channels,
                          const td_train_param *b, const td_train_sgd *opt);

#ifdef __cplusplus
}
#endif

#endif /* TD_TRAIN_H */
