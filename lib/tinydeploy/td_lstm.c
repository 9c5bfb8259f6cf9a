/* Integer (8x8->16) LSTM, bit-exact with LiteRT's lstm_eval EvalInteger8x8_16 and the portable
 * tensor_utils it calls, including gemmlowp's 16-bit fixed-point logistic and tanh. */
#include "td_lstm.h"

#include "td_math.h"

/* ---- requantization: LiteRT's LSTM uses the two-step (gemmlowp) rounding ---------------- */
static int32_t lstm_requant(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return td_rounding_divide_by_pot(td_sat_round_doubling_high_mul(td_shl32(x, left), multiplier), right);
}

static int16_t sat16(int32_t x) { return (int16_t)td_clamp(x, -32768L, 32767L); }

/* Wrap to int16 like a C++ narrowing cast (two's complement). */
static int16_t wrap16(int32_t x) {
  x &= 0xFFFFL;
  return (int16_t)(x >= 32768L ? x - 65536L : x);
}

/* ---- gemmlowp 16-bit fixed point ------------------------------------------------------- */
static int16_t fx_mul(int16_t a, int16_t b) { /* SaturatingRoundingDoublingHighMul */
  const int32_t ab = (int32_t)a * (int32_t)b;
  const int32_t nudge = ab >= 0 ? 16384L : -16383L;
  if (a == b && a == -32768) return 32767;
  return (int16_t)((ab + nudge) / 32768L);
}

