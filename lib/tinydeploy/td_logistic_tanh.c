/* LOGISTIC / TANH reference kernels, bit-exact with TFLite's reference integer kernels. */
#include "td_logistic_tanh.h"

#include "td_fixedpoint.h"

/*
 * sigmoid(i / 24) in unsigned Q0.16 for i = 0..255 (TFLite's sigmoid_table_uint16); tanh uses
 * it too through tanh(x) = 2 * sigmoid(2x) - 1.
 */
static const TD_WEIGHTS_MEM uint16_t td_sigmoid_table_u16[256] = {
  32768U, 33451U, 34133U, 34813U, 35493U, 36169U, 36843U, 37513U, 38180U, 38841U, 39498U, 40149U,
  40794U, 41432U, 42064U, 42688U, 43304U, 43912U, 44511U, 45102U, 45683U, 46255U, 46817U, 47369U,
  47911U, 48443U, 48964U, 49475U, 49975U, 50464U, 50942U, 51409U, 51865U, 52311U, 52745U, 53169U,
  53581U, 53983U, 54374U, 54755U, 55125U, 55485U, 55834U, 56174U, 56503U, 56823U, 57133U, 57433U,
  57724U, 58007U, 58280U, 58544U, 58800U, 59048U, 59288U, 59519U, 59743U, 59959U, 60168U, 60370U,
  60565U, 60753U, 60935U, 61110U, 61279U, 61441U, 61599U, 61750U, 61896U, 62036U, 62172U, 62302U,
  62428U, 62549U, 62666U, 62778U, 62886U, 62990U, 63090U, 63186U, 63279U, 63368U, 63454U, 63536U,
  63615U, 63691U, 63765U, 63835U, 63903U, 63968U, 64030U, 64090U, 64148U, 64204U, 64257U, 64308U,
  64357U, 64405U, 64450U, 64494U, 64536U, 64576U, 64614U, 64652U, 64687U, 64721U, 64754U, 64786U,
  64816U, 64845U, 64873U, 64900U, 64926U, 64950U, 64974U, 64997U, 65019U, 65039U, 65060U, 65079U,
  65097U, 65115U, 65132U, 65149U, 65164U, 65179U, 65194U, 65208U, 65221U, 65234U, 65246U, 65258U,
  65269U, 65280U, 65291U, 65301U, 65310U, 65319U, 65328U, 65337U, 65345U, 65352U, 65360U, 65367U,
  65374U, 65381U, 65387U, 65393U, 65399U, 65404U, 65410U, 65415U, 65420U, 65425U, 65429U, 65433U,
  65438U, 65442U, 65445U, 65449U, 65453U, 65456U, 65459U, 65462U, 65465U, 65468U, 65471U, 65474U,
  65476U, 65479U, 65481U, 65483U, 65485U, 65488U, 65489U, 65491U, 65493U, 65495U, 65497U, 65498U,
  65500U, 65501U, 65503U, 65504U, 65505U, 65507U, 65508U, 65509U, 65510U, 65511U, 65512U, 65513U,
  65514U, 65515U, 65516U, 65517U, 65517U, 65518U, 65519U, 65520U, 65520U, 65521U, 65522U, 65522U,
  65523U, 65523U, 65524U, 65524U, 65525U, 65525U, 65526U, 65526U, 65526U, 65527U, 65527U, 65528U,
  65528U, 65528U, 65529U, 65529U, 65529U, 65529U, 65530U, 65530U, 65530U, 65530U, 65531U, 65531U,
  65531U, 65531U, 65531U, 65532U, 65532U, 65532U, 65532U, 65532U, 65532U, 65533U, 65533U, 65533U,
  65533U, 65533U, 65533U, 65533U, 65533U, 65534U, 65534U, 65534U, 65534U, 65534U, 65534U, 65534U,
  65534U, 65534U, 65534U, 65535U
};

void td_lut_s8(const td_lut_s8_params *p, const int8_t *input, int8_t *output) {
  int32_t i;
  for (i = 0; i < p->size; ++i) output[i] = p->lut[(uint8_t)input[i]];
}

/* Input rescaled as TFLite does: (x * multiplier + round) >> shift, or x * 3 << shift for
 * power-of-two scales (multiplier 0). */
static void td_sigmoid_s16_scaling(const td_sigmoid_s16_params *p, int32_t *mult, int32_t *shift,
                                   int32_t *round) {
  *mult = p->input_multiplier;
  *shift = p->input_left_shift;
  if (*mult == 0) {
    *mult = (int32_t)3 << *shift;
    *shift = 0;
  }
  *round = *shift > 0 ? (int32_t)1 << (*shift - 1) : 0;
}

/* |x| looked up in the sigmoid table with 2^bits input units per entry, interpolated linearly:
 * Q0.(16 + bits), or `saturated` past the table's last entry. */
static uint32_t td_sigmoid_table(uint32_t ax, int32_t bits, uint32_t saturated) {
  const uint32_t uh = ax >> bits;
  uint32_t ua, ub;
  if (uh >= 255) return saturated;
  ua = td_sigmoid_table_u16[uh];
  ub = td_sigmoid_table_u16[uh + 1];
  return (ua << bits) + (ax & (((uint32_t)1 << bits) - 1)) * (ub - ua);
}

/* logistic(x) from the table (2^9 input units per entry, Q0.25), rounded to Q0.15. */
static int16_t td_logistic_of(int32_t x, uint32_t ax) {
  const uint32_t result = td_sigmoid_table(ax, 9, (uint32_t)0x7FFF << 10);
  return (int16_t)((x >= 0 ? result + ((uint32_t)1 << 9)
                           : ((uint32_t)1 << 25) - result + ((uint32_t)1 << 9) - 1) >> 10);
}

/* tanh(x) = 2 * sigmoid(2x) - 1 from the same table (2^8 units per entry, Q0.24), rounded to Q0.15. */
static int16_t td_tanh_of(int32_t x, uint32_t ax) {
  const int32_t result = (int32_t)td_sigmoid_table(ax, 8, (uint32_t)0xFFFF << 8);
  return (int16_t)td_fp_asr(x >= 0 ? result - ((int32_t)1 << 23) + (1 << 7)
                                   : -result + ((int32_t)1 << 23) + (1 << 7) - 1, 8);
}

/* An int16 table activation: the input rescaled as TFLite does, then OF(x, |x|) per element. */
#define TD_DEFINE_TABLE_S16(NAME, OF)                                                        \
  void NAME(const td_sigmoid_s16_params *p, const int16_t *input, int16_t *output) {        \
    int32_t mult, shift, round, i;                                                          \
    td_sigmoid_s16_scaling(p, &mult, &shift, &round);                                       \
    for (i = 0; i < p->size; ++i) {                                                         \
      const int32_t x = td_fp_asr((int32_t)input[i] * mult + round, shift);                 \
      output[i] = OF(x, x < 0 ? (uint32_t)0 - (uint32_t)x : (uint32_t)x);                   \
    }                                                                                       \
  }

TD_DEFINE_TABLE_S16(td_logistic_s16, td_logistic_of)
TD_DEFINE_TABLE_S16(td_tanh_s16, td_tanh_of)
