"""`tinydeploy quantize`: float Keras / SavedModel / float .tflite models in, integer .tflite out, bit-exact on
the host, with the per-layer error and float vs quantized accuracy; clean failures naming the problem.

TensorFlow is imported once (module fixtures); the CLI runs in-process (tinydeploy.cli.main), except one
subprocess run that checks the real entry point."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from tools import cli_in_process

DIGITS_TEST = ROOT / "models" / "digits_test.npz"


def cli(*args) -> tuple[int, str]:
    """(exit code, stdout + stderr) of `tinydeploy ARGS` run in this process."""
    code, out, err = cli_in_process(*args, width=300)  # whole tensor names in the table
    return code, out + err


def no_leftovers(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".td-")]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A digits CNN (the demo's) trained briefly, saved as .keras and as a float .tflite, calibration samples,
    and a model with outlier weights in one layer."""
    import keras
    import tensorflow as tf

    sys.path.insert(0, str(ROOT / "models"))
    from train_digits import cnn, load_data

    d = tmp_path_factory.mktemp("quantize")
    keras.utils.set_random_seed(0)
    x_tr, _, y_tr, _ = load_data()
    model = cnn()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x_tr, y_tr, batch_size=64, epochs=12, verbose=0)
    model.save(d / "digits.keras")
    from tinydeploy.quantize.tfconvert import quiet

    with quiet():
        model.export(str(d / "digits_savedmodel"))
    static = cnn(batch_size=1)
    static.set_weights(model.get_weights())
    with quiet():
        (d / "digits_float.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(static).convert())
    np.save(d / "calib.npy", x_tr[:200].astype(np.float32))

    # outliers: in every output channel of "mid", the weight of a feature that is always 0 ("first"'s unit 0
    # never fires) is 100x the others: it sets each channel's int8 step, the weights that matter round to
    # a few levels
    rng = np.random.default_rng(0)
    inp = keras.Input(shape=(16,), name="x")
    h = keras.layers.Dense(16, activation="relu", name="first")(inp)
    h = keras.layers.Dense(16, activation="relu", name="mid")(h)
    out = keras.layers.Dense(4, name="last")(h)
    odd = keras.Model(inp, out)
    w, b = odd.get_layer("first").get_weights()
    w[:, 0], b[0] = -np.abs(w[:, 0]) - 0.1, -1.0
    odd.get_layer("first").set_weights([w, b])
    w, b = odd.get_layer("mid").get_weights()
    w[0, :] = 100 * np.abs(w).max()
    odd.get_layer("mid").set_weights([w, b])
    odd.save(d / "outlier.keras")
    x = rng.normal(0, 1, (300, 16)).astype(np.float32)
    x = np.abs(x)  # non-negative inputs: "first"'s unit 0 stays below 0
    np.save(d / "outlier_calib.npy", x[:200])
    np.savez(d / "outlier_eval.npz", x=x[200:], y=odd.predict(x[200:], verbose=0).argmax(axis=1))
    return d


@pytest.fixture(scope="module")
def quantized(work):
    """The digits model quantized five ways: {name: (exit code, output text, path)}."""
    ev = f"{DIGITS_TEST}:x_float"
    runs = {
        "keras_int8": ("digits.keras", []),
        "keras_16x8": ("digits.keras", ["--scheme", "16x8"]),
        "tflite_int8_float_io": ("digits_float.tflite", ["--float-io"]),
        "tflite_16x8": ("digits_float.tflite", ["--scheme", "16x8"]),
        "savedmodel_16x8_float_io": ("digits_savedmodel", ["--scheme", "16x8", "--float-io"]),
    }
    result = {}
    for name, (src, extra) in runs.items():
        out = work / f"{name}.tflite"
        code, text = cli("quantize", work / src, "--calib", work / "calib.npy", "--eval", ev, "-o", out, *extra)
        result[name] = (code, text, out)
    return result


def accuracies(text: str) -> tuple[float, float]:
    m = re.search(r"accuracy on 360 labelled samples: float ([\d.]+)%, \S+ ([\d.]+)%", text)
    assert m, text
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("name", ["keras_int8", "keras_16x8", "tflite_int8_float_io", "tflite_16x8",
                                  "savedmodel_16x8_float_io"])
def test_quantize_reports_layers_and_accuracy(quantized, name):
    code, text, out = quantized[name]
    assert code == 0, text
    assert out.is_file() and no_leftovers(out.parent)
    for kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"):
        assert re.search(rf"\b{kind}\b.*\d+\.\d", text), (kind, text)
    f, q = accuracies(text)
    assert f > 90 and abs(f - q) <= 1.0, text
    assert ("ai-edge-quantizer" if name.startswith("tflite") else "TensorFlow's converter") in text


def test_quantized_io_types(quantized):
    from tinydeploy.compile import load_model

    want = {"keras_int8": "int8", "keras_16x8": "int16", "tflite_int8_float_io": "float32", "tflite_16x8": "int16",
            "savedmodel_16x8_float_io": "float32"}
    for name, dtype in want.items():
        g = load_model(quantized[name][2])
        assert [g.tensors[t].dtype for t in g.inputs + g.outputs] == [dtype, dtype], name


def test_quantized_models_run_bit_exact_on_the_host(quantized):
    from tinydeploy.compile import PlanOptions, parse_model
    from tinydeploy.evaluate import prepare_inputs
    from tinydeploy.testing.opcheck import Case, check_groups

    x = np.load(DIGITS_TEST)["x_float"][:24]
    groups = {}
    for name, (code, text, path) in quantized.items():
        assert code == 0, text
        content = path.read_bytes()
        groups[name] = [(Case(content, name), prepare_inputs(parse_model(content), [x]))]
    # greedy planner: OR-Tools' CP-SAT crashes in a process that has loaded TensorFlow (the CLI never holds
    # both); the plan does not change the arithmetic
    failures = check_groups(groups, options=PlanOptions(planner="greedy"))
    assert not any(failures.values()), failures


@pytest.mark.slow
@pytest.mark.parametrize("name", ["keras_int8", "tflite_int8_float_io"])
def test_quantized_digits_bit_exact_on_qemu_m4(quantized, name, tmp_path):
    """Issue 16: the quantized demo model (Keras in, and a float .tflite with float I/O) deployed to the emulated
    Cortex-M4: every output equals LiteRT's and the device accuracy is within 1 point of the float model's."""
    from tinydeploy.compile import parse_model
    from tinydeploy.evaluate import prepare_inputs
    from tinydeploy.evaluate.evaluation import evaluate, report_dict
    from tinydeploy.link.session import open_session

    code, text, path = quantized[name]
    assert code == 0, text
    data = np.load(DIGITS_TEST)
    xs = prepare_inputs(parse_model(path.read_bytes()), [data["x_float"]])
    with open_session(path, "qemu-m4", project_dir=tmp_path / "fw", timeout=5.0) as s:
        rep = report_dict(evaluate(s, xs, data["y"]))
    assert rep["bit_exact"]["all"] and rep["samples"] == 360, rep["bit_exact"]
    float_acc, _ = accuracies(text)
    assert abs(100 * rep["accuracy"]["device"] - float_acc) <= 1.0, (rep["accuracy"], float_acc)


def test_outlier_layer_is_named(work):
    out = work / "outlier_int8.tflite"
    code, text = cli("quantize", work / "outlier.keras", "--calib", work / "outlier_calib.npy",
                     "--eval", work / "outlier_eval.npz", "-o", out, "--json", work / "outlier.json")
    assert code == 0, text
    report = json.loads((work / "outlier.json").read_text())
    assert "mid" in max(report["layers"], key=lambda e: e["lost_db"] or 0)["tensor"], report
    assert report["accuracy"]["float"] == 1.0 and report["accuracy"]["quantized"] < 0.9, report
    lossy = re.search(r"most noise added: op \d+ FULLY_CONNECTED \(([^)]*)\), ([\d.]+) dB", text)
    assert lossy and "mid" in lossy.group(1), text
    f, q = (float(v) for v in re.search(r"float ([\d.]+)%, int8 ([\d.]+)%", text).groups())
    assert f == 100.0 and q < 90.0, text
    rows = {m.group(1): float(m.group(2)) for m in
            re.finditer(r"FULLY_CONNECTED[\s│]+\S*?(first|mid|last)\S*[\s│]+(-?[\d.]+)", text)}
    assert rows["mid"] < rows["first"] - 10, rows


def test_an_op_without_integer_kernel_is_named(work):
    import tensorflow as tf

    class Cos(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
        def __call__(self, x):
            return tf.math.cos(x * 2.0 + 0.5)

    class Erf(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 8], tf.float32, name="x")])
        def __call__(self, x):
            return tf.math.erf(x * 2.0)

    np.save(work / "x8.npy", np.random.default_rng(1).random((20, 8)).astype(np.float32))
    from tinydeploy.quantize.tfconvert import quiet

    for module, word in ((Cos(), "COS"), (Erf(), "Erf")):
        folder = work / f"sm_{word}"
        tf.saved_model.save(module, str(folder), signatures=module.__call__)
        out = work / f"{word}.tflite"
        code, text = cli("quantize", folder, "--calib", work / "x8.npy", "-o", out)
        assert code == 1 and word in text and "Traceback" not in text, text
        assert not out.exists() and no_leftovers(work)
    # a float .tflite with COS: ai-edge-quantizer leaves it in float, which is named too
    with quiet():
        conv = tf.lite.TFLiteConverter.from_concrete_functions([Cos().__call__.get_concrete_function()])
        (work / "cos_float.tflite").write_bytes(conv.convert())
    code, text = cli("quantize", work / "cos_float.tflite", "--calib", work / "x8.npy", "-o", work / "COS.tflite")
    assert code == 1 and re.search(r"cannot quantize op \d+ COS", text), text
    assert not (work / "COS.tflite").exists()


