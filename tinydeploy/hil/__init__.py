"""Hardware-in-the-loop testing: a pytest plugin (tinydeploy.hil.plugin), assertion helpers, baselines.

    from tinydeploy.hil import assert_bit_exact, assert_latency, assert_ram
"""
from .assertions import assert_bit_exact, assert_latency, assert_ram, bit_exact_report

__all__ = ["assert_bit_exact", "assert_latency", "assert_ram", "bit_exact_report"]
