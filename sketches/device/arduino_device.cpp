/*
 * Board main for real boards with the Arduino framework (ESP32, STM32duino, AVR, nRF52, RP2040): the
 * tinydeploy device protocol (td_device.h) over Serial (-DTD_PROTOCOL_MLPERF: MLPerf Tiny's, td_mlperf.h).
 * The counter is micros() (TD_UNIT_MICROSECONDS;
 * 4 µs steps on 16 MHz AVR). Stack painting on AVR (free SRAM between the heap and the stack); other
 * cores put their stacks elsewhere, so there the reported stack peak is 0 = unknown.
 */
#include <Arduino.h>

extern "C" {
#include "td_board.h"
#include "td_device.h"
const td_device *td_model_setup(void);
}

#ifndef TD_BAUD
#define TD_BAUD 115200
#endif

extern "C" uint32_t td_board_counter(void) { return (uint32_t)micros(); }
extern "C" void td_board_write(const uint8_t *data, uint16_t n) { Serial.write(data, n); }
static uint8_t *stack_low, *stack_high;
extern "C" const uint8_t *td_board_stack_low(void) { return stack_low; }
extern "C" const uint8_t *td_board_stack_high(void) { return stack_high; }

#if defined(__AVR__)
extern "C" char __heap_start;
extern "C" char *__brkval;
static void __attribute__((noinline)) paint_stack() {
  stack_low = (uint8_t *)(__brkval ? __brkval : &__heap_start);
  stack_high = (uint8_t *)RAMEND + 1;
  td_device_paint_stack(stack_low, (uint8_t *)SP - 32); /* below this frame; above it counts as used */
}
#else
static void paint_stack() {}
#endif

static const td_device *dev;

void setup() {
  Serial.begin(TD_BAUD);
  paint_stack();
  dev = td_model_setup();
#ifdef TD_PROTOCOL_MLPERF
  td_mlperf_start(dev, TD_MLPERF_STR(TD_MLPERF_MODEL));
#else
  Serial.print("\r\ntinydeploy device (arduino), protocol v2\r\n");
#endif
}

void loop() {
  while (Serial.available() > 0) TD_PROTOCOL_FEED(dev, (uint8_t)Serial.read());
}
