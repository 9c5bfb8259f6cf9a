/* QEMU Xtensa `sim` board glue (LX106 core): semihosting console and exit (simcall), CCOUNT counter. */
#include <stdint.h>

#include "td_emu_board.h"

static int td_simcall(int nr, int a, int b, int c) {
  register int a2 __asm__("a2") = nr;
  register int a3 __asm__("a3") = a;
  register int a4 __asm__("a4") = b;
  register int a5 __asm__("a5") = c;
  __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
  return a2;
}

void td_board_init(void) {}

void td_board_write(const char *s, unsigned n) { td_simcall(4, 1, (int)(intptr_t)s, (int)n); /* write(1, s, n) */ }

uint32_t td_board_cycles(void) {
  uint32_t v;
  __asm__ volatile("rsr %0, ccount" : "=a"(v));
  return v;
}

void td_board_exit(int code) {
  for (;;) td_simcall(1, code, 0, 0); /* exit(code) */
}
