/*
 * tinydeploy firmware template (PlatformIO src/main.cpp): runs the embedded sample inputs through the
 * model and prints, per sample and output, `OUT <sample> <output> <hex bytes>`, then
 * `CYCLES <sample> <count>`, and `DONE` at the end. With expected outputs embedded (reference outputs
 * computed at build time) it also prints `sample_<n>:PASS` or `sample_<n>:FAIL:<message>`.
 *
 * Bare metal on the tinydeploy-emu boards (td_emu_board.h from the platform), Arduino setup()/loop()
 * with Serial elsewhere. td_model.h maps TD_M(x) to the model's prefixed symbols; td_samples.h holds
 * the inputs (and expected outputs) as byte arrays, in flash (PROGMEM) on AVR.
 */
#include <stdint.h>
#include <string.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define TD_PROGMEM PROGMEM
#define TD_READ_BYTE(p) pgm_read_byte(p)
#else
#define TD_PROGMEM
#define TD_READ_BYTE(p) (*(const uint8_t *)(p))
#endif

#include "td_model.h"
#include "td_samples.h"

#if defined(ARDUINO)
#include <Arduino.h>
#ifndef TD_BAUD
#define TD_BAUD 115200
#endif
#define TD_CYCLE_UNIT "us"
static void td_write(const char *s, unsigned n) { Serial.write((const uint8_t *)s, n); }
static uint32_t td_cycles(void) { return (uint32_t)micros(); }
#else
#include "td_emu_board.h"
static void td_write(const char *s, unsigned n) { td_board_write(s, n); }
static uint32_t td_cycles(void) { return td_board_cycles(); }
#endif

static void td_puts(const char *s) { td_write(s, (unsigned)strlen(s)); }

static void td_put_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  td_puts(buf + i);
}

static void td_put_hex(const uint8_t *p, uint32_t n) {
  static const char digits[] = "0123456789abcdef";
  char pair[2];
  for (uint32_t i = 0; i < n; ++i) {
    pair[0] = digits[p[i] >> 4];
    pair[1] = digits[p[i] & 15u];
    td_write(pair, 2);
  }
}

/* Run every sample; returns the number of samples whose outputs differ from the expected ones. */
static int td_run_samples(void) {
  int failures = 0;
  uint8_t *arena = TD_M(arena);
  for (uint32_t s = 0; s < TD_NUM_SAMPLES; ++s) {
    TD_M(reset)();
    uint32_t at = 0;
    for (int i = 0; i < TD_NUM_INPUTS; ++i) {
      const td_tensor_info *t = &TD_M(inputs)[i];
      for (uint32_t k = 0; k < t->bytes; ++k) td_tensor_data(t, arena)[k] = TD_READ_BYTE(&td_sample_inputs[s][at + k]);
      at += t->bytes;
    }
    uint32_t t0 = td_cycles();
    TD_M(invoke)();
    uint32_t cycles = td_cycles() - t0;
    at = 0;
    int ok = 1;
    for (int o = 0; o < TD_NUM_OUTPUTS; ++o) {
      const td_tensor_info *t = &TD_M(outputs)[o];
      td_puts("OUT ");
      td_put_u32(s);
      td_puts(" ");
      td_put_u32((uint32_t)o);
      td_puts(" ");
      td_put_hex(td_tensor_data(t, arena), t->bytes);
      td_puts("\n");
#if TD_HAVE_EXPECTED
      for (uint32_t k = 0; k < t->bytes; ++k)
        if (td_tensor_data(t, arena)[k] != TD_READ_BYTE(&td_expected_outputs[s][at + k])) ok = 0;
#endif
      at += t->bytes;
    }
    td_puts("CYCLES ");
    td_put_u32(s);
    td_puts(" ");
    td_put_u32(cycles);
    td_puts("\n");
#if TD_HAVE_EXPECTED
    td_puts("sample_");
    td_put_u32(s);
    td_puts(ok ? ":PASS\n" : ":FAIL:output differs from the reference\n");
    failures += !ok;
#else
    (void)ok;
#endif
  }
  td_puts("CYCLE_UNIT " TD_CYCLE_UNIT "\n");
  td_puts("DONE\n");
  return failures;
}

#if defined(ARDUINO)
void setup() {
  Serial.begin(TD_BAUD);
  uint32_t start = millis();
  while (!Serial && millis() - start < 3000) {
  }
  td_run_samples();
}

void loop() { delay(1000); }
#else
int main(void) {
  td_board_init();
  td_board_exit(td_run_samples() ? 1 : 0);
}
#endif
