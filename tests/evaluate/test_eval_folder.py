"""eval from a folder of images (labels from sub-folder names) and of WAVs with a preprocessing hook."""
import subprocess
import sys
import wave

import numpy as np
from conftest import ROOT, TEST_MODELS
from PIL import Image

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import prepare_inputs
from tinydeploy.evaluate.folder import load_folder, load_hook

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"


def write_digit_folder(tmp_path, n=12, indices=None):
    data = np.load(ROOT / "models" / "digits_test.npz")
    for i in range(n) if indices is None else indices:
        d = tmp_path / "imgs" / f"class{int(data['y'][i])}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray((data["x_float"][i, :, :, 0] * 255).round().astype(np.uint8), "L").save(d / f"{i:03d}.png")
    return tmp_path / "imgs", data


def test_folder_of_images_gives_the_test_set_inputs_and_labels(tmp_path):
    folder, data = write_digit_folder(tmp_path)
    g = load_model(DIGITS)
    arrays, labels, classes = load_folder(folder, g)
    xs = prepare_inputs(g, arrays)
    assert xs[0].dtype == np.int8 and xs[0].shape[0] == 12 and xs[0][0].size == 64
    names = [classes[c] for c in labels]
    files = sorted(folder.rglob("*.png"))
    assert names == [f.parent.name for f in files]
    first = int(files[0].stem)
    # PNG stores 8-bit pixels, the shipped set 1/16 steps: the same quantized sample within one step
    diff = xs[0][0].reshape(-1).astype(int) - data["x_int8"][first].reshape(-1).astype(int)
    assert np.abs(diff).max() <= 1


def test_wav_folder_with_hook(tmp_path):
    (tmp_path / "wav").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        with wave.open(str(tmp_path / "wav" / f"{i}.wav"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes(rng.integers(-3000, 3000, 16000).astype(np.int16).tobytes())
    (tmp_path / "hook.py").write_text("import numpy as np\n"
                                      "def first(path, x):\n    return x[:1]\n")
    g = load_model(TEST_MODELS / "hello_world_int8.tflite")
    arrays, labels, _ = load_folder(tmp_path / "wav", g, load_hook(f"{tmp_path / 'hook.py'}:first"))
    assert arrays[0].shape == (3, 1, 1) and labels is None


def test_eval_cli_on_image_folder_host(tmp_path):
    """The reported accuracy is LiteRT's on the same inputs against the folder labels (class0..class9, one
    sample of each, so a label's index is its digit)."""
    import json

    from tinydeploy.evaluate.reference import reference_outputs

    y = np.load(ROOT / "models" / "digits_test.npz")["y"]
    folder, _ = write_digit_folder(tmp_path, indices=[int(np.flatnonzero(y == c)[0]) for c in range(10)])
    r = subprocess.run([sys.executable, "-m", "tinydeploy", "eval", str(DIGITS), "--board", "host", "--inputs",
                        str(folder), "--json", str(tmp_path / "r.json")], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    g = load_model(DIGITS)
    arrays, labels, _ = load_folder(folder, g)
    assert labels.tolist() == list(range(10))
    pred = reference_outputs(DIGITS, prepare_inputs(g, arrays))[0].reshape(10, -1).argmax(axis=1)
    correct = int((pred == labels).sum())
    acc = json.loads((tmp_path / "r.json").read_text())["accuracy"]
    assert acc["correct"] == acc["host_correct"] == correct >= 8, (acc, pred)
    assert acc["device"] == acc["host"] == correct / 10
