/* ATmega2560 board glue for simavr: USART0 console (simavr prints it on stderr), Timer1 cycle counter
 * (clk/1, 16 bits + overflow count), exit = cli + sleep (simavr stops there). */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <stdint.h>

#include "td_emu_board.h"

static volatile uint16_t timer1_wraps;

ISR(TIMER1_OVF_vect) { timer1_wraps++; }

void td_board_init(void) {
  UBRR0H = 0;
  UBRR0L = 16; /* 115200 baud at 16 MHz with U2X */
  UCSR0A = _BV(U2X0);
  UCSR0B = _BV(TXEN0);
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  TCCR1A = 0;
  TCNT1 = 0;
  TIMSK1 = _BV(TOIE1);
  TCCR1B = _BV(CS10); /* clk/1 */
  sei();
}

void td_board_write(const char *s, unsigned n) {
  while (n--) {
    loop_until_bit_is_set(UCSR0A, UDRE0);
    UDR0 = (uint8_t)*s++;
  }
}

uint32_t td_board_cycles(void) {
  uint16_t hi, lo;
  uint8_t sreg = SREG;
  cli();
  lo = TCNT1;
  hi = timer1_wraps;
  if ((TIFR1 & _BV(TOV1)) && lo < 0x8000u) hi++; /* wrapped, interrupt still pending */
  SREG = sreg;
  return ((uint32_t)hi << 16) | lo;
}

void td_board_exit(int code) {
  (void)code; /* simavr has no exit status: the output (sample_<n>:FAIL) tells */
  loop_until_bit_is_set(UCSR0A, TXC0);
  cli();
  set_sleep_mode(SLEEP_MODE_PWR_DOWN);
  sleep_enable();
  for (;;) sleep_cpu();
}
