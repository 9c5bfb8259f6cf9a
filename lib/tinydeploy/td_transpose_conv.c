/* TRANSPOSE_CONV reference kernels, bit-exact with LiteRT 2.3.0 BUILTIN_REF
 * (reference_integer_ops::TransposeConv), which requantizes with the two-step rounding. */
#include "td_transpose_conv.h"

#include "td_math.h"

/*
 * Input rows [*first, *last] that reach output row `out` (out + pad = in * stride + tap,
 * 0 <= tap < taps, 0 <= in < size); empty when *first > *last. The tap of row `in` is
 * out + pad - in * stride.
 */
static void td_tc_rows(int32_t out_plus_pad, int32_t stride, int32_t taps, int32_t size, int32_t *first,
                       int32_t *last) {
  const int32_t lowest = out_plus_pad - taps + 1; /* in * stride >= lowest */
  int32_t hi = out_plus_pad / stride;
  *first = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  if (hi > size - 1) hi = size - 1;
  *last = hi;
}

void td_transpose_conv_s8(const td_transpose_conv_params *p, const int8_t *input,
                          const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                          int8_t *output) {
  const int32_t row = p->input_w * p->input_c;
  const int32_t fsize = p->filter_h * p->filter_w * p->input_c;
  int32_t b, oy, ox, oc, iy, ix, c;
  int8_t *out = output;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t ty = oy + p->pad_h;
      int32_t iy0, iy1;
      td_tc_rows(ty, p->stride_h, p->filter_h, p->input_h, &iy0, &iy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t tx = ox + p->pad_w;
        int32_t ix0, ix1;
        td_tc_rows(tx, p->stride_w, p->filter_w, p->input_w, &ix0, &ix1);
        for (oc = 0; oc < p->output_c; ++oc) {
          const int32_t ch = p->per_channel ? oc : 0;
          const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * fsize;
          int32_t acc = 0;
          for (iy = iy0; iy <= iy1; ++iy) {
            const TD_WEIGHTS_MEM int8_t *w_y = w_oc + (ty - iy * p->stride_h) * p->filter_w * p->input_c;
            for (ix = ix0; ix <= ix1; ++ix) {
              const int8_t *in = in_b + iy * row + ix * p->input_c;
              const TD_WEIGHTS_MEM int8_t *w = w_y + (tx - ix * p->stride_w) * p->input_c;
              for (c = 0; c < p->input_c; ++c) {
                acc += ((int32_t)in[c] + p->input_offset) * (int32_t)w[c];
              }
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

void td_transpose_conv_s16(const td_transpose_conv_params *p, const int16_t *input,
                           const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int64_t *bias,
                           int16_t *output) {
  const int32_t row = p->input_w * p->input_c;
  const int32_t fsize = p->filter_h * p->filter_w * p->input_c;
  int32_t b, oy, ox, oc, iy, ix, c;
  int16_t *out = output;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t ty = oy + p->pad_h;
      int32_t iy0, iy1;
      td_tc_rows(ty, p->stride_h, p->filter_h, p->input_h, &iy0, &iy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t tx = ox + p->pad_w;
        int32_t ix0, ix1;
        td_tc_rows(tx, p->stride_w, p->filter_w, p->input_w, &ix0, &ix1);
        for (oc = 0; oc < p->output_c; ++oc) {
          const int32_t ch = p->per_channel ? oc : 0;
          const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * fsize;
          int64_t acc = 0;
          int32_t v;
          for (iy = iy0; iy <= iy1; ++iy) {
            const TD_WEIGHTS_MEM int8_t *w_y = w_oc + (ty - iy * p->stride_h) * p->filter_w * p->input_c;
            for (ix = ix0; ix <= ix1; ++ix) {
              const int16_t *in = in_b + iy * row + ix * p->input_c;
              const TD_WEIGHTS_MEM int8_t *w = w_y + (tx - ix * p->stride_w) * p->input_c;
              for (c = 0; c < p->input_c; ++c) {
                acc += ((int32_t)in[c] + p->input_offset) * (int32_t)w[c];
              }
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

void td_transpose_conv_s16_b32(const td_transpose_conv_params *p, const int16_t *input,
                               const TD_WEIGHTS_MEM int8_t *filter, const TD_WEIGHTS_MEM int32_t *bias,
                               int16_t *output) {
  const int32_t row = p->input_w * p->input_c;
  const int32_t fsize = p->filter_h * p->filter_w * p->input_c;
  int32_t b, oy, ox, oc, iy, ix, c;
  int16_t *out = output;
  for (b = 0; b < p->batches; ++b) {
    const int16_t *in_b = input + b * p->input_h * row;
    for (oy = 0; oy < p->output_h; ++oy) {
      const int32_t ty = oy + p->pad_h;
      int32_t iy0, iy1;
      td_tc_rows(ty, p->stride_h, p->filter_h, p->input_h, &iy0, &iy1);
      for (ox = 0; ox < p->output_w; ++ox) {
        const int32_t tx = ox + p->pad_w;
        int32_t ix0, ix1;
        td_tc_rows(tx, p->stride_w, p->filter_w, p->input_w, &ix0, &ix1);
        for (oc = 0; oc < p->output_c; ++oc) {
          const int32_t ch = p->per_channel ? oc : 0;
          const TD_WEIGHTS_MEM int8_t *w_oc = filter + oc * fsize;
          uint32_t acc = 0; /* 32-bit accumulator with wrap-around, as LiteRT's int32 scratch */
          int32_t v;
          for (iy = iy0; iy <= iy1; ++iy) {
            const TD_WEIGHTS_MEM int8_t *w_y = w_oc + (ty - iy * p->stride_h) * p->filter_w * p->input_c;
            for (ix = ix0; ix <= ix1; ++ix) {
              const int16_t *in = in_b + iy * row + ix * p->input_c;
              const TD_WEIGHTS_MEM int8_t *w = w_y + (tx - ix * p->stride_w) * p->input_c;
              for (c = 0; c < p->input_c; ++c) {
                acc += (uint32_t)(((int32_t)in[c] + p->input_offset) * (int32_t)w[c]);
              }
            }
          }
          if (bias) acc += (uint32_t)bias[oc];
          v = td_mul_by_quantized_mult_dr((int32_t)acc, p->multiplier[ch], p->shift[ch]) + p->output_offset;
          *out++ = (int16_t)td_clamp(v, p->act_min, p->act_max);
        }
      }
    }
  }
}