static int16_t fx_rdiv(int16_t x, int32_t exponent) { /* RoundingDivideByPOT */
  const int32_t mask = (int32_t)((1L << exponent) - 1);
  const int32_t remainder = (int32_t)x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return wrap16(((int32_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

static int16_t fx_sat_shl(int16_t x, int32_t exponent) { /* SaturatingRoundingMultiplyByPOT, > 0 */
  const int32_t threshold = (int32_t)((1L << (15 - exponent)) - 1);
  if (x > threshold) return 32767;
  if (x < -threshold) return -32768;
  return wrap16((int32_t)x * (int32_t)(1L << exponent));
}

static int16_t fx_rescale(int16_t x, int32_t exponent) { /* multiply by 2^exponent */
  if (exponent > 0) return fx_sat_shl(x, exponent);
  if (exponent < 0) return fx_rdiv(x, -exponent);
  return x;
}

/* exp(a) for a in [-1/4, 0), Q0.15 */
static int16_t fx_exp_quarter(int16_t a) {
  const int16_t constant_term = 28918; /* exp(-1/8) */
  const int16_t one_third = 10923;
  const int16_t x = wrap16((int32_t)a + 4096);
  const int16_t x2 = fx_mul(x, x);
  const int16_t x3 = fx_mul(x2, x);
  const int16_t x4 = fx_mul(x2, x2);
  const int16_t x4_over_4 = fx_rdiv(x4, 2);
  int16_t t = fx_mul(wrap16((int32_t)x4_over_4 + x3), one_third);
  t = fx_rdiv(wrap16((int32_t)t + x2), 1);
  return sat16((int32_t)constant_term + fx_mul(constant_term, wrap16((int32_t)x + t)));
}

/* exp(a) for a <= 0 given with `bits` integer bits; result Q0.15 */
static int16_t fx_exp_neg(int16_t a, int32_t bits) {
  static const int16_t kMult[7] = {25520, 19875, 12055, 4435, 600, 11, 0}; /* exp(-2^e), e=-2..4 */
  const int32_t frac = 15 - bits;
  const int16_t quarter = (int16_t)(1L << (frac - 2));
  const int16_t a_mod = wrap16(((int32_t)a & (quarter - 1)) - quarter);
  int16_t result = fx_exp_quarter(fx_rescale(a_mod, bits));
  const int16_t remainder = wrap16((int32_t)a_mod - a);
  int32_t e;
  for (e = -2; e <= 4; ++e) {
    if (bits > e && ((int32_t)remainder & (int32_t)(1L << (frac + e)))) result = fx_mul(result, kMult[e + 2]);
  }
  if (bits > 5 && (int32_t)a < -(int32_t)(1L << (20 - bits))) result = 0;
  if (a == 0) result = 32767;
  return result;
}

/* Newton-Raphson 1/(1+x) (minus_x = 0) or (1-x)/(1+x) (minus_x = 1) for x in (0, 1), Q0.15 */
static int16_t fx_nr_div(int16_t a, int32_t minus_x) {
  const int32_t sum = (int32_t)a + 32767;
  const int16_t half_den = (int16_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  int16_t x = wrap16(23130 + (int32_t)fx_mul(half_den, -15420)); /* 48/17 - 32/17 * d, Q2.13 */
  int32_t i;
  for (i = 0; i < 3; ++i) {
    const int16_t one_minus = wrap16(8192 - (int32_t)fx_mul(half_den, x));
    x = wrap16((int32_t)x + fx_sat_shl(fx_mul(x, one_minus), 2));
  }
  return minus_x ? fx_sat_shl(wrap16((int32_t)x - 8192), 2) : fx_sat_shl(x, 1);
}

/* gemmlowp::logistic on Q(bits).(15-bits) -> Q0.15 */
static int16_t fx_logistic(int16_t a, int32_t bits) {
  const int16_t abs_in = a > 0 ? a : wrap16(-(int32_t)a);
  const int16_t pos = fx_nr_div(fx_exp_neg(wrap16(-(int32_t)abs_in), bits), 0);
  if (a == 0) return 16384;
  return a > 0 ? pos : wrap16(32767 - (int32_t)pos);
}

/* gemmlowp::tanh on Q(bits).(15-bits) -> Q0.15 */
static int16_t fx_tanh(int16_t a, int32_t bits) {
  const int16_t n = a < 0 ? a : wrap16(-(int32_t)a);
  const int16_t t = fx_nr_div(fx_exp_neg(n, bits + 1), 1);
  if (a == 0) return 0;
  return a < 0 ? wrap16(-(int32_t)t) : t;
}

/* 1/sqrt(input) as a quantized multiplier and (right-positive) shift; GetInvSqrtQuantizedMultiplierExp */
static void inv_sqrt_multiplier(int32_t input, int32_t *multiplier, int32_t *shift) {
  int32_t out_shift = 11, i, x, half_input, pairs;
  uint32_t u;
  int32_t clz = 0;
  if (input <= 1) {
    *multiplier = TD_INT32_MAX;
    *shift = 0;
    return;
  }
  while (input >= (int32_t)(1L << 29)) {
    input /= 4;
    ++out_shift;
  }
  u = (uint32_t)input;
  while (!(u & 0x80000000UL)) {
    u <<= 1;
    ++clz;
  }
  pairs = (clz - 1) / 2 - 1;
  out_shift -= pairs;
  input = td_shl32(input, 2 * pairs);
  /* Newton-Raphson in Q3.28 */
  half_input = td_rounding_divide_by_pot(input >> 1, 1);
  x = (int32_t)(1L << 28);
  for (i = 0; i < 5; ++i) {
    int32_t x3 = td_sat_round_doubling_high_mul(td_sat_round_doubling_high_mul(x, x), x);
    int32_t t;
    x3 = (x3 > (int32_t)((1L << 25) - 1)) ? TD_INT32_MAX
         : (x3 < -(int32_t)((1L << 25) - 1)) ? TD_INT32_MIN : td_shl32(x3, 6);
    t = (int32_t)((uint32_t)td_sat_round_doubling_high_mul((int32_t)((1L << 28) + (1L << 27)), x) -
                  (uint32_t)td_sat_round_doubling_high_mul(half_input, x3));
    x = (t > (int32_t)((1L << 28) - 1)) ? TD_INT32_MAX
        : (t < -(int32_t)((1L << 28) - 1)) ? TD_INT32_MIN : td_shl32(t, 3);
  }
  x = td_sat_round_doubling_high_mul(x, 1518500250L); /* sqrt(2)/2 */
  if (out_shift < 0) {
    x = td_shl32(x, -out_shift);
    out_shift = 0;
  }
  *multiplier = x;
  *shift = -out_shift;
}

/* ---- LSTM building blocks ---------------------------------------------------------------- */

/* gate[b][r] = sat16(gate[b][r] + requant(bias[r] + sum_c in[b][c] * w[r][c])) */
static void matmul_acc16(const int8_t *in, const TD_WEIGHTS_MEM int8_t *w, const TD_WEIGHTS_MEM int32_t *bias,
                         int32_t multiplier, int32_t shift, int32_t nb, int32_t cols, int32_t rows, int16_t *gate) {
  int32_t b, r, c;
  for (b = 0; b < nb; ++b) {
    const int8_t *x = in + b * cols;
    const TD_WEIGHTS_MEM int8_t *wr = w;
    for (r = 0; r < rows; ++r) {
      int32_t acc = bias[r];
      for (c = 0; c < cols; ++c) acc += (int32_t)x[c] * (int32_t)wr[c];
      wr += cols;
      acc = lstm_requant(acc, multiplier, shift);
      gate[b * rows + r] = sat16(acc + gate[b * rows + r]);
    }
  }
}

static void layer_norm(int16_t *gate, const td_lstm_gate *g, int32_t nb, int32_t n) {
  int32_t b, j;
  for (b = 0; b < nb; ++b) {
    int16_t *v = gate + b * n;
    int64_t sum = 0, sum_sq = 0, variance;
    int32_t mean, temp, variance2, inv_mult, inv_shift;
    for (j = 0; j < n; ++j) {
      sum += v[j];
      sum_sq += (int32_t)v[j] * (int32_t)v[j];
    }
    mean = (int32_t)(sum * 1024 / n);
    temp = (int32_t)(1048576L / n);
    variance = sum_sq * temp - (int64_t)mean * (int64_t)mean;
    variance2 = (int32_t)(variance / 1048576L);
    if (variance2 < 1) variance2 = g->variance_guard;
    inv_sqrt_multiplier(variance2, &inv_mult, &inv_shift);
    for (j = 0; j < n; ++j) {
      const int32_t shifted = (int32_t)((uint32_t)(1024L * (int32_t)v[j]) - (uint32_t)mean);
      const int32_t rescaled = lstm_requant(shifted, inv_mult, inv_shift);
      /* int32 arithmetic that wraps like the reference's */
      const int64_t val3 = (int32_t)((uint32_t)rescaled * (uint32_t)(int32_t)g->layer_norm_weights[j] +
                                     (uint32_t)g->layer_norm_bias[j]);
      const int32_t val4 = (int32_t)((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
      v[j] = sat16(lstm_requant(val4, g->layer_norm_multiplier, g->layer_norm_shift + 12));
    }
  }
}

/* One gate: matmuls, peephole, layer norm, activation (sigmoid, or tanh when is_cell). */
static void compute_gate(const td_lstm_params *p, const td_lstm_gate *g, const int8_t *in,
                         const int8_t *out_state, const int16_t *cell, int32_t nb, int32_t is_cell,
                         int16_t *gate) {
  const int32_t n = nb * p->n_cell;
  int32_t k;
  for (k = 0; k < n; ++k) gate[k] = 0;
  matmul_acc16(in, g->input_weights, g->input_bias, g->input_multiplier, g->input_shift, nb, p->n_input,
               p->n_cell, gate);
  matmul_acc16(out_state, g->recurrent_weights, g->recurrent_bias, g->recurrent_multiplier,
               g->recurrent_shift, nb, p->n_output, p->n_cell, gate);
  if (g->cell_weights) {
    /* The reference walks n_batch * n_output entries with an n_output-long weight vector. */
    const int32_t m = nb * p->n_output;
    for (k = 0; k < m; ++k) {
      const int32_t prod = (int32_t)g->cell_weights[k % p->n_output] * (int32_t)cell[k];
      gate[k] = sat16(lstm_requant(prod, g->cell_multiplier, g->cell_shift) + gate[k]);
    }
  }
  if (g->layer_norm_weights) layer_norm(gate, g, nb, p->n_cell);
  for (k = 0; k < n; ++k) gate[k] = is_cell ? fx_tanh(gate[k], 3) : fx_logistic(gate[k], 3);
}

int32_t td_lstm_s8_scratch_size(const td_lstm_params *p) {
  const int32_t nb = p->time_major ? p->batches : 1;
  return 9 * nb * p->n_cell;
}

static void lstm_step(const td_lstm_params *p, const int8_t *in, int8_t *out_state, int16_t *cell,
                      int8_t *out, int32_t nb, void *scratch) {
  const int32_t n = nb * p->n_cell;
  int16_t *ig = (int16_t *)scratch;
  int16_t *fg = ig + n;
  int16_t *cg = fg + n;
  int16_t *og = cg + n;
  int8_t *hidden = (int8_t *)(og + n);
  const int32_t shift_ic = 30 + p->cell_scale;
  int32_t k;

  if (!p->use_cifg) compute_gate(p, &p->gate_input, in, out_state, cell, nb, 0, ig);
  compute_gate(p, &p->gate_forget, in, out_state, cell, nb, 0, fg);
  compute_gate(p, &p->gate_cell, in, out_state, cell, nb, 1, cg);

  /* cell = sat16(forget * cell >> 15 + input * cell_gate >> (30 + cell_scale)), then clip */
  for (k = 0; k < n; ++k) {
    const int16_t kept = wrap16(td_rounding_divide_by_pot((int32_t)fg[k] * (int32_t)cell[k], 15));
    const int16_t in_gate = p->use_cifg ? wrap16(32767L - (int32_t)fg[k]) : ig[k];
    const int16_t added = wrap16(td_rounding_divide_by_pot((int32_t)in_gate * (int32_t)cg[k], shift_ic));
    int32_t c = (int32_t)kept + added;
    c = td_clamp(c, -32768L, 32767L);
    if (p->cell_clip > 0) c = td_clamp(c, -p->cell_clip, p->cell_clip);
    cell[k] = (int16_t)c;
  }

  compute_gate(p, &p->gate_output, in, out_state, cell, nb, 0, og);

  /* hidden = output_gate * tanh(cell), then projection (or the hidden is the output state) */
  for (k = 0; k < n; ++k) ig[k] = fx_tanh(cell[k], 15 + p->cell_scale);
  if (p->projection_weights) {
    int32_t b, r, c;
    for (k = 0; k < n; ++k) {
      int32_t v = lstm_requant((int32_t)og[k] * (int32_t)ig[k], p->hidden_multiplier, p->hidden_shift);
      hidden[k] = (int8_t)td_clamp(v - p->hidden_zero_point, -128, 127);
    }
    for (b = 0; b < nb; ++b) {
      for (r = 0; r < p->n_output; ++r) {
        const TD_WEIGHTS_MEM int8_t *w = p->projection_weights + r * p->n_cell;
        int32_t acc = p->projection_bias[r];
        for (c = 0; c < p->n_cell; ++c) acc += (int32_t)hidden[b * p->n_cell + c] * (int32_t)w[c];
        acc = lstm_requant(acc, p->projection_multiplier, p->projection_shift) + p->output_state_zero_point;
        acc = td_clamp(acc, -128, 127);
        if (p->projection_clip > 0) acc = td_clamp(acc, -p->projection_clip, p->projection_clip);
        out_state[b * p->n_output + r] = (int8_t)acc;
      }
    }
  } else {
    for (k = 0; k < n; ++k) {
      int32_t v = lstm_requant((int32_t)og[k] * (int32_t)ig[k], p->hidden_multiplier, p->hidden_shift);
      out_state[k] = (int8_t)td_clamp(v + p->hidden_zero_point, -128, 127);
    }
  }
  for (k = 0; k < nb * p->n_output; ++k) out[k] = out_state[k];
}

void td_lstm_s8(const td_lstm_params *p, const int8_t *input, int8_t *output_state, int16_t *cell_state,
                int8_t *output, void *scratch) {
  int32_t t, b;
  if (p->time_major) {
    for (t = 0; t < p->time_steps; ++t) {
      lstm_step(p, input + t * p->batches * p->n_input, output_state, cell_state,
                output + t * p->batches * p->n_output, p->batches, scratch);
    }
  } else {
    for (b = 0; b < p->batches; ++b) {
      for (t = 0; t < p->time_steps; ++t) {
        const int32_t step = b * p->time_steps + t;
        lstm_step(p, input + step * p->n_input, output_state + b * p->n_output, cell_state + b * p->n_cell,
                  output + step * p->n_output, 1, scratch);
      }
    }
  }
}
