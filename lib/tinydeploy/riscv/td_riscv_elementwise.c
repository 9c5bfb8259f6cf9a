/*
 * ADD / SUB int8 of same-shape inputs for RV32IMC (kernels="riscv"), bit-exact with td_add_s8 / td_sub_s8:
 * each input's rescaled term (offset, << 20, two-step requantization) is looked up in a table the compiler
 * made for all 256 int8 values (SUB: input 2's terms negated), so an element is two loads, two lookups, an
 * add and the output's requantization.
 */
#include "td_riscv.h"

#if defined(__riscv)

#include "td_riscv_kernel.h"

void td_add_s8_riscv(const td_add_params *p, const TD_WEIGHTS_MEM int32_t *table, const int8_t *input1,
                     const int8_t *input2, int8_t *output) {
  const TD_WEIGHTS_MEM int32_t *t1 = table + 128, *t2 = table + 384;
  const int32_t m = p->output_multiplier, s = p->output_shift, zp = p->output_offset;
  const int32_t lo = p->activation.min, hi = p->activation.max;
  int32_t n = 1, d;
  int8_t *end;
  for (d = 0; d < p->bcast.rank; ++d) n *= p->bcast.shape[d];
  for (end = output + n; output != end; ++output, ++input1, ++input2) {
    *output = (int8_t)td_rv_requant(t1[*input1] + t2[*input2], m, s, zp, lo, hi);
  }
}

#endif /* __riscv */
