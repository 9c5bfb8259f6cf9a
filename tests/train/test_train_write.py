"""write.py: tuned parameters into a .tflite (scales and every other buffer unchanged, a shared buffer
split), the atomic write, and the error for values of the wrong size."""
import flatbuffers
import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile import parse_model
from tinydeploy.compile import schema as S
from tinydeploy.errors import TinyDeployError
from tinydeploy.testing.builder import single_fc
from tinydeploy.train import replace_params, write_tuned


def _shared_bias_model() -> bytes:
    """single_fc with a second tensor pointing at the weights' buffer."""
    m = S.ModelT.InitFromPackedBuf(bytearray(single_fc(6, 4, seed=1)), 0)
    sg = m.subgraphs[0]
    twin = S.TensorT()
    twin.shape, twin.type, twin.name, twin.buffer = [4, 6], S.TensorType.INT8, "twin", sg.tensors[1].buffer
    sg.tensors.append(twin)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_replace_params_changes_only_the_given_tensors(tmp_path):
    model = (ROOT / "models" / "digits_mlp_int8.tflite").read_bytes()
    g = parse_model(model)
    w, b = g.ops[1].inputs[1], g.ops[1].inputs[2]
    new_w = np.clip(g.tensors[w].data.astype(np.int16) + 1, -127, 127).astype(np.int8)
    new_b = g.tensors[b].data + 7
    out = write_tuned(model, {w: new_w, b: new_b}, tmp_path / "tuned.tflite")
    assert out.exists() and not (tmp_path / "tuned.tflite.tmp").exists()
    g2 = parse_model(out.read_bytes())
    np.testing.assert_array_equal(g2.tensors[w].data, new_w)
    np.testing.assert_array_equal(g2.tensors[b].data, new_b)
    for t0, t1 in zip(g.tensors, g2.tensors):
        assert t0.shape == t1.shape and t0.dtype == t1.dtype
        if t0.quant is not None:
            np.testing.assert_array_equal(t0.quant.scale, t1.quant.scale)
            np.testing.assert_array_equal(t0.quant.zero_point, t1.quant.zero_point)
        if t0.index not in (w, b) and t0.data is not None:
            np.testing.assert_array_equal(t0.data, t1.data)


def test_a_shared_buffer_gets_a_private_copy():
    model = _shared_bias_model()
    g = parse_model(model)
    twin = len(g.tensors) - 1
    np.testing.assert_array_equal(g.tensors[1].data, g.tensors[twin].data)
    tuned = parse_model(replace_params(model, {1: np.zeros((4, 6), np.int8)}))
    assert not tuned.tensors[1].data.any()
    np.testing.assert_array_equal(tuned.tensors[twin].data, g.tensors[twin].data)


def test_values_of_the_wrong_size_are_refused():
    model = single_fc(6, 4, seed=1)
    with pytest.raises(TinyDeployError) as exc:
        replace_params(model, {1: np.zeros(5, np.int8)})
    assert "holds 24 bytes, the tuned values 5" in exc.value.message


def test_an_unwritable_destination_is_one_clear_error(tmp_path):
    with pytest.raises(TinyDeployError) as exc:
        write_tuned(single_fc(6, 4, seed=1), {}, tmp_path / "missing" / "tuned.tflite")
    assert "cannot write" in exc.value.message and not list(tmp_path.rglob("*.tmp"))
