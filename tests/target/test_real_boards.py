"""Real boards (ESP32, STM32, Arduino, nRF52, RP2040) whose PlatformIO platforms can't be installed offline:
the generated project passes PlatformIO's own ProjectConfig, and the model + every kernel cross-compile
warning-free (-Wall -Wextra -Werror) with the nearest real toolchain, for every shared model that fits."""
import functools

import pytest
from boards_helpers import MODELS, assert_clean_failure, path_without, tinydeploy

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.target import check_fit, generate_project, pio_build
from tinydeploy.target.boards import load_board
from tinydeploy.target.crosscheck import cross_compile, validate_platformio_ini

REAL = ["esp32dev", "esp32-s3", "esp32-c3", "nucleo_f446re", "nucleo_h743zi", "nucleo_l4r5zi", "uno", "mega2560",
        "nano33ble", "pico"]
SHARED = ["hello_world", "kws", "resnet8"]


@functools.lru_cache(maxsize=None)
def compiled(name):
    path = MODELS[name]
    return compile_graph(load_model(path), source_name=path.name)


@pytest.mark.parametrize("board_id", REAL)
def test_generated_project_is_valid_for_platformio(board_id, tmp_path):
    b = load_board(board_id)
    proj = generate_project(MODELS["hello_world"], b, tmp_path / "proj", with_reference=False)
    ini = (proj.path / "platformio.ini").read_text()
    assert f"[env:{b.id}]" in ini
    for key, value in b.pio_env.items():
        assert f"{key} = {value}" in ini
    assert f"monitor_speed = {b.baud}" in ini and "test_framework" not in ini   # no emulator test on real boards
    assert validate_platformio_ini(proj.path / "platformio.ini") == []
    for p in ("src/main.cpp", "include/td_model.h", "include/td_samples.h", "lib/tinydeploy/library.json",
              "lib/tinydeploy/src/tinydeploy.h", "lib/hello_world_int8/library.json",
              "lib/hello_world_int8/src/hello_world_int8.c"):
        assert (proj.path / p).is_file(), p
    with pytest.raises(TinyDeployError, match="cannot be installed offline"):
        pio_build(proj)


def _fitting(board_id):
    return [m for m in SHARED if check_fit(compiled(m), board_id).fits]


@pytest.mark.slow
@pytest.mark.parametrize("board_id", REAL)
def test_model_and_kernels_cross_compile_warning_free(board_id):
    b = load_board(board_id)
    models = _fitting(board_id)
    assert "hello_world" in models
    if b.kernel_variant != "avr":
        assert models == SHARED, f"{board_id}: only {models} fit"
    for name in models:
        m = compiled(name)
        res = cross_compile(m, b)
        assert res.cc == b.toolchain.cc
        std = "-std=gnu99" if b.kernel_variant == "avr" else "-std=c99"   # AVR: the __memx weights path
        for flag in ("-Wall", "-Wextra", "-Werror", std, *b.toolchain.cflags):
            assert flag in res.flags
        assert res.files[0] == f"{m.prefix}.c" and "td_conv.c" in res.files and len(res.files) > 10
        assert res.model_text_bytes >= m.weights_bytes > 0 and res.runtime_text_bytes > 1000
        assert "warning-free" in res.summary()


def test_a_warning_fails_the_cross_compile():
    m = compiled("hello_world")
    bad = type(m)(**{**m.__dict__, "source": m.source + "\nstatic int td_unused_helper(int x) { return x; }\n"})
    with pytest.raises(TinyDeployError) as e:
        cross_compile(bad, "nucleo_f446re")
    assert "arm-none-eabi-gcc failed on hello_world_int8.c" in e.value.message
    assert "td_unused_helper" in e.value.hint and "-Werror" in e.value.hint


def test_projectconfig_catches_bad_values(tmp_path):
    ini = tmp_path / "platformio.ini"
    ini.write_text("[env:x]\nplatform = espressif32\nboard = esp32dev\nmonitor_speed = fast\n")
    problems = " ".join(validate_platformio_ini(ini))
    assert "ProjectOptionValueError" in problems and "monitor_speed" in problems and "'fast'" in problems
    ini.write_text("[env:x]\nplatform = espressif32\nboard = esp32dev\nno_such_option = 1\n")
    assert any("no_such_option" in p for p in validate_platformio_ini(ini))


def test_missing_cross_compiler_names_the_apt_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "avr-"))
    with pytest.raises(TinyDeployError) as e:
        cross_compile(compiled("hello_world"), "uno")
    assert "avr-gcc not found" in e.value.message and "apt-get install gcc-avr" in e.value.hint


@pytest.mark.slow
def test_cli_build_for_a_real_board_says_what_was_and_was_not_built(tmp_path):
    out = tmp_path / "esp32proj"
    r = tinydeploy("build", MODELS["kws"], "--board", "esp32", "-o", out, "--n-samples", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    text = " ".join(r.stdout.split())
    assert "wrote" in text and "for esp32dev" in text
    assert "platformio.ini valid (PlatformIO ProjectConfig)" in text
    assert "pio run NOT RUN" in text and "espressif32" in text
    assert "compiled warning-free with xtensa-lx106-elf-gcc" in text.replace("files ", "")
    assert "the Arduino sketch and framework were not compiled" in text
    assert "nearest emulated board: qemu-xtensa" in text
    assert (out / "platformio.ini").is_file() and (out / "lib" / "kws_ref_model" / "library.json").is_file()


def test_cli_build_missing_toolchain(tmp_path):
    import os
    env = {**os.environ, "PATH": path_without(tmp_path, "riscv64-")}
    r = tinydeploy("build", MODELS["hello_world"], "--board", "esp32-c3", "-o", tmp_path / "p", env=env)
    assert_clean_failure(r, "riscv64-unknown-elf-gcc not found", "apt-get install gcc-riscv64-unknown-elf")
