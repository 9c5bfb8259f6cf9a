"""`tinydeploy fit-search`: resolution x width candidates of a Keras builder (models/search_digits.py:cnn on the
digits data), fit-checked on a board before any training, the fitting ones trained one epoch and measured in
int8; a table and JSON with accuracy, memory and MACs; one clear error for a bad builder.

Two searches of 2 resolutions x 2 widths (an Uno, where the biggest candidate does not fit, and a Nucleo-F446RE,
where all fit), in this process (TensorFlow imported once), greedy planner."""
import json
import sys

import numpy as np
import pytest
from conftest import ROOT
from tools import cli_in_process

BUILDER = ROOT / "models" / "search_digits.py"
GRID = ("--resolutions", "1,0.5", "--widths", "1,0.5", "--epochs", "1", "--planner", "greedy")


def cli(*args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tinydeploy ARGS` run in this process."""
    return cli_in_process(*args, width=200)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "models"))
    from train_digits import load_data

    d = tmp_path_factory.mktemp("search")
    x_tr, x_te, y_tr, y_te = load_data()
    np.savez(d / "train.npz", x=x_tr, y=y_tr)
    np.savez(d / "val.npz", images=x_te, labels=y_te)
    return d


@pytest.fixture(scope="module")
def uno(data):
    """The table for an Uno (2 KB SRAM): the 8x8 width-1 CNN does not fit."""
    return cli("fit-search", f"{BUILDER}:cnn", "--data", data / "train.npz", "--val", f"{data / 'val.npz'}:images,labels",
               "--board", "uno", *GRID)


@pytest.fixture(scope="module")
def nucleo(data, tmp_path_factory):
    """JSON for a Nucleo-F446RE (everything fits), the builder imported as a module from the current folder,
    accuracy on 20% of --data held out, each candidate's .tflite kept."""
    keep = tmp_path_factory.mktemp("keep") / "candidates"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT / "models")
        code, out, err = cli("fit-search", "search_digits:cnn", "--data", data / "train.npz", "--board",
                             "nucleo_f446re", "--json", "--keep", keep, *GRID)
    assert code == 0, out + err
    return json.loads(out), keep


def rows(table: str) -> dict[tuple[str, str], list[str]]:
    """Table rows by (resolution, width)."""
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 11 and cells[0] and cells[0] != "resolution":
            out[(cells[0], cells[1])] = cells
    return out


def num(cell: str) -> int:
    return int(cell.replace(",", ""))


def test_the_table_shows_what_fits_the_uno_and_trains_only_that(uno):
    code, out, err = uno
    assert code == 0, out + err
    assert "Traceback" not in out + err
    for col in ("peak arena", "RAM", "flash", "MACs", "latency~", "float acc", "int8 acc", "fits"):
        assert col in out
    r = rows(out)
    assert set(r) == {("1", "1"), ("1", "0.5"), ("0.5", "1"), ("0.5", "0.5")}, out
    big = r[("1", "1")]
    assert big[2] == "8x8x1" and r[("0.5", "1")][2] == "4x4x1"
    assert big[10] == "no (not trained)" and big[8] == big[9] == "-", big
    assert num(big[4]) > 2048                                     # over the Uno's RAM budget
    assert "does not fit uno, not trained" in err                 # the progress says so, before any training
    fitting = [c for k, c in r.items() if k != ("1", "1")]
    assert all(c[10] == "yes" and c[8].endswith("%") and c[9].split()[0].endswith("%") for c in fitting)
    assert all(num(c[4]) <= 2048 for c in fitting)
    best = [c for c in r.values() if "*best" in c[9]]
    assert len(best) == 1 and best[0][10] == "yes"
    assert "best: r" in out


def test_json_has_accuracy_memory_and_macs_growing_with_resolution_and_width(nucleo):
    r, _ = nucleo
    assert r["board"]["id"] == "nucleo_f446re" and r["kernels"] == "arm-dsp" and r["epochs"] == 1
    assert r["val_samples"] == 287 and "held out" in r["val"]
    c = {(x["resolution"], x["width"]): x for x in r["candidates"]}
    assert set(c) == {(1.0, 1.0), (1.0, 0.5), (0.5, 1.0), (0.5, 0.5)}
    assert all(x["fits"] and x["trained"] for x in c.values())
    for res in (1.0, 0.5):
        assert c[res, 1.0]["macs"] > c[res, 0.5]["macs"] and c[res, 1.0]["arena_bytes"] > c[res, 0.5]["arena_bytes"]
        assert c[res, 1.0]["params"] > c[res, 0.5]["params"]
    for w in (1.0, 0.5):
        assert c[1.0, w]["macs"] > c[0.5, w]["macs"] and c[1.0, w]["arena_bytes"] > c[0.5, w]["arena_bytes"]
        assert c[1.0, w]["latency_us"] > c[0.5, w]["latency_us"] > 0
    for x in c.values():
        assert 0 <= x["int8_accuracy"] <= 1 and 0 <= x["float_accuracy"] <= 1
        assert x["ram_needed"] > x["arena_bytes"] and x["flash_needed"] > 0
    # one epoch on the full-size digits learns something, and int8 keeps it
    assert c[1.0, 1.0]["float_accuracy"] > 0.6
    assert abs(c[1.0, 1.0]["int8_accuracy"] - c[1.0, 1.0]["float_accuracy"]) < 0.05
    best = [x for x in c.values() if x["best"]]
    assert len(best) == 1 and r["best"] == best[0]["name"]
    assert best[0]["int8_accuracy"] == max(x["int8_accuracy"] for x in c.values())


def test_kept_candidates_are_int8_models_that_fit_gives_the_same_numbers_for(nucleo):
    from tinydeploy.compile import PlanOptions, load_model
    from tinydeploy.target import analyze_fit, board_options

    r, keep = nucleo
    assert sorted(p.name for p in keep.iterdir()) == sorted(f"{x['name']}.tflite" for x in r["candidates"])
    assert not [p for p in keep.parent.iterdir() if p.name.startswith(".td-")]
    x = next(x for x in r["candidates"] if x["best"])
    g = load_model(keep / f"{x['name']}.tflite")
    assert {g.tensors[t].dtype for t in (*g.inputs, *g.outputs)} == {"int8"}
    a = analyze_fit(keep / f"{x['name']}.tflite", "nucleo_f446re",
                    board_options("nucleo_f446re", PlanOptions(planner="greedy")), suggest=False)
    assert (a.macs, a.compiled.arena_bytes, a.report.ram_needed, a.report.flash_needed) == \
        (x["macs"], x["arena_bytes"], x["ram_needed"], x["flash_needed"])


def test_when_nothing_fits_the_exit_code_is_1_and_nothing_is_trained(data):
    code, out, err = cli("fit-search", f"{BUILDER}:cnn", "--data", data / "train.npz", "--board", "uno",
                         "--resolutions", "1", "--widths", "1", "--planner", "greedy")
    assert code == 1, out + err
    assert "none fits uno:" in out and "RAM" in out
    assert "training" not in err and "Traceback" not in out + err


@pytest.fixture(scope="module")
def bad_builders(tmp_path_factory):
    d = tmp_path_factory.mktemp("builders")
    (d / "bad.py").write_text("import keras\n\n"
                              "def broken(input_shape, width):\n    raise ValueError('no such width')\n\n"
                              "def not_a_model(input_shape, width):\n    return 3\n\n"
                              "def fixed_shape(input_shape, width):\n"
                              "    inp = keras.Input(shape=(5, 5, 1))\n"
                              "    return keras.Model(inp, keras.layers.Flatten()(inp))\n")
    (d / "crashes.py").write_text("raise RuntimeError('bad import')\n")
    return d


@pytest.mark.parametrize("spec, message", [
    ("search_digits", "is not module:function"),
    ("no_such_module_td:cnn", "no module 'no_such_module_td'"),
    ("{models}/search_digits.py:nope", "has no function 'nope'"),
    ("{models}/not_there.py:cnn", "no such file"),
    ("{bad}/crashes.py:cnn", "importing it failed: RuntimeError: bad import"),
    ("{bad}/bad.py:broken", "failed: ValueError: no such width"),
    ("{bad}/bad.py:not_a_model", "returned int, not a keras.Model"),
    ("{bad}/bad.py:fixed_shape", "returned a model with input [[5, 5, 1]], not [8, 8, 1]"),
])
def test_a_bad_builder_is_one_clear_error(data, bad_builders, spec, message):
    spec = spec.format(models=ROOT / "models", bad=bad_builders)
    code, out, err = cli("fit-search", spec, "--data", data / "train.npz", "--board", "uno", *GRID)
    assert code == 2, out + err
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: builder ") and message in lines[0], err
    assert lines[1].startswith("hint: ") and len(lines) == 2, err


@pytest.mark.parametrize("args, message", [
    (("--resolutions", "1,x"), "--resolutions '1,x': expected positive numbers"),
    (("--widths", "0"), "--widths '0': expected positive numbers"),
    (("--data", "{d}/missing.npz"), "no such file"),
    (("--data", "{d}/train.npz:x,nolabels"), "no array nolabels in train.npz (it holds x, y)"),
    (("--val", "{d}/val.npz"), "no array x in val.npz (it holds images, labels)"),
    (("--keep", "{d}"), "exists and is not an empty folder"),
    (("--board", "host"), "not the host"),
])
def test_bad_options_are_one_clear_error_before_any_work(data, args, message):
    args = tuple(a.format(d=data) for a in args)
    base = {"--data": data / "train.npz", "--board": "uno"}
    base.update(dict(zip(args[::2], args[1::2])))
    flat = [str(v) for kv in base.items() for v in kv]
    code, out, err = cli("fit-search", f"{BUILDER}:cnn", *flat)
    assert code == 2, out + err
    assert message in err.splitlines()[0] and "Traceback" not in err, err
    assert sorted(p.name for p in data.iterdir()) == ["train.npz", "val.npz"]     # nothing written
