/* No libc for xtensa-lx106-elf here: GCC's own fixed-width types. */
#ifndef TD_XTENSA_STDINT_H
#define TD_XTENSA_STDINT_H
#include <stdint-gcc.h>
#endif
