/*
 * Board main for real boards with the Arduino framework (ESP32, STM32duino, AVR, nRF52, RP2040): the
 * tinydeploy device protocol (td_device.h) over Serial. The counter is micros() (TD_UNIT_MICROSECONDS;
 * 4 µs steps on 16 MHz AVR); stack painting is left out (each core puts its stack elsewhere), so the
 * reported stack peak is 0 = unknown.
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
extern "C" const uint8_t *td_board_stack_low(void) { return 0; }
extern "C" const uint8_t *td_board_stack_high(void) { return 0; }

static const td_device *dev;

void setup() {
  Serial.begin(TD_BAUD);
  dev = td_model_setup();
  Serial.print("\r\ntinydeploy device (arduino), protocol v1\r\n");
}

void loop() {
  while (Serial.available() > 0) td_device_feed(dev, (uint8_t)Serial.read());
}
