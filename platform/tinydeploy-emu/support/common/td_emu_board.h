/* td_emu_board.h: the little each emulated board provides (startup code in support/<arch>/). */
#ifndef TD_EMU_BOARD_H
#define TD_EMU_BOARD_H

#include <stdint.h>

/* What td_board_cycles() counts on each architecture. */
#if defined(__arm__)
#define TD_CYCLE_UNIT "systick (40 instructions with -icount shift=0)"
#elif defined(__riscv)
#define TD_CYCLE_UNIT "instret (instructions)"
#elif defined(__XTENSA__)
#define TD_CYCLE_UNIT "ccount (QEMU clocks it at 40 MHz: 25 instructions per count with -icount shift=0)"
#elif defined(__AVR__)
#define TD_CYCLE_UNIT "timer1 (clk/1, 62.5 ns at 16 MHz)"
#else
#define TD_CYCLE_UNIT "unknown"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Set up the console and the cycle counter (the firmware's main() calls it first). */
void td_board_init(void);
/** Write n bytes to the console (UART, or the simulator's output). */
void td_board_write(const char *s, unsigned n);
/** Free-running counter; TD_CYCLE_UNIT says what it counts. */
uint32_t td_board_cycles(void);
/** Stop the emulator with this exit status. */
void td_board_exit(int code) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif /* TD_EMU_BOARD_H */
