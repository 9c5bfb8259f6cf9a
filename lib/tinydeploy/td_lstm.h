/* UNIDIRECTIONAL_SEQUENCE_LSTM kernel, fully integer 8x8->16 variant (as the TFLite converter
 * produces for int8 models): int8 input/output/output state, int16 cell state, int8 weights,
 * int32 biases, optional CIFG, peephole (int16), layer norm (int16) and projection. */
#ifndef TD_LSTM_H
#define TD_LSTM_H

#include "tinydeploy.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One gate's constants. All biases are effective biases computed at conversion time. */
typedef struct {
  const TD_WEIGHTS_MEM int8_t *input_weights; /* [n_cell, n_input] */
  const TD_WEIGHTS_MEM int32_t *input_bias; /* [n_cell]: -input_zp * row sums (+ gate bias without layer norm) */
  int32_t input_multiplier;        /* input * weights -> gate (Q3.12 or the intermediate's scale) */
  int32_t input_shift;
  const TD_WEIGHTS_MEM int8_t *recurrent_weights; /* [n_cell, n_output] */
  const TD_WEIGHTS_MEM int32_t *recurrent_bias; /* [n_cell]: -output_state_zp * row sums */
  int32_t recurrent_multiplier;
  int32_t recurrent_shift;
  const TD_WEIGHTS_MEM int16_t *cell_weights; /* peephole [n_cell], or NULL */
  int32_t cell_multiplier;
  int32_t cell_shift;
  const TD_WEIGHTS_MEM int16_t *layer_norm_weights; /* [n_cell], or NULL */
  const TD_WEIGHTS_MEM int32_t *layer_norm_bias; /* the gate bias [n_cell] (used only with layer norm) */
  int32_t layer_norm_multiplier;
  int32_t layer_norm_shift;
  int32_t variance_guard;
} td_lstm_gate;

/** Parameters of one LSTM layer, computed at conversion time (as LiteRT's Prepare). */
typedef struct {
  int32_t time_steps;
  int32_t batches;
  int32_t n_input;
  int32_t n_cell;
  int32_t n_output;
  int32_t time_major;       /* 1: input [time, batch, n_input]; 0: [batch, time, n_input] */
  int32_t use_cifg;         /* 1: no input gate (it is 1 - forget gate) */
  td_lstm_gate gate_input;  /* unused with CIFG */
  td_lstm_gate gate_forget;
  td_lstm_gate gate_cell;
  td_lstm_gate gate_output;
  int32_t cell_scale;       /* cell state scale is 2^cell_scale, -15 .. -9 */
  int32_t cell_clip;        /* quantized cell clip, 0: none */
  int32_t hidden_multiplier; /* output_gate * tanh(cell) -> hidden */
  int32_t hidden_shift;
  int32_t hidden_zero_point;
  const TD_WEIGHTS_MEM int8_t *projection_weights; /* [n_output, n_cell], or NULL */
  const TD_WEIGHTS_MEM int32_t *projection_bias; /* effective projection bias [n_output] (when projecting) */
  int32_t projection_multiplier;
  int32_t projection_shift;
  int32_t projection_clip;  /* quantized projection clip, 0: none */
  int32_t output_state_zero_point;
} td_lstm_params;

/** Scratch bytes td_lstm_s8 needs: 4 int16 gate buffers and one int8 buffer per step. */
int32_t td_lstm_s8_scratch_size(const td_lstm_params *p);

/**
 * @brief Integer LSTM over a whole sequence, bit-exact with LiteRT's EvalInteger8x8_16.
 * @param[in]     p            layer parameters
 * @param[in]     input        int8 [time, batch, n_input] or [batch, time, n_input]
 * @param[in,out] output_state int8 [batch, n_output], persists across calls
 * @param[in,out] cell_state   int16 [batch, n_cell], persists across calls
 * @param[out]    output       int8, the input's layout with n_output features
 * @param[in]     scratch      td_lstm_s8_scratch_size(p) bytes, 2-byte aligned
 */
void td_lstm_s8(const td_lstm_params *p, const int8_t *input, int8_t *output_state, int16_t *cell_state,
                int8_t *output, void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TD_LSTM_H */
