/* CONV_2D reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF (ConvPerChannel), which
 * requantizes with the two-step rounding (td_mul_by_quantized_mult_dr / _64_dr). */
#include "td_conv.h"

#include "td_math.h"

/*
 * Range [*start, *end) of filter taps k with 0 <= origin + dilation * k < size: the taps that
 * fall inside the image (TFLite skips the others, i.e. zero padding that adds nothing).
 */
static void td_conv_taps(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *start,
                         int32_t *end) {
  const int32_t last = size - 1 - origin; /* largest dilation * k allowed */
  int32_t s = 0, e;
  if (origin < 0) s = (-origin + dilation - 1) / dilation;
  e = last < 0 ? 0 : last / dilation + 1;
  if (e > taps) e = taps;
  *start = s;
  *end = e < s ? s : e;
}

void td_conv_s8(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                const TD_WEIGHTS_MEM int32_t *bias, int8_t *output) {
  const int32_t groups = p->input_c / p->filter_c;
  const int32_t row = p->input_w * p->input_c;
  int32_t b, oy, ox, g, k, fy, fx, c;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      td_conv_taps(y0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx0, fx1;
        td_conv_taps(x0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        for (g = 0; g < groups; ++g) {
          const int8_t *in_g = in_b + g * p->filter_c;
          for (k = 0; k < p->filters_per_group; ++k) {
            const int32_t oc = g * p->filters_per_group + k;
            const int32_t ch = p->per_channel ? oc : 0;
            const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * p->filter_h * p->filter_w * p->filter_c;
            int32_t acc = 0;
            for (fy = fy0; fy < fy1; ++fy) {
              const int8_t *in_y = in_g + (y0 + p->dilation_h * fy) * row;
              for (fx = fx0; fx < fx1; ++fx) {
                const int8_t *in = in_y + (x0 + p->dilation_w * fx) * p->input_c;
                const TD_WEIGHTS_MEM int8_t *w = w_oc + (fy * p->filter_w + fx) * p->filter_c;
                for (c = 0; c < p->filter_c; ++c) {
                  acc += (int32_t)w[c] * ((int32_t)in[c] + p->input_offset);
                }
              }
            }
            if (bias) acc += bias[oc];
            acc = td_mul_by_quantized_mult_dr(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            output[((b * p->output_h + oy) * p->output_w + ox) * p->output_c + oc] =
                (int8_t)td_clamp(acc, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}

void td_conv_s16(const td_conv_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                 const TD_WEIGHTS_MEM int64_t *bias, int16_t *output) {
  const int32_t groups = p->input_c / p->filter_c;
  const int32_t row = p->input_w * p->input_c;
  int32_t b, oy, ox, g, k, fy, fx, c;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      td_conv_taps(y0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx0, fx1;
        td_conv_taps(x0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        for (g = 0; g < groups; ++g) {
          const int16_t *in_g = in_b + g * p->filter_c;
          for (k = 0; k < p->filters_per_group; ++k) {
            const int32_t oc = g * p->filters_per_group + k;
            const int32_t ch = p->per_channel ? oc : 0;
            const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * p->filter_h * p->filter_w * p->filter_c;
            int64_t acc = 0;
            int32_t out;
            for (fy = fy0; fy < fy1; ++fy) {
              const int16_t *in_y = in_g + (y0 + p->dilation_h * fy) * row;
              for (fx = fx0; fx < fx1; ++fx) {
                const int16_t *in = in_y + (x0 + p->dilation_w * fx) * p->input_c;
                const TD_WEIGHTS_MEM int8_t *w = w_oc + (fy * p->filter_w + fx) * p->filter_c;
                for (c = 0; c < p->filter_c; ++c) {
                  acc += (int32_t)w[c] * ((int32_t)in[c] + p->input_offset);
                }
              }
            }
            if (bias) acc += td_weights_s64(bias, oc);
            out = td_mul_by_quantized_mult_64_dr(acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            output[((b * p->output_h + oy) * p->output_w + ox) * p->output_c + oc] =
                (int16_t)td_clamp(out, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}

void td_conv_s16_b32(const td_conv_params *p, const int16_t *input, const TD_WEIGHTS_MEM int8_t *filter,
                     const TD_WEIGHTS_MEM int32_t *bias, int16_t *output) {
  const int32_t groups = p->input_c / p->filter_c;
  const int32_t row = p->input_w * p->input_c;
  int32_t b, oy, ox, g, k, fy, fx, c;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t y0 = oy * p->stride_h - p->pad_h;
      int32_t fy0, fy1;
      td_conv_taps(y0, p->dilation_h, p->filter_h, p->input_h, &fy0, &fy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t x0 = ox * p->stride_w - p->pad_w;
        int32_t fx0, fx1;
        td_conv_taps(x0, p->dilation_w, p->filter_w, p->input_w, &fx0, &fx1);
        for (g = 0; g < groups; ++g) {
          const int16_t *in_g = in_b + g * p->filter_c;
          for (k = 0; k < p->filters_per_group; ++k) {
            const int32_t oc = g * p->filters_per_group + k;
            const int32_t ch = p->per_channel ? oc : 0;
            const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * p->filter_h * p->filter_w * p->filter_c;
            uint32_t acc = 0; /* 32-bit accumulator with wrap-around, as LiteRT's int32 path */
            int32_t out;
            for (fy = fy0; fy < fy1; ++fy) {
              const int16_t *in_y = in_g + (y0 + p->dilation_h * fy) * row;
              for (fx = fx0; fx < fx1; ++fx) {
                const int16_t *in = in_y + (x0 + p->dilation_w * fx) * p->input_c;
                const TD_WEIGHTS_MEM int8_t *w = w_oc + (fy * p->filter_w + fx) * p->filter_c;
                for (c = 0; c < p->filter_c; ++c) {
                  acc += (uint32_t)((int32_t)w[c] * ((int32_t)in[c] + p->input_offset));
                }
              }
            }
            if (bias) acc += (uint32_t)bias[oc];
            out = td_mul_by_quantized_mult_dr((int32_t)acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
            output[((b * p->output_h + oy) * p->output_w + ox) * p->output_c + oc] =
                (int16_t)td_clamp(out, p->act_min, p->act_max);
          }
        }
      }
    }
  }
}
