/*
 * FULLY_CONNECTED int8 for AVR (kernels="avr"): the avr variant of td_fully_connected_s8 (symmetric
 * weights), bit-exact with it: per output unit an "sr" header and its weights from the flash stream
 * (td_avr.h), the raw input multiplied with MULS, one rounding of the 64-bit product as the reference.
 */
#include "td_avr.h"

#if defined(__AVR__) && defined(__AVR_HAVE_MUL__) /* MULS / MUL: every ATmega */

#include "td_avr_stream.h"

/* An "sr" header (td_avr.h). */
typedef struct {
  int32_t bias, mult;
  uint32_t rlo;
  int32_t rhi;
  uint8_t total, wide;
} td_avr_sr;

static __attribute__((noinline)) void td_avr_read_sr(td_avr_flash *f, td_avr_sr *h) {
  h->bias = (int32_t)td_avr_u32(f);
  h->mult = (int32_t)td_avr_u32(f);
  h->rlo = td_avr_u32(f);
  h->rhi = (int32_t)td_avr_u32(f);
  h->total = td_avr_u8(f);
  h->wide = td_avr_u8(f);
}

/* td_mul_by_quantized_mult(acc, m, 31 - total): (acc * m + 2^(total-1)) >> total, on the halves. */
static int8_t td_avr_requant_sr(int32_t acc, const td_avr_sr *h, int16_t offset, int16_t lo, int16_t hi) {
  td_avr_wide p;
  uint32_t low;
  int32_t r;
  p.v = td_avr_mul(acc, h->mult);
  low = p.h.lo + h->rlo;
  p.h.hi += h->rhi + (low < h->rlo);
  if (h->total >= 32) r = td_avr_asr(p.h.hi, (uint8_t)(h->total - 32));
  else r = (int32_t)(((uint32_t)p.h.hi << (32 - h->total)) | (low >> h->total));
  r += offset;
  return (int8_t)(r < lo ? lo : (r > hi ? hi : r));
}

void td_avr_fully_connected_s8(const td_fc_params *p, const int8_t *input, const TD_WEIGHTS_MEM int8_t *stream,
                               int8_t *output) {
  const uint16_t depth = (uint16_t)p->accum_depth;
  const int16_t offset = (int16_t)p->output_offset, lo = (int16_t)p->activation.min,
                hi = (int16_t)p->activation.max;
  int16_t b, o;
  for (b = 0; b < (int16_t)p->batches; ++b, input += depth) {
    td_avr_flash f = td_avr_open(stream);
    for (o = 0; o < (int16_t)p->output_depth; ++o) {
      td_avr_sr h;
      td_avr_read_sr(&f, &h);
      *output++ = td_avr_requant_sr(h.bias + td_avr_dot(&f, input, depth, h.wide), &h, offset, lo, hi);
    }
  }
}

#endif /* __AVR__ && __AVR_HAVE_MUL__ */
