/* DEPTHWISE_CONV_2D reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF
 * (DepthwiseConvPerChannel), which requantizes with the two-step rounding. */
#include "td_depthwise_conv.h"

#include "td_math.h"

/* Range [*start, *end) of filter taps k with 0 <= origin + dilation * k < size. */
static void td_dw_taps(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start,
                       int32_t *end) {
  const int32_t last = size - 1 - origin;
  int32_t s = 0, e;
  if (origin < 0) s = (-origin + dilation - 1) / dilation;
  e = last < 0 ? 0 : last / dilation + 1;
  if (e > taps) e = taps;
  *start = s;
  *end = e < s ? s : e;
}

void td_depthwise_conv_s8(const td_dw_conv_params *p, const int8_t *input,
                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                          int8_t *output) {
  const int32_t row = p->input_w * p->input_c;
  const int32_t frow = p->filter_w * p->output_c;
  int32_t b, oy, ox, ic, m, fy, fx;
  int8_t *out = output;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      td_dw_taps(y0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx0, fx1;
        td_dw_taps(x0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        for (ic = 0; ic < p->input_c; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            const int32_t oc = ic * p->depth_multiplier + m;
            const int32_t ch = p->per_channel ? oc : 0;
            int32_t acc = 0;
            for (fy = fy0; fy < fy1; ++fy) {
              const int8_t *in_y = in_b + (y0 + p->dilation_h * fy) * row + ic;
              const TD_WEIGHTS_MEM int8_t *w_y = filter + fy * frow + oc;
              for (fx = fx0; fx < fx1; ++fx) {
                acc += (int32_t)w_y[fx * p->output_c] *
                       ((int32_t)in_y[(x0 + p->dilation_w * fx) * p->input_c] + p->input_offset);
              }
            }
            if (bias) acc += bias[oc];
            acc = td_mul_by_quantized_mult_dr(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            *out++ = (int8_t)td_clamp(acc, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}

void td_depthwise_conv_s16(const td_dw_conv_params *p, const int16_t *input,
                           const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                           int16_t *output) {
  const int32_t row = p->input_w * p->input_c;
  const int32_t frow = p->filter_w * p->output_c;
  int32_t b, oy, ox, ic, m, fy, fx;
  int16_t *out = output;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      td_dw_taps(y0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx0, fx1;
        td_dw_taps(x0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        for (ic = 0; ic < p->input_c; ++ic) {
          for (m = 0; m < p->depth_multiplier; ++m) {
            const int32_t oc = ic * p->depth_multiplier + m;
            const int32_t ch = p->per_channel ? oc : 0;
            int64_t acc = 0;
            int32_t v;
            for (fy = fy0; fy < fy1; ++fy) {
              const int16_t *in_y = in_b + (y0 + p->dilation_h * fy) * row + ic;
              const TD_WEIGHTS_MEM int8_t *w_y = filter + fy * frow + oc;
              for (fx = fx0; fx < fx1; ++fx) {
                acc += (int32_t)w_y[fx * p->output_c] *
                       ((int32_t)in_y[(x0 + p->dilation_w * fx) * p->input_c] + p->input_offset);
              }
            }
            if (bias) acc += td_weights_s64(bias, oc);
            v = td_mul_by_quantized_mult_64_dr(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            *out++ = (int16_t)td_clamp(v, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}
