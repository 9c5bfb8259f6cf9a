/*
 * The in-place twin of the arm-dsp depthwise kernel (td_depthwise_conv_s8_arm_dsp_inplace, batch 1, the
 * output over the input): channel group by group of four, the group's input is copied into a plane of
 * the scratch padded with the input zero point to the windows' extent (so every output pixel is an
 * interior one and the run needs no border path), and td_arm_dw_run writes the group's output straight
 * into the buffer, whose input bytes of that group are no longer needed.
 */
#include "td_depthwise_conv.h"

#if defined(__ARM_FEATURE_DSP)

#include <string.h>

#include "td_arm_depthwise.h"

/* The in-place kernel's plane: a group of four channels' input, padded with the input zero point to the
 * extent of the windows (so that every output pixel is an interior one), before the scratch of
 * td_arm_dw_run for four channels. */
static int32_t td_arm_dw_extent(int32_t out, int32_t stride, int32_t taps, int32_t dilation) {
  return (out - 1) * stride + (taps - 1) * dilation + 1;
}

static int32_t td_arm_dw_plane(const td_dw_conv_params *p) {
  const td_window *w = &p->window;
  return 4 * td_arm_dw_extent(p->output.h, w->stride_h, w->filter_h, w->dilation_h) *
         td_arm_dw_extent(p->output.w, w->stride_w, w->filter_w, w->dilation_w);
}

int32_t td_depthwise_conv_s8_arm_dsp_inplace_scratch_size(const td_dw_conv_params *p) {
  return td_arm_dw_scratch(p->window.filter_h * p->window.filter_w, p->input.c < 4 ? p->input.c : 4) +
         td_arm_dw_plane(p);
}

void td_depthwise_conv_s8_arm_dsp_inplace(const td_dw_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *filter,
                                          const TD_WEIGHTS_MEM int32_t *table, void *scratch) {
  const td_window *win = &p->window;
  const int32_t channels = p->input.c, taps = win->filter_h * win->filter_w;
  const int32_t hp = td_arm_dw_extent(p->output.h, win->stride_h, win->filter_h, win->dilation_h);
  const int32_t wp = td_arm_dw_extent(p->output.w, win->stride_w, win->filter_w, win->dilation_w);
  const uint32_t zp4 = td_arm_splat4(-p->input_offset);
  int8_t *plane = (int8_t *)td_arm_word_align(scratch); /* the run's scratch (after the plane) has its word */
  td_arm_dw_layer *l = (td_arm_dw_layer *)(plane + td_arm_dw_plane(p));
  int32_t g, y, x, j;
  l->p = p;
  l->input = plane;
  l->ostep = channels;
  l->h = hp;
  l->w = wp;
  l->pad_h = l->pad_w = 0;
  l->fast = table[0] != 0;
  l->whole = 1;
  const int32_t cols = p->input.w < wp - win->pad_w ? p->input.w : wp - win->pad_w; /* input columns read */
  for (g = 0; g < channels; g += 4) {
    const int32_t n = channels - g < 4 ? channels - g : 4;
    if (g == 0 || n < 4) /* the padding: the groups of four overwrite only the interior */
      for (j = 0; j < hp * wp; ++j) memcpy(plane + 4 * j, &zp4, 4); /* (n < 4: the first n * hp * wp bytes) */
    for (y = 0; y < p->input.h && y + win->pad_h < hp; ++y) {
      int8_t *dst = plane + ((y + win->pad_h) * wp + win->pad_w) * n;
      const int8_t *src = buf + y * p->input.w * channels + g;
      if (n == 4) {
        for (x = 0; x < cols; ++x, dst += 4, src += channels) memcpy(dst, src, 4);
      } else {
        for (x = 0; x < cols; ++x, dst += n, src += channels)
          for (j = 0; j < n; ++j) dst[j] = src[j];
      }
    }
    l->output = buf + g;
    l->filter = filter + g * taps;
    l->c = n;
    td_arm_dw_run(l, table + 4 + 4 * g);
  }
}

#else
typedef int td_arm_depthwise_inplace_unused; /* ISO C forbids an empty translation unit */
#endif /* __ARM_FEATURE_DSP */
