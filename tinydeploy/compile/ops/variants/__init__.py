"""Optimized kernels per variant (PlanOptions.kernels), one module per variant and op:
`<variant>_<op>.py`, each registering a VariantKernel with @variant_kernel(KIND, VARIANT).
An op that no variant kernel takes goes to its OpLowering (ops/<op>.py). See ops.VARIANT_CHAIN."""
