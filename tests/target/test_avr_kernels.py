"""The avr kernels (td_avr.h: conv and its in-place 1x1 twin, depthwise and its in-place twin, fully connected,
max and average pooling) ON THE TARGET: small random single-op models and kws-like chains (the ATmega2560 has
8 KB of SRAM) in a few simavr-mega firmwares, every output byte compared with LiteRT BUILTIN_REF; and the
convert-time range proofs and stream layout."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile.ops._avr import DR_BYTES, SR_BYTES, dot_widths, dr_output, dr_stream, saturation, sr_stream
from tinydeploy.testing.random_ops import conv_model, dw_model, fc_model, kws_like_model, pool_model
from tinydeploy.testing.target_cases import differences, run_in_batches, variant_cases

ARENA, INPUT = 800, 640  # most bytes of one case's arena and input (inputs sit in SRAM too: plain const on AVR)


def small_cases(make, seed: int, n: int, want: int) -> list:
    """`want` of n random avr cases whose arenas and inputs fit a share of the Mega's SRAM."""
    cases = [c for c in variant_cases(make, seed, n, samples=1, kernels="avr")
             if c[2].arena_bytes <= ARENA and c[3][0].nbytes <= INPUT]
    assert len(cases) >= want, f"only {len(cases)} of {n} random cases are small enough"
    return cases[:want]


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_avr_kernels_bit_exact_on_simavr_mega(tmp_path):
    groups = [small_cases(lambda rng, i: conv_model(rng), 21, 80, 14),
              small_cases(lambda rng, i: dw_model(rng), 22, 60, 12),
              small_cases(lambda rng, i: fc_model(rng), 23, 40, 8),
              small_cases(lambda rng, i: pool_model(rng, ("MAX_POOL_2D", "AVERAGE_POOL_2D")[i % 2]), 24, 40, 8),
              small_cases(lambda rng, i: kws_like_model(rng), 25, 5, 5)]  # the ops of kws in one chain
    sources = "".join(m.source for cases in groups for _, _, m, _ in cases)
    for kernel in ("td_avr_conv_s8(", "td_avr_conv_1x1_s8_inplace(", "td_avr_depthwise_conv_s8(",
                   "td_avr_depthwise_conv_s8_inplace(", "td_avr_fully_connected_s8(", "td_avr_max_pool_s8(",
                   "td_avr_avg_pool_s8("):
        assert kernel in sources, f"no case calls {kernel[:-1]}"
    bad, total = [], 0
    for k, cases in enumerate(groups):  # one group per firmware batch: the groups' C prefixes repeat (c0, c1...)
        runs = run_in_batches([m for _, _, m, _ in cases], [xs for *_, xs in cases], "simavr-mega",
                              tmp_path / f"g{k}", arena_budget=2400)
        bad += differences([(label, model, xs) for label, model, _, xs in cases], runs)
        total += len(cases)
    assert not bad, f"{len(bad)} of {total} cases differ:\n" + "\n".join(bad[:20])


def test_dot_widths_prove_16_and_24_bit_sums():
    assert dot_widths(np.array([[127, -128]])).tolist() == [0]            # 127*127 + 128*128 = 32513
    assert dot_widths(np.array([[127, 127, 2], [127, 127, 3]])).tolist() == [0, 1]  # -128 * 257 < -32768
    assert dot_widths(np.full((1, 511), -128)).tolist() == [1]            # 511 * 16384 < 2^23
    assert dot_widths(np.full((2, 520), -128)) is None                    # beyond 24 bits: not taken
    w = np.random.default_rng(1).integers(-128, 128, (50, 9))
    worst = np.maximum(-128 * w, 127 * w).sum(axis=1), np.minimum(-128 * w, 127 * w).sum(axis=1)
    assert (dot_widths(w) == ((worst[0] > 32767) | (worst[1] < -32768))).all()


def test_streams_hold_header_then_weights_per_channel():
    w = np.arange(-6, 6).reshape(3, 4)
    s = dr_stream(w, np.array([10, 20, 30]), 5, np.array([2**30, 2**30 + 7, 0]), np.array([-3, 2, 0]))
    rows = s.reshape(3, DR_BYTES + 4)
    assert (rows[:, DR_BYTES:] == w).all()
    words = rows[:, :20].astype(np.int8).view("<i4").reshape(3, 5)
    assert words[:, 0].tolist() == [10 + 5 * -18, 20 + 5 * -2, 30 + 5 * 14]    # input offset folded in
    assert words[:, 2].tolist() == [7, 0, 0] and rows[:, 20:23].tolist() == [[0, 3, 0], [2, 0, 0], [0, 0, 0]]
    assert words[:, 3].tolist() == [-2**31] * 3 and words[:, 4].tolist() == [2**31 - 1] * 3  # no clamp given
    s = sr_stream(w, None, 0, np.array([2**30] * 3), np.array([-3, 0, 1]))
    rows = s.reshape(3, SR_BYTES + 4)
    rounding = rows[:, 8:16].astype(np.int8).view("<i8").reshape(-1)
    assert rounding.tolist() == [2**33, 2**30, 2**29] and rows[:, 16].tolist() == [34, 31, 30]


def test_saturation_bounds_are_exact():
    """Below `below` the requantized output is the clamp's low end, above `above` its high end, and the bounds
    are tight; a wrapping left shift skips nothing."""
    rng = np.random.default_rng(4)
    for _ in range(40):
        m, shift, zp = int(rng.integers(2**30, 2**31)), int(rng.integers(-20, 1)), int(rng.integers(-128, 128))
        lo, hi = (zp, 127) if rng.random() < 0.5 else (-128, 127)
        below, above = saturation(m, shift, zp, lo, hi)
        out = [min(hi, max(lo, dr_output(acc, m, shift) + zp)) for acc in (below - 1, below, above, above + 1)]
        assert out[0] == lo and out[1] > lo and out[2] < hi and out[3] == hi
    assert saturation(2**30, 3, 0, -128, 127) == (-2**31, 2**31 - 1)
