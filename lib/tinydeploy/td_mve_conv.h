/* CONV_2D and FULLY_CONNECTED int8 kernels of the arm-mve variant: Cortex-M55/M85 with Helium (MVE),
 * lib/tinydeploy/mve/td_mve_conv*.c and td_mve_fc.c. They build to nothing on other cores.
 *
 * "mve conv layout" (ops/_mve.py, mve_weights): one int8 stream of the weights as [rows, K] (OHWI
 * filters, or fully-connected rows) and the int32 biases. Rows go in pairs: the pair's two biases (8 bytes,
 * little-endian), then its rows chunk by chunk (16 bytes of row 2i, 16 of row 2i + 1, then their next 16
 * columns), each row padded with zeros to Kp = K rounded up to 16; a last row of an odd count follows as
 * its bias (4 bytes) and its padded row. One pointer walks the whole stream, one 16-byte vector per load:
 * rows * (Kp + 4) bytes. The biases have the input offset folded in (bias + input_offset * sum of the row's
 * weights, int32 wrapping like the reference accumulator), so the loops multiply raw int8.
 */
#ifndef TD_MVE_CONV_H
#define TD_MVE_CONV_H

#include "td_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief arm-mve variant of td_conv_s8 (one group), bit-exact with it (two-step requantization):
 * three output pixels x two filters per tile, one VMLADAVA per 16 MACs, over im2col fields padded
 * with the input zero point (a 1x1 unpadded convolution reads its input pixels in place).
 * @param[in]  p        layer parameters (as for td_conv_s8; p->filter_c = p->input.c)
 * @param[in]  input    int8 NHWC input
 * @param[in]  weights  [output.c, K] weights and biases in the mve conv layout, K = filter_h * filter_w * filter_c
 * @param[out] output   int8 NHWC output
 * @param[in]  scratch  td_conv_s8_mve_scratch_size(p) bytes (any alignment)
 */
void td_conv_s8_mve(const td_conv_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                    int8_t *output, void *scratch);

/** @brief Scratch bytes of td_conv_s8_mve: three pixels' fields (none for 1x1 unpadded) and accumulators. */
int32_t td_conv_s8_mve_scratch_size(const td_conv_params *p);

/**
 * @brief td_conv_s8_mve for a 1x1 stride-1 convolution written over its input (as
 * td_conv_1x1_s8_inplace): three input pixels are copied to the scratch before their outputs are written.
 * @param[in]     p        layer parameters
 * @param[in,out] buf      the input; holds the output on return
 * @param[in]     weights  [output.c, input.c] weights and biases in the mve conv layout
 * @param[in]     scratch  td_conv_1x1_s8_mve_inplace_scratch_size(p) bytes (any alignment)
 */
void td_conv_1x1_s8_mve_inplace(const td_conv_params *p, int8_t *buf, const TD_WEIGHTS_MEM int8_t *weights,
                                void *scratch);

/** @brief Scratch bytes of td_conv_1x1_s8_mve_inplace: three pixels and their accumulators. */
int32_t td_conv_1x1_s8_mve_inplace_scratch_size(const td_conv_params *p);

/**
 * @brief arm-mve variant of td_fully_connected_s8 (symmetric weights), bit-exact with it (single
 * rounding): two rows per input vector, VMLADAVA over 16 columns at a time, tail-predicated loads.
 * @param[in]  p        layer parameters (filter_offset 0)
 * @param[in]  input    int8 [batches, accum_depth]
 * @param[in]  weights  [output_depth, accum_depth] weights and biases in the mve conv layout
 * @param[out] output   int8 [batches, output_depth]
 */
void td_fully_connected_s8_mve(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *weights,
                               int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TD_MVE_CONV_H */
