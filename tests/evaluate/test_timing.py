"""time_text / count_us: counts at the board profile's clock (instructions are an estimate)."""
from tinydeploy.evaluate import count_us, time_text
from tinydeploy.target import load_board as board


def test_instructions_on_an_emulated_board_are_an_estimate_at_its_clock():
    assert time_text(570_000, board("qemu-m4")) == "22.8 ms at 25 MHz (estimate: 1 instruction per cycle)"
    assert count_us(570_000, "instructions", 25_000_000) == 22_800.0


def test_cycles_are_exact_and_microseconds_need_no_clock():
    assert time_text(49_600, board("simavr-mega"), "cycles") == "3.10 ms at 16 MHz"
    assert time_text(410, board("host"), "µs") == "410 µs"
    assert time_text(1_500_000, 1_000_000_000, "instructions").startswith("1.50 ms at 1 GHz")


def test_no_time_without_a_clock_or_for_timer_ticks():
    assert time_text(1000, board("host"), "instructions") == ""
    assert time_text(1000, board("qemu-m4"), "timer ticks") == ""
    assert count_us(1000, "timer ticks", 25_000_000) is None


def test_units_switch_at_their_boundaries():
    assert time_text(24_990, 25_000_000, "cycles") == "1.00 ms at 25 MHz"
    assert time_text(25, 25_000_000, "cycles") == "1.00 µs at 25 MHz"
    assert time_text(50_000_000, 25_000_000, "cycles") == "2.00 s at 25 MHz"