def test_bad_calibration_shape(work):
    np.save(work / "wrong.npy", np.zeros((10, 7, 7, 1), np.float32))
    for src in ("digits_float.tflite", "digits.keras"):
        out = work / "never.tflite"
        code, text = cli("quantize", work / src, "--calib", work / "wrong.npy", "-o", out)
        assert code == 1 and "[N, 1, 8, 8, 1]" in text and "Traceback" not in text, text
        assert not out.exists()


def test_corrupt_or_wrong_models(work):
    (work / "corrupt.keras").write_bytes(b"PK\x03\x04 not really a zip")
    float_bytes = (work / "digits_float.tflite").read_bytes()
    (work / "truncated.tflite").write_bytes(float_bytes[: len(float_bytes) // 3])
    (work / "model.onnx").write_bytes(b"\x08\x07")
    cases = {"corrupt.keras": "cannot load the Keras model", "truncated.tflite": "corrupt or truncated",
             "model.onnx": "unknown model format", "missing.keras": "not found",
             ROOT / "models" / "digits_cnn_int8.tflite": "already quantized"}
    for src, words in cases.items():
        code, text = cli("quantize", work / src, "--calib", work / "calib.npy", "-o", work / "never.tflite")
        assert code == 1 and words in text and "Traceback" not in text, (src, text)
    assert not (work / "never.tflite").exists() and no_leftovers(work)


def test_entry_point_fails_cleanly(work):
    r = subprocess.run([sys.executable, "-m", "tinydeploy", "quantize", work / "digits_float.tflite", "--calib",
                        work / "nothing.npy", "-o", work / "never.tflite"], capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 1 and "not found" in r.stderr and "Traceback" not in r.stderr + r.stdout, r.stderr
    assert not (work / "never.tflite").exists()


def test_a_float_model_s_error_names_the_quantize_command(work):
    model = work / "digits_float.tflite"
    for args in (["convert", model, "-o", work / "lib"], ["inspect", model]):
        code, text = cli(*args)
        flat = " ".join(text.split())
        assert code == 1 and f"tinydeploy quantize {model} --calib" in flat, text
        assert "tinydeploy[quantize]" in flat, text
    assert not (work / "lib").exists()


def test_h5_model_with_a_folder_of_calibration_files(work):
    """A tf_keras .h5 model, calibrated from a folder of .npy files (as `eval` reads folders)."""
    import tf_keras

    from tinydeploy.compile import PlanOptions
    from tinydeploy.testing.opcheck import Case, check_cases

    inp = tf_keras.Input(shape=(6, 6, 2), name="img")
    h = tf_keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inp)
    out = tf_keras.layers.Dense(5, name="dense")(tf_keras.layers.Flatten()(h))
    tf_keras.Model(inp, out).save(work / "small.h5")
    folder = work / "calib_folder"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for i in range(12):
        np.save(folder / f"s{i:02d}.npy", rng.random((6, 6, 2)).astype(np.float32))
    out = work / "small_int8.tflite"
    code, text = cli("quantize", work / "small.h5", "--calib", folder, "-o", out)
    assert code == 0 and "12 calibration samples" in text and "CONV_2D" in text, text
    assert not check_cases([Case(out.read_bytes(), "small.h5", samples=4)], options=PlanOptions(planner="greedy"))


@pytest.mark.parametrize("scheme", ["int8", "16x8"])
def test_public_float_tflite(work, scheme):
    """sine_float.tflite, the float model that the tflite-micro package ships (its hello_world), from outside."""
    import tflite_micro

    from tinydeploy.compile import PlanOptions
    from tinydeploy.testing.opcheck import Case, check_groups

    model = next(Path(tflite_micro.__file__).parent.rglob("sine_float.tflite"))
    x = np.linspace(0, 2 * np.pi, 300, dtype=np.float32)[:, None]
    np.save(work / "sine_calib.npy", x)
    out = work / f"sine_{scheme}.tflite"
    code, text = cli("quantize", model, "--calib", work / "sine_calib.npy", "--scheme", scheme, "--float-io",
                     "-o", out)
    assert code == 0 and text.count("FULLY_CONNECTED") >= 3, text
    failures = check_groups({scheme: [(Case(out.read_bytes(), scheme), [x[::7]])]},
                            options=PlanOptions(planner="greedy"))
    assert not failures[scheme], failures


@pytest.mark.parametrize("blocked,model", [("tensorflow", "m.keras"), ("ai_edge_quantizer", "float.tflite")])
def test_missing_quantize_extra_is_named(work, tmp_path, blocked, model):
    """Without TensorFlow (Keras models) or ai-edge-quantizer (float .tflite): one message naming the missing
    package and the extra that installs it, exit 1, no traceback. The CLI runs in a fresh interpreter where
    importing the package fails (sys.modules[name] = None, Python's way to make an import raise ImportError)."""
    src = work / ("digits.keras" if model.endswith(".keras") else "digits_float.tflite")
    code = (f"import sys; sys.modules[{blocked!r}] = None; sys.argv = ['tinydeploy', 'quantize', {str(src)!r}, "
            f"'--calib', {str(work / 'calib.npy')!r}, '-o', {str(tmp_path / 'out.tflite')!r}]; "
            "from tinydeploy.cli import main; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    text = r.stdout + r.stderr
    assert r.returncode == 1, text
    assert "Traceback" not in text and blocked.replace("_", "-") in text.lower() and "tinydeploy[quantize]" in text, text
    assert not (tmp_path / "out.tflite").exists()
