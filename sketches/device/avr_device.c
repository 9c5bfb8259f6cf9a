/*
 * Board main for AVR (simavr ATmega2560 through the tinydeploy-emu platform) speaking the tinydeploy
 * device protocol (td_device.h) over USART0, polled (-DTD_PROTOCOL_MLPERF: MLPerf Tiny's, td_mlperf.h).
 * The platform's support/avr/board.c sets up the UART
 * (TX) and Timer1 (clk/1 with an overflow interrupt) and provides td_board_write() and td_board_cycles();
 * this file turns the receiver on and adds main(), the counter and the stack bounds.
 *
 * Counter: CPU cycles. Each reading restarts Timer1, so the overflow interrupts during an invoke fall at
 * the same points on every run and the count of an input is always the same.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <stdint.h>

#include "td_board.h"
#include "td_device.h"

/* From the platform's board code. */
void td_board_init(void);
uint32_t td_board_cycles(void);

extern uint8_t __heap_start; /* first byte after .data/.bss: the stack can grow down to here */

const td_device *td_model_setup(void);

static uint32_t cycles_total, cycles_at_restart;

uint32_t td_board_counter(void) {
  uint8_t sreg;
  cycles_total += td_board_cycles() - cycles_at_restart;
  sreg = SREG;
  cli();
  TCNT1 = 0;
  TIFR1 = _BV(TOV1); /* no overflow pending from before the restart */
  SREG = sreg;
  cycles_at_restart = td_board_cycles();
  return cycles_total;
}

const uint8_t *td_board_stack_low(void) { return &__heap_start; }
const uint8_t *td_board_stack_high(void) { return (const uint8_t *)RAMEND + 1; }

static uint8_t uart_getc(void) {
  loop_until_bit_is_set(UCSR0A, RXC0);
  return UDR0;
}

__attribute__((noinline)) static void paint_stack(void) {
  uint8_t here;
  td_device_paint_stack(&__heap_start, (uint8_t *)((uintptr_t)&here - 32)); /* below this frame */
}

int main(void) {
  static const char banner[] = "\r\ntinydeploy device (avr), protocol v2\r\n";
  const td_device *dev;
  td_board_init();
  UCSR0B |= _BV(RXEN0);
  paint_stack();
  dev = td_model_setup();
  td_board_counter();
  TD_PROTOCOL_START(dev, banner);
  for (;;) TD_PROTOCOL_FEED(dev, uart_getc());
}
