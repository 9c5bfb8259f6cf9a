/* QEMU RISC-V virt board glue (picolibc's crt0 does the startup): ns16550 UART console, instret
 * counter, exit through the SiFive test device. */
#include <stdint.h>

#include "td_emu_board.h"

#define UART_THR (*(volatile uint8_t *)0x10000000u) /* ns16550 transmit holding register */
#define UART_LSR (*(volatile uint8_t *)0x10000005u) /* bit 5: THR empty */
#define SIFIVE_TEST (*(volatile uint32_t *)0x100000u)

void td_board_init(void) {}

void td_board_write(const char *s, unsigned n) {
  while (n--) {
    while (!(UART_LSR & 0x20u)) {
    }
    UART_THR = (uint8_t)*s++;
  }
}

uint32_t td_board_cycles(void) {
  uint32_t v;
  /* csrrs v, instret, x0 (rv32imc has no zicsr in the multilib name, hence .insn) */
  __asm__ volatile(".insn i 0x73, 2, %0, x0, -1022" : "=r"(v)); /* CSR 0xC02 */
  return v;
}

void td_board_exit(int code) {
  SIFIVE_TEST = code ? ((uint32_t)code << 16) | 0x3333u : 0x5555u;
  for (;;) {
  }
}

void _exit(int code) { td_board_exit(code); }
