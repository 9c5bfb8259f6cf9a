/*
 * Board main for the QEMU Cortex-M boards (mps2-an386 / mps2-an500 / mps3-an547) speaking the tinydeploy
 * device protocol (td_device.h) over CMSDK UART0; with -DTD_PROTOCOL_MLPERF, MLPerf Tiny's (td_mlperf.h).
 *
 * Built with the tinydeploy-emu PlatformIO platform, whose startup code (support/arm/startup.c) does the
 * reset, the UART set-up and SysTick (24-bit, 25 MHz, wrap interrupt) and provides td_board_write() for
 * the UART; this file adds main(), the receive loop, the counter and the stack bounds.
 *
 * Counter: with `-icount shift=0` one instruction takes 1 ns and SysTick runs at the machine's clock
 * (TD_SYSTICK_HZ: 25 MHz on mps2, one tick per 40 instructions; 32 MHz on mps3-an547, 31.25). Each
 * reading restarts SysTick (a write to SYST_CVR) and converts the ticks since the previous reading, so
 * the interval between two readings (the invoke) is measured from a phase fixed by the code itself, not
 * by when the host's bytes arrived: the count is the same on every run. Wraps of the 24-bit counter are
 * counted by the platform's SysTick interrupt (td_board_cycles()).
 */
#include <stdint.h>

#include "td_board.h"
#include "td_device.h"
#include "td_train_store.h"

#ifndef TD_UART_BASE
#define TD_UART_BASE 0x40004000u /* mps2; mps3-an547: 0x59303000 (board define) */
#endif
#define UART0 ((volatile uint32_t *)TD_UART_BASE) /* [0]DATA [1]STATE [2]CTRL [3]INTSTATUS/INTCLEAR */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)
#ifndef TD_SYSTICK_HZ
#define TD_SYSTICK_HZ 25000000u /* mps2-an386 / an500 */
#endif

/* From the platform's startup code. */
uint32_t td_board_cycles(void);

extern uint8_t end;     /* first byte after .bss: the stack can grow down to here */
extern uint8_t _estack; /* top of RAM, the initial stack pointer */

const td_device *td_model_setup(void);

static uint32_t instructions, ticks_at_restart;

uint32_t td_board_counter(void) {
  const uint32_t ticks = td_board_cycles() - ticks_at_restart;
  instructions += (uint32_t)((uint64_t)ticks * 1000000000u / TD_SYSTICK_HZ); /* 1 ns per instruction */
  SYST_CVR = 0; /* restart: reloads on the next tick */
  while (SYST_CVR == 0) {
  }
  ticks_at_restart = td_board_cycles();
  return instructions;
}

/* The parameter store (td_train_store.h): the flash region the linker script reserves (cortex-m.ld). The mps2
 * flash is RAM-like in QEMU: written directly; a machine reset (SYSRESETREQ) keeps it. */
extern uint8_t __td_store_start[], __td_store_end[];
uint32_t td_board_store_bytes(void) { return (uint32_t)(__td_store_end - __td_store_start); }
int td_board_store_write(uint32_t offset, const void *data, uint32_t n) {
  const uint8_t *d = (const uint8_t *)data;
  if (offset > td_board_store_bytes() || n > td_board_store_bytes() - offset) return -1;
  while (n--) __td_store_start[offset++] = *d++;
  return 0;
}
int td_board_store_read(uint32_t offset, void *data, uint32_t n) {
  uint8_t *d = (uint8_t *)data;
  if (offset > td_board_store_bytes() || n > td_board_store_bytes() - offset) return -1;
  while (n--) *d++ = __td_store_start[offset++];
  return 0;
}

const uint8_t *td_board_stack_low(void) { return &end; }
const uint8_t *td_board_stack_high(void) { return &_estack; }

/* Wait for a byte with WFI rather than spinning on STATE: a spinning vCPU keeps QEMU's I/O thread
 * from delivering the next byte (~1 ms per byte); asleep, it costs ~0.1 ms. The UART's RX interrupt
 * (and every NVIC line: only UART0 RX is enabled at its source) wakes WFI while PRIMASK keeps it from
 * being taken: the vector table has no entries for device interrupts. */
static uint8_t uart_getc(void) {
  uint8_t c;
  __asm__ volatile("cpsid i" ::: "memory");
  NVIC_ISER[0] = NVIC_ISER[1] = 0xFFFFFFFFu;
  while (!(UART0[1] & 2u)) {
    __asm__ volatile("wfi" ::: "memory");
    if (SCB_ICSR & (1u << 26)) { /* a SysTick wrap is pending: PRIMASK keeps it, and it would wake WFI at once
                                    forever (the loop spinning at full speed while idle); take it with the
                                    device lines disabled (a line that becomes pending meanwhile stays so) */
      NVIC_ICER[0] = NVIC_ICER[1] = 0xFFFFFFFFu;
      __asm__ volatile("cpsie i\n isb\n cpsid i" ::: "memory");
      NVIC_ISER[0] = NVIC_ISER[1] = 0xFFFFFFFFu;
    }
  }
  NVIC_ICER[0] = NVIC_ICER[1] = 0xFFFFFFFFu;
  c = (uint8_t)UART0[0];
  UART0[3] = 0xFu; /* INTCLEAR */
  NVIC_ICPR[0] = NVIC_ICPR[1] = 0xFFFFFFFFu;
  __asm__ volatile("cpsie i" ::: "memory"); /* SysTick wraps are counted in its interrupt */
  return c;
}

__attribute__((noinline)) static void paint_stack(void) {
  uint8_t here;
  td_device_paint_stack(&end, (uint8_t *)((uintptr_t)&here - 256)); /* below this frame, with a margin */
}

int main(void) {
  static const char banner[] = "\r\ntinydeploy device (qemu-arm), protocol v2\r\n";
  const td_device *dev;
  paint_stack();
  dev = td_model_setup();
  UART0[2] = 3u | 8u; /* TX, RX and the RX interrupt (which only wakes WFI) */
  td_board_counter();
  TD_PROTOCOL_START(dev, banner);
  for (;;) TD_PROTOCOL_FEED(dev, uart_getc());
}
