"""PAD folding (passes/fold_pad.py): a PAD whose value is the input zero point, before CONV_2D or
DEPTHWISE_CONV_2D, becomes their explicit padding; bit-exact with LiteRT (host under ASan/UBSan, and the
arm-dsp kernels on qemu-m4), and the padded copy leaves the arena."""
import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401

from tinydeploy.compile import PlanOptions, compile_graph, parse_model
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases
from tinydeploy.testing.random_ops import pad_conv_model
from tinydeploy.testing.target_cases import failures_on_target, variant_cases


def pads_left(model: bytes, **kw) -> int:
    return sum(op.kind in ("PAD", "PADV2") for op in compile_graph(parse_model(model), options=PlanOptions(**kw)).graph.ops)


def test_random_pads_fold_and_stay_bit_exact():
    rng = np.random.default_rng(1)
    models = [pad_conv_model(rng) for _ in range(60)]
    folded = sum(pads_left(m, fold_pad=False) - pads_left(m) for m, _ in models)
    assert folded >= 15, f"only {folded} of 60 PADs folded"
    bad = check_cases([Case(m, label) for m, label in models], sanitize=True)
    assert not bad, "\n".join(bad[:10])


def pad_model(value_offset: int = 0, channel_pad: int = 0, readers=("DEPTHWISE_CONV_2D",), h: int = 40,
              c: int = 8) -> bytes:
    """x[1,h,h,c] -> PADV2 (0,1)x(0,1) [+ channel pad] with the zero point + value_offset -> readers (s2 VALID)."""
    b = ModelBuilder()
    x = b.tensor([1, h, h, c], "int8", 0.02, -5)
    pads = b.tensor([4, 2], "int32", data=np.array([[0, 0], [0, 1], [0, 1], [0, channel_pad]]))
    cp = c + channel_pad
    padded = b.tensor([1, h + 1, h + 1, cp], "int8", 0.02, -5)
    b.op("PADV2", [x, pads, b.tensor([1], "int8", 0.02, -5, data=np.array([-5 + value_offset]))], [padded],
         options("PadV2Options"))
    outs, o = [], h // 2
    for kind in readers:
        if kind == "MAX_POOL_2D":
            y = b.tensor([1, o, o, cp], "int8", 0.02, -5)
            b.op(kind, [padded], [y], options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=3,
                                              filterHeight=3))
        else:
            w = b.tensor([1, 3, 3, cp], "int8", 0.01, 0, data=np.ones((1, 3, 3, cp)), axis=3)
            y = b.tensor([1, o, o, cp], "int8", 0.05, 3)
            b.op(kind, [padded, w], [y], options("DepthwiseConv2DOptions", padding=1, strideH=2, strideW=2,
                                                 depthMultiplier=1))
        outs.append(y)
    return b.build([x], outs)


def test_what_folds_and_what_does_not():
    assert pads_left(pad_model()) == 0
    assert pads_left(pad_model(value_offset=1)) == 1      # a pad value other than the zero point
    assert pads_left(pad_model(channel_pad=2)) == 1       # channels padded
    assert pads_left(pad_model(readers=("DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D"))) == 0  # every reader folds
    mixed = pad_model(readers=("DEPTHWISE_CONV_2D", "MAX_POOL_2D"))   # the pool keeps the PAD
    g = compile_graph(parse_model(mixed)).graph
    assert [op.kind for op in g.ops].count("PADV2") == 1
    assert [op.explicit_padding for op in g.ops if op.kind == "DEPTHWISE_CONV_2D"] == [(0, 0)]
    bad = check_cases([Case(m, str(i)) for i, m in enumerate([pad_model(), mixed, pad_model(value_offset=1)])],
                      sanitize=True)
    assert not bad, "\n".join(bad)


def test_the_padded_copy_leaves_the_arena():
    m = parse_model(pad_model())
    on, off = compile_graph(m), compile_graph(m, options=PlanOptions(fold_pad=False))
    copy = compile_graph(m, options=PlanOptions(fold_pad=False, inplace=False))
    # without folding or sharing the input (12,800 B) and its padded copy (13,448 B) are live together;
    # unfolded, the PAD runs in place (td_pad writes the copy over the input), folded there is no copy
    assert on.arena_bytes <= 12_800 + 3_200 + 16
    assert on.arena_bytes < off.arena_bytes < 12_800 + 13_448 <= copy.arena_bytes
    assert "fold_pad=off" in off.options.describe() and "fold_pad" not in on.options.describe()


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_folded_pads_on_the_arm_dsp_kernels(tmp_path):
    cases = variant_cases(lambda rng, i: pad_conv_model(rng), 5, 80)
    assert sum(any(op.explicit_padding for op in m.graph.ops) for _, _, m, _ in cases) >= 20
    bad = failures_on_target(cases, "qemu-m4", tmp_path / "fw")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])
