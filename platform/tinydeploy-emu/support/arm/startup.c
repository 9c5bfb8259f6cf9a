/* Cortex-M startup for QEMU mps2-an386 / mps2-an500 / mps3-an547: copy .data, zero .bss, enable the
 * FPU (and MVE), CMSDK UART0 console, SysTick cycle counter, semihosting exit. */
#include <stdint.h>

#include "td_emu_board.h"

#ifndef TD_UART_BASE
#define TD_UART_BASE 0x40004000u /* mps2; mps3-an547: 0x59303000 */
#endif
#define UART0 ((volatile uint32_t *)TD_UART_BASE) /* [0]DATA [1]STATE [2]CTRL [4]BAUDDIV */
#define SYST ((volatile uint32_t *)0xE000E010u)   /* [0]CSR [1]RVR [2]CVR */

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static volatile uint32_t systick_wraps;

void td_board_write(const char *s, unsigned n) {
  while (n--) {
    while (UART0[1] & 1u) {
    }
    UART0[0] = (uint8_t)*s++;
  }
}

uint32_t td_board_cycles(void) {
  uint32_t hi, lo;
  do {
    hi = systick_wraps;
    lo = 0xFFFFFFu - (SYST[2] & 0xFFFFFFu);
  } while (hi != systick_wraps);
  return (hi << 24) + lo;
}

void td_board_exit(int code) { /* semihosting SYS_EXIT_EXTENDED {ApplicationExit, code} */
  volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
  register uint32_t r0 __asm__("r0") = 0x20, r1 __asm__("r1") = (uint32_t)block;
  __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {
  }
}

void _exit(int code) { td_board_exit(code); }

void td_board_init(void) {
  UART0[4] = 16; /* BAUDDIV >= 16 or QEMU sends nothing */
  UART0[2] = 3;  /* TX | RX */
  SYST[1] = 0xFFFFFFu;
  SYST[2] = 0;
  SYST[0] = 7; /* processor clock, interrupt on wrap, enable */
  while ((SYST[2] & 0xFFFFFFu) == 0) { /* wait for the first reload so readings start at 0 */
  }
}

__attribute__((noreturn)) void Reset_Handler(void) {
  for (uint32_t *s = &_sidata, *d = &_sdata; d < &_edata;) *d++ = *s++;
  for (uint32_t *d = &_sbss; d < &_ebss;) *d++ = 0;
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10/CP11 (FPU, MVE) full access */
  __asm__ volatile("dsb; isb");
  td_board_init();
  td_board_exit(main());
}

static void SysTick_Handler(void) { systick_wraps++; }
static void Fault_Handler(void) {
  td_board_write("FAULT\n", 6);
  td_board_exit(255);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack,      Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0,             0,             0,             0,             Fault_Handler,
    Fault_Handler, 0,             Fault_Handler, SysTick_Handler};
