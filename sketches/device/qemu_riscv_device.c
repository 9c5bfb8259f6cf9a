/*
 * Board main for the QEMU RISC-V virt board speaking the tinydeploy device protocol (td_device.h) over
 * the ns16550 UART (-DTD_PROTOCOL_MLPERF: MLPerf Tiny's, td_mlperf.h). Built with the tinydeploy-emu PlatformIO
 * platform: picolibc's crt0 starts
 * it, the platform's support/riscv/board.c provides td_board_write() (UART transmit) and
 * td_board_cycles() (rdinstret). With `-icount shift=0` instret counts exactly the instructions run,
 * the same on every run.
 */
#include <stdint.h>

#include "td_board.h"
#include "td_device.h"

#define UART_RBR (*(volatile uint8_t *)0x10000000u) /* receive buffer */
#define UART_IER (*(volatile uint8_t *)0x10000001u) /* bit 0: interrupt on received data */
#define UART_FCR (*(volatile uint8_t *)0x10000002u) /* FIFO control */
#define UART_LSR (*(volatile uint8_t *)0x10000005u) /* bit 0: data ready */
#define UART_IRQ 10u                                /* virt: the UART's PLIC source */
#define PLIC ((volatile uint32_t *)0x0C000000u)
#define PLIC_PRIORITY(src) PLIC[(src)]
#define PLIC_ENABLE0 PLIC[0x2000u / 4u]         /* context 0 = hart 0, M-mode: sources 0..31 */
#define PLIC_THRESHOLD0 PLIC[0x200000u / 4u]
#define PLIC_CLAIM0 PLIC[0x200004u / 4u]

/* From the platform's board code. */
uint32_t td_board_cycles(void);

extern uint8_t end;     /* first byte after .bss (picolibc.ld): the stack can grow down to here */
extern uint8_t __stack; /* top of RAM, the initial stack pointer */

const td_device *td_model_setup(void);

uint32_t td_board_counter(void) { return td_board_cycles(); }
const uint8_t *td_board_stack_low(void) { return &end; }
const uint8_t *td_board_stack_high(void) { return &__stack; }

/* Wait for a byte with WFI rather than spinning on LSR: a spinning vCPU keeps QEMU's I/O thread from
 * delivering the next byte. The UART's interrupt reaches the hart through the PLIC as MEIP, which
 * wakes WFI; mstatus.MIE stays 0, so no trap is taken (there is no trap handler). */
static void uart_rx_wakeup_init(void) {
  uint32_t meie = 1u << 11;
  UART_FCR = 0x07u; /* FIFOs on (16 bytes), cleared */
  UART_IER = 0x01u;
  PLIC_PRIORITY(UART_IRQ) = 1u;
  PLIC_ENABLE0 = 1u << UART_IRQ;
  PLIC_THRESHOLD0 = 0u;
  __asm__ volatile(".insn i 0x73, 2, x0, %0, 0x304" : : "r"(meie)); /* csrs mie, MEIE */
}

static uint8_t uart_getc(void) {
  uint8_t c;
  while (!(UART_LSR & 1u)) __asm__ volatile("wfi" ::: "memory");
  c = UART_RBR;
  PLIC_CLAIM0 = PLIC_CLAIM0; /* claim + complete: clears MEIP until the UART raises it again */
  return c;
}

__attribute__((noinline)) static void paint_stack(void) {
  uint8_t here;
  td_device_paint_stack(&end, (uint8_t *)((uintptr_t)&here - 256)); /* below this frame, with a margin */
}

int main(void) {
  static const char banner[] = "\r\ntinydeploy device (qemu-riscv), protocol v2\r\n";
  const td_device *dev;
  paint_stack();
  dev = td_model_setup();
  uart_rx_wakeup_init();
  TD_PROTOCOL_START(dev, banner);
  for (;;) TD_PROTOCOL_FEED(dev, uart_getc());
}
