"""Fit check before building: weights + code vs flash, arena + stack + runtime vs SRAM, with the numbers
and the biggest tensors, before any compiler runs; and the emulated boards' linkers agree with it."""
import re

import numpy as np
import pytest
from boards_helpers import MODELS, assert_clean_failure, compilable_model, dense_model, pio_build_cache, tinydeploy  # noqa: F401

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ir import DTYPES
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.target import build as build_mod
from tinydeploy.target import check_fit, check_fit_graph, generate_project, pio_build
from tinydeploy.target.boards import load_board
from tinydeploy.target.fit import const_bytes

pytestmark = pytest.mark.usefixtures("pio_build_cache")  # imported fixture: one build cache per run


def _no_codegen(*args, **kwargs):
    raise AssertionError("the fit check must reject the model before code generation")


def test_resnet8_on_uno_fails_with_numbers_before_any_compiler(tmp_path, monkeypatch):
    # the numbers the message must quote, from the model file and the board profile
    g = load_model(MODELS["resnet8"])
    const = {t for op in g.ops for t in op.inputs if t >= 0 and g.tensors[t].is_const}
    weights = sum(int(np.prod(g.tensors[t].shape)) * np.dtype(DTYPES[g.tensors[t].dtype][0]).itemsize for t in const)
    biggest = max(const, key=lambda t: g.tensors[t].nbytes)
    uno = load_board("uno")
    assert weights > uno.flash_budget
    monkeypatch.setattr(build_mod, "compile_graph", _no_codegen)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))         # no compiler could run anyway
    out = tmp_path / "proj"
    with pytest.raises(TinyDeployError) as e:
        generate_project(MODELS["resnet8"], "uno", out)
    msg, hint = e.value.message, e.value.hint
    assert msg.startswith("resnet8_int8.tflite does not fit uno (Arduino Uno)")
    assert f"flash needs {weights + uno.reserved_flash:,} B of {uno.flash_budget:,} B" in msg
    assert "RAM needs" in msg and f"of {uno.ram_budget:,} B" in msg
    assert f"weights {weights:,}" in hint and "arena>= " in hint and "Biggest tensors:" in hint
    assert f"{g.tensors[biggest].name.split(';')[0]} {g.tensors[biggest].nbytes:,} B (flash)" in hint
    assert "It may fit:" in hint and "esp32dev" in hint
    assert not out.exists()


def test_cli_build_too_big_model(tmp_path):
    out = tmp_path / "proj"
    text = assert_clean_failure(tinydeploy("build", MODELS["resnet8"], "--board", "uno", "-o", out),
                                "does not fit uno", "32,256", "Biggest tensors")
    assert not out.exists() and "Traceback" not in text


@pytest.mark.parametrize("model,board", [("kws", "uno"), ("kws", "mega2560"), ("kws", "simavr-mega"),
                                         ("resnet8", "mega2560")])
def test_models_that_do_not_fit_the_avr_sram(model, board):
    r = check_fit_graph(load_model(MODELS[model]), board, model)
    assert not r.fits and not r.fits_ram
    with pytest.raises(TinyDeployError, match="RAM needs"):
        r.raise_if_too_big()


@pytest.mark.parametrize("model,board", [("hello_world", "uno"), ("hello_world", "simavr-mega"),
                                         ("kws", "esp32dev"), ("kws", "qemu-m4"), ("resnet8", "qemu-m4"),
                                         ("resnet8", "esp32dev"), ("resnet8", "nucleo_f446re")])
def test_graph_lower_bounds_accept_models_that_fit(model, board):
    assert check_fit_graph(load_model(MODELS[model]), board, model).fits


@pytest.mark.parametrize("name", ["hello_world", "kws", "resnet8", "digits_mlp", "digits_cnn"])
def test_exact_check_counts_the_generated_constants_and_the_plan(name):
    path = compilable_model(name)
    g = load_model(path)
    m = compile_graph(g, source_name=path.name)
    consts, arrays = const_bytes(m)
    assert consts >= m.weights_bytes > 0 and arrays[0][1] == max(n for _, n in arrays)
    for board in ("qemu-m4", "uno", "esp32dev"):
        exact, low = check_fit(m, board), check_fit_graph(g, board, path.name)
        items = dict(exact.ram_items)
        assert items["arena"] == m.arena_bytes and dict(exact.flash_items)["weights"] == consts
        # the graph-only check is a lower bound of the exact one: it never rejects a model that fits
        assert low.flash_needed <= exact.flash_needed and low.ram_needed <= exact.ram_needed
        flash_line, ram_line = exact.lines()
        assert f"of {exact.board.flash_budget:,} B" in flash_line and f"of {exact.board.ram_budget:,} B" in ram_line


def test_hello_world_fits_the_uno():
    g = load_model(MODELS["hello_world"])
    r = check_fit(compile_graph(g), "uno")
    assert r.fits, r.lines()
    assert "weights copied to SRAM" in " ".join(n for n, _ in r.ram_items)   # AVR: honest about SRAM


@pytest.mark.slow
def test_emulated_board_linker_rejects_what_the_real_chip_could_not_hold(tmp_path):
    """An 8,000-byte input tensor: the fit check says no for the Mega's 8 KB SRAM; forced past it, the
    simavr-mega link (sized like the real ATmega2560) fails the same way, and the PlatformIO failure
    shows its last lines and keeps the project folder."""
    model = dense_model(tmp_path / "wide.tflite", 8000, 4)
    with pytest.raises(TinyDeployError, match="does not fit simavr-mega"):
        generate_project(model, "simavr-mega", tmp_path / "checked")
    assert not (tmp_path / "checked").exists()
    proj = generate_project(model, "simavr-mega", tmp_path / "forced", fit_check=False, n_samples=1)
    assert not proj.fit.fits
    with pytest.raises(TinyDeployError) as e:
        pio_build(proj)
    assert "`pio run -e simavr-mega` failed" in e.value.message
    hint = e.value.hint
    assert f"the project is kept in {proj.path}" in hint and "last lines of the output" in hint
    assert re.search(r"section .\.(data|bss). is not within region .data.|region .* overflowed", hint), hint
    assert "[FAILED]" in hint
    assert (proj.path / "platformio.ini").exists() and (proj.path / "lib" / "wide" / "src").is_dir()
