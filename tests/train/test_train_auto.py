"""--update auto --budget B (tinydeploy/train/auto.py) and the single-layer items of the update spec
(opN:w[:PCT%], opN:b, opN:wb), on the demo MobileNet (models/train_demo_*)."""
import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile import parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.train import parse_update
from tinydeploy.train.auto import Unit, choose_update, describe, full_update, memory, parse_budget, rank_units

MODEL = ROOT / "models" / "train_demo_int8.tflite"
DATA = ROOT / "models" / "train_demo_data.npz"


@pytest.fixture(scope="module")
def demo():
    d = np.load(DATA)
    return parse_model(MODEL.read_bytes()), d["x_train"], d["y_train"]


def test_parse_budget():
    assert parse_budget("256KB") == parse_budget("256k") == parse_budget("256 KiB") == 262144
    assert parse_budget("0.5MB") == 524288 and parse_budget("1000") == 1000 and parse_budget(77) == 77
    with pytest.raises(TinyDeployError, match="is not a size"):
        parse_budget("lots")


def test_single_layer_items(demo):
    g = demo[0]
    u = parse_update("op26:w:50%,op27:wb,op1:b", g)
    assert u.weights == (26, 27) and u.biases == (1, 27) and u.partial == ((26, 128),)
    assert parse_update(describe(g, u), g) == u
    assert parse_update(describe(g, full_update(g)), g) == full_update(g) == parse_update("conv:all", g)
    for spec, msg in [("op1:w:50%", "DEPTHWISE_CONV_2D"), ("op28:w", "no conv, depthwise or fc layer"),
                      ("op26:x", "is not w, b or wb"), ("op26:b:50%", "applies to weights"),
                      ("op99:w", "no conv")]:
        with pytest.raises(TinyDeployError, match=msg):
            parse_update(spec, g)


def test_auto_needs_budget_and_data(demo):
    g, x, y = demo
    with pytest.raises(TinyDeployError, match="needs a memory budget and labelled samples"):
        parse_update("auto", g)
    with pytest.raises(TinyDeployError, match="needs a memory budget"):
        parse_update("auto", g, budget="256KB")
    with pytest.raises(TinyDeployError, match="no update fits in 16384 bytes"):
        parse_update("auto", g, budget="16KB", data=(x, y))


def test_rank_units_keeps_each_layers_steps_in_order():
    a = [Unit(0, False, 1, 1.0, 100), Unit(0, False, 2, 50.0, 10)]  # the cheap rich step comes second
    b = [Unit(1, True, 4, 2.0, 10)]
    assert rank_units([a, b]) == [b[0], a[0], a[1]]


def test_auto_fits_the_budget_and_grows_with_it(demo):
    g, x, y = demo
    picks = [choose_update(g, b, x, y, lr=0.005, epochs=2) for b in ("96KB", "160KB", "256KB")]
    totals = []
    for c in picks:
        buf, state = memory(g, c.update)
        assert (buf, state) == (c.buffer_bytes, c.state_bytes)
        assert buf + state + 10240 <= c.budget, c.spec
        assert parse_update(c.spec, g) == c.update
        totals.append(buf + state)
    assert totals == sorted(totals) and totals[0] < totals[-1], totals
    # the prefix rule: a bigger budget keeps every unit a smaller one took
    assert picks[0].units == picks[1].units[:len(picks[0].units)]
    # through parse_update, as the CLI calls it
    assert parse_update("auto", g, budget="256KB", data=(x, y)) == picks[-1].update
