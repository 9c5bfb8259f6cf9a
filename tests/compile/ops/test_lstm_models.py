"""Converter-made integer LSTMs (tests/data/lstm, tests/models/make_lstm_model.py) vs LiteRT BUILTIN_REF:
several sizes, a long sequence, saturated gates and cell, the cell clip; 30 seeded random inputs and
7 extreme ones per model, all compiled into one host binary."""
import hashlib
import re
from pathlib import Path

import numpy as np

from tinydeploy.testing.opcheck import Case, check_groups

DATA = Path(__file__).resolve().parents[2] / "data"
LSTM_DATA = DATA / "lstm"
MODELS = ["mnist20", "last32", "long256", "saturate", "clip"]


def _inputs(model: bytes, n: int, seed: int) -> np.ndarray:
    """n random full-range int8 inputs, then all -128, all 127, alternating -128/127, all 0, and three
    that hold 127 for the first 1/2, 3/4 or 7/8 of the steps and then go random or to -128 (the cell
    runs into its clip, then back: where it comes back from shows whether it was clipped)."""
    from ai_edge_litert.interpreter import Interpreter

    shape = tuple(Interpreter(model_content=model).get_input_details()[0]["shape"])
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (n,) + shape).astype(np.int8)
    alt = np.where(np.arange(int(np.prod(shape))) % 2, 127, -128).reshape(shape)
    extremes = [np.full(shape, -128), np.full(shape, 127), alt, np.zeros(shape)]
    steps = shape[1]
    for head, tail in ((steps // 2, None), (3 * steps // 4, None), (7 * steps // 8, -128)):
        e = rng.integers(-128, 128, shape) if tail is None else np.full(shape, tail)
        e[:, :head] = 127
        extremes.append(e)
    return np.concatenate([x, np.stack(extremes).astype(np.int8)])


def _final_cell_states(model: bytes, x: np.ndarray) -> tuple[np.ndarray, float]:
    """LiteRT BUILTIN_REF's int16 cell state after each sample (from reset), and its scale."""
    from ai_edge_litert import interpreter as lit

    it = lit.Interpreter(model_content=model, experimental_op_resolver_type=lit.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp = it.get_input_details()[0]["index"]
    cell = next(d for d in it.get_tensor_details() if d["dtype"] == np.int16)
    out = []
    for s in range(len(x)):
        it.reset_all_variables()
        it.set_tensor(inp, x[s])
        it.invoke()
        out.append(it.get_tensor(cell["index"]).copy())
    return np.stack(out), float(cell["quantization"][0])


def test_committed_models_match_their_recorded_sha256():
    readme = (LSTM_DATA / "README.md").read_text()
    recorded = {name: sha for sha, name in re.findall(r"^\s+([0-9a-f]{64})  (\S+)$", readme, re.MULTILINE)}
    assert sorted(recorded) == sorted(p.name for p in LSTM_DATA.glob("*.tflite")) == sorted(f"{m}.tflite" for m in MODELS)
    for name, sha in recorded.items():
        assert hashlib.sha256((LSTM_DATA / name).read_bytes()).hexdigest() == sha, name
        assert f"| {name} |" in readme, f"{name}: no provenance row"


def test_converter_lstm_models_bit_exact():
    paths = [LSTM_DATA / f"{m}.tflite" for m in MODELS] + [DATA / "lstm_int8.tflite"]
    groups = {}
    for k, p in enumerate(paths):
        model = p.read_bytes()
        groups[p.name] = [(Case(model, p.name), [_inputs(model, 30, seed=k)])]
    failures = {name: f for name, f in check_groups(groups).items() if f}
    assert not failures, failures


def test_models_reach_saturation_and_the_cell_clip():
    """The regimes the models are for really happen under LiteRT (so the test above covers them):
    the cell state saturates at int16's limit, and the clip model's cell stops at the quantized
    cell clip (LiteRT: int16(min(10.0 / scale, 32767)))."""
    for name in ("saturate", "long256"):
        model = (LSTM_DATA / f"{name}.tflite").read_bytes()
        cells, _ = _final_cell_states(model, _inputs(model, 30, seed=1))
        assert np.abs(cells.astype(np.int32)).max() >= 32767, name
    model = (LSTM_DATA / "clip.tflite").read_bytes()
    cells, scale = _final_cell_states(model, _inputs(model, 30, seed=1))
    q_clip = int(min(np.float32(10.0) / np.float32(scale), 32767.0))
    assert q_clip < 32767 and np.abs(cells.astype(np.int32)).max() == q_clip
    assert (np.abs(cells.astype(np.int32)) == q_clip).any(axis=tuple(range(1, cells.ndim))).sum() >= 2
