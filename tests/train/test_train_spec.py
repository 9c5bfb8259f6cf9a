"""The update spec and the training graph: what is updated, what gets a gradient, what is saved, and the
one-line errors for bad specs and for ops without a training backward."""
import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile import load_model, parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.train import build_train_graph, parse_update

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"  # conv, depthwise, conv, max pool, reshape, fc, softmax


@pytest.fixture(scope="module")
def digits():
    return load_model(DIGITS)


def test_spec_selects_parameters(digits):
    u = parse_update("bias:all,fc:last,conv:last2", digits)
    assert u.weights == (1, 2, 5) and u.biases == (0, 1, 2, 5)
    assert u.tensors(digits) == [digits.ops[i].inputs[1] for i in (1, 2, 5)] + \
        [digits.ops[i].inputs[2] for i in (0, 1, 2, 5)]
    assert parse_update("conv:first", digits).weights == (0,)
    assert parse_update("dw:all", digits).weights == (1,)
    assert parse_update(" bias:last ", digits) == parse_update("bias:last1", digits)
    assert parse_update("bias:last", digits).weights == ()


@pytest.mark.parametrize("spec, words", [
    ("", "empty update spec"),
    ("attention:all", "unknown kind 'attention'"),
    ("fc", "unknown kind 'fc'"),
    ("conv:last9", "3 such layer(s), not 9"),
    ("fc:sideways", "'sideways' is not all, none, lastN or firstN"),
    ("fc:last,fc:all", "names 'fc' twice"),
    ("conv:none,bias:none", "selects no parameter"),
    ("fc:last:0%", "'0%' is not a share like 25%"),
    ("fc:last:half", "'half' is not a share"),
    ("bias:all:50%", "applies to fc and conv"),
    ("conv:all:50%", "op 1 (DEPTHWISE_CONV_2D), whose channels are not a prefix"),
])
def test_bad_specs_name_the_problem(digits, spec, words):
    with pytest.raises(TinyDeployError) as exc:
        parse_update(spec, digits)
    assert words in exc.value.message and exc.value.hint


def test_a_share_of_output_channels(digits):
    u = parse_update("fc:last:25%,conv:last:50%,bias:all", digits)
    assert u.channels(5) == 3 and u.channels(2) == 8 and u.channels(0) is None  # ceil(10/4), 16/2
    tg = build_train_graph(digits, u)
    w = digits.ops[5].inputs[1]
    assert tg.updated_count(w) == 3 * 256 and tg.updated_count(digits.ops[5].inputs[2]) == 10


def test_a_kind_the_model_lacks_is_named():
    g = load_model(ROOT / "models" / "vww96_int8.tflite")  # its classifier is a 1x1 CONV_2D
    with pytest.raises(TinyDeployError) as exc:
        parse_update("bias:all,fc:last", g)
    assert "has no FULLY_CONNECTED layer" in exc.value.message and "conv:last" in exc.value.hint


def test_the_backward_stops_at_the_earliest_updated_layer(digits):
    tg = build_train_graph(digits, "fc:last")
    fc = digits.ops[5]
    assert [(b.op, b.grad_inputs, b.weights, b.bias) for b in tg.backward] == [(5, [], True, True)]
    assert tg.logits == fc.outputs[0] and tg.grads == [fc.outputs[0]]
    assert tg.saved == [fc.outputs[0], fc.inputs[0]]  # logits (loss, mask) and the FC input (weight gradient)
    tg = build_train_graph(digits, "bias:last2")  # conv 2 and fc biases: no weight gradients, no saved inputs
    assert [b.op for b in tg.backward] == [5, 4, 3, 2]
    assert not any(b.weights for b in tg.backward) and tg.backward[-1].grad_inputs == []
    assert digits.ops[2].inputs[0] not in tg.saved


def _tanh_model() -> bytes:
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 2], "int8", 0.02, 0)
    w = b.tensor([3, 1, 1, 2], "int8", 0.01, 0, data=rng.integers(-127, 128, (3, 1, 1, 2)))
    bias = b.tensor([3], "int32", 0.0002, 0, data=np.zeros(3))
    c = b.tensor([1, 4, 4, 3], "int8", 0.02, 0)
    b.op("CONV_2D", [x, w, bias], [c], options("Conv2DOptions", padding=0, strideH=1, strideW=1))
    th = b.tensor([1, 4, 4, 3], "int8", 1 / 128, 0)
    b.op("TANH", [c], [th])
    shape = b.tensor([2], "int32", data=np.array([1, 48]))
    flat = b.tensor([1, 48], "int8", 1 / 128, 0)
    b.op("RESHAPE", [th, shape], [flat], options("ReshapeOptions", newShape=[1, 48]))
    w2 = b.tensor([4, 48], "int8", 0.01, 0, data=rng.integers(-127, 128, (4, 48)))
    bias2 = b.tensor([4], "int32", 0.01 / 128, 0, data=np.zeros(4))
    y = b.tensor([1, 4], "int8", 0.1, 0)
    b.op("FULLY_CONNECTED", [flat, w2, bias2], [y], options("FullyConnectedOptions"))
    return b.build([x], [y])


def test_ops_without_a_backward_are_declined_only_on_the_gradient_path():
    g = parse_model(_tanh_model())
    assert [b.kind for b in build_train_graph(g, "fc:last").backward] == ["FULLY_CONNECTED", ]
    with pytest.raises(TinyDeployError) as exc:
        build_train_graph(g, "conv:last")
    assert "op 1 (TANH) is on the gradient path" in exc.value.message
    assert "update only layers after" in exc.value.hint


def test_float_io_models_are_declined():
    with pytest.raises(TinyDeployError) as exc:
        build_train_graph(load_model(ROOT / "models" / "digits_cnn_float_io.tflite"), "fc:last")
    assert "int8 input and output" in exc.value.message and "quantize" in exc.value.hint
