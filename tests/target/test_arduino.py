"""Arduino library ZIP (`tinydeploy export-arduino`): layout, avr-gcc on every src file, CLI, fit refusals;
slow: the real arduino-builder, the Check example in simavr and the Serial example over a simavr PTY,
bit-exact with LiteRT.

Models: hello_world_int8 (uno + mega), a built two-output FC model (mega; uno too: its weights are in flash), and
models/digits_mlp_int8 / digits_cnn_int8 (mega): they must exist and compile.
"""
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from boards_helpers import why_not_compilable
from conftest import ROOT, TEST_MODELS
from tools import require_tool

from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.arduino import check_prefix, export_arduino, library_name
from tinydeploy.target.arduino_build import (
    SimavrPty,
    avr_link_check,
    clean_simavr_log,
    compile_example,
    parse_check,
    run_check,
)
from tinydeploy.target.arduino_runtime import runtime_id, runtime_sources
from tinydeploy.testing.builder import ModelBuilder, options, single_fc

HELLO = TEST_MODELS / "hello_world_int8.tflite"
DIGITS = ROOT / "models"
needs_avr = require_tool("avr-gcc")
needs_arduino = require_tool("arduino-builder", "simavr", "avr-gcc")


def two_output_model() -> bytes:
    """x[1,64] -> FC 60 (relu) and FC 10: 4.5 KB of weights (flash on AVR), a 120-hex-digit OUT line."""
    rng = np.random.default_rng(7)
    b = ModelBuilder()
    x = b.tensor([1, 64], "int8", 0.05, -3, name="pixels")
    outs = []
    for units, act, zp in ((60, 1, -128), (10, 0, 4)):
        w = b.tensor([units, 64], "int8", 0.01, 0, data=rng.integers(-127, 128, (units, 64)))
        bias = b.tensor([units], "int32", 0.0005, 0, data=rng.integers(-3000, 3000, units))
        y = b.tensor([1, units], "int8", 0.2, zp, name=f"out{units}")
        b.op("FULLY_CONNECTED", [x, w, bias], [y], options("FullyConnectedOptions", fusedActivationFunction=act))
        outs.append(y)
    return b.build([x], outs)


def wide_input_model() -> bytes:
    """x[1,2048] -> FC 10: its 2 KB input alone is more than the uno's SRAM (the weights, 20 KB, are in flash)."""
    return single_fc(2048, 10, 8, names=("wide", "out"))


@pytest.fixture(scope="session")
def fc2(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("models") / "fc_two_out.tflite"
    p.write_bytes(two_output_model())
    return p


def digits(name: str) -> Path:
    """A committed digits model: a missing file or a compile error fails the test (the reason in the message)."""
    p = DIGITS / f"{name}.tflite"
    why = why_not_compilable(p)
    if why:
        pytest.fail(f"{name} must compile: {why}", pytrace=False)
    return p


def digits_samples(tmp_path: Path, name: str, n: int) -> Path:
    d = np.load(DIGITS / "digits_test.npz")
    x = d["x_mlp_int8"] if "mlp" in name else d["x_int8"]
    p = tmp_path / "samples.npy"
    np.save(p, x[:n])
    return p


def tinydeploy(*args):
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


# ---- fast: the ZIP itself ------------------------------------------------------------------------------

def test_library_name_and_prefix_checks():
    assert library_name("hello_world_int8") == "HelloWorldInt8"
    assert library_name("digits_mlp_int8") == "DigitsMlpInt8"
    assert library_name("kws") == "Kws"
    check_prefix("my_model")
    check_prefix("td_device_glue")           # the glue is <prefix>_device_glue.c now: no clash
    for bad in ("Print", "wiring", "td_conv", "TinyDeploy", "tiny_deploy", "TinyDeployRuntime", "td_board",
                "td_arm_simd", "main", "1abc", "a-b"):
        with pytest.raises(TinyDeployError):
            check_prefix(bad)


def test_zip_layout(tmp_path):
    lib = export_arduino(HELLO, tmp_path / "hello.zip", board="uno", count=4)
    # the model library and the runtime library beside it; no temp file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TinyDeploy.zip", "hello.zip"]
    assert lib.runtime_path == tmp_path / "TinyDeploy.zip"
    z = zipfile.ZipFile(tmp_path / "hello.zip")
    names = z.namelist()
    assert {n.split("/")[0] for n in names} == {"HelloWorldInt8"}
    props = dict(line.split("=", 1) for line in z.read("HelloWorldInt8/library.properties").decode().splitlines()
                 if line and not line.startswith("#"))
    for key in ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
                "architectures", "includes"):
        assert props.get(key), key
    assert props["name"] == "HelloWorldInt8" and props["includes"] == "hello_world_int8.h"
    assert props["depends"] == "TinyDeploy"
    assert props["category"] == "Data Processing" and re.match(r"^\d+\.\d+\.\d+$", props["version"])
    kw = z.read("HelloWorldInt8/keywords.txt").decode()
    assert "hello_world_int8_invoke\tKEYWORD2" in kw and "HELLO_WORLD_INT8_ARENA_BYTES\tLITERAL1" in kw
    src = {n.split("/")[-1] for n in names if n.startswith("HelloWorldInt8/src/") and not n.endswith("/")}
    assert src == {"hello_world_int8.c", "hello_world_int8.h", "hello_world_int8_device_glue.c"}   # no runtime
    assert not [n for n in names if n.count("/") > 2 and n.startswith("HelloWorldInt8/src/")]   # flat src/
    ex = "HelloWorldInt8/examples"
    for f in ("HelloWorldInt8Check/HelloWorldInt8Check.ino", "HelloWorldInt8Check/check_data.h",
              "HelloWorldInt8Serial/HelloWorldInt8Serial.ino"):
        assert f"{ex}/{f}" in names
    check = z.read(f"{ex}/HelloWorldInt8Check/HelloWorldInt8Check.ino").decode()
    assert "@" not in re.sub(r"/\*.*?\*/", "", check, flags=re.DOTALL)          # every placeholder filled
    assert "#include <hello_world_int8.h>" in check
    data = z.read(f"{ex}/HelloWorldInt8Check/check_data.h").decode()
    assert "#define CHECK_NUM_SAMPLES 4u" in data and "PROGMEM" in data
    # the embedded reference outputs are LiteRT's for the embedded inputs
    want = reference_outputs(HELLO, lib.inputs)[0]
    assert np.array_equal(want, lib.expected[0]) and lib.inputs[0].shape == (4, 1, 1)
    rows = re.findall(r"\{(0x[0-9a-f]{2})\}", data.split("check_expected")[1])
    assert [int(r, 16) for r in rows] == list(want.reshape(-1).view(np.uint8))
    glue = z.read("HelloWorldInt8/src/hello_world_int8_device_glue.c").decode()
    assert "hello_world_int8_device_setup(void)" in glue and "td_model_setup" not in glue and "@" not in glue
    serial = z.read(f"{ex}/HelloWorldInt8Serial/HelloWorldInt8Serial.ino").decode()
    assert "dev = hello_world_int8_device_setup();" in serial
    header = z.read("HelloWorldInt8/src/hello_world_int8.h").decode()
    assert f"#if !defined(TD_RUNTIME_ID) || TD_RUNTIME_ID != 0x{runtime_id()}UL\n#error" in header
    # the runtime library: every runtime source flat (arm/ too), td_board.h and the version header
    rt = zipfile.ZipFile(tmp_path / "TinyDeploy.zip")
    rnames = rt.namelist()
    assert {n.split("/")[0] for n in rnames} == {"TinyDeploy"}
    rsrc = {n.split("/")[-1] for n in rnames if n.startswith("TinyDeploy/src/") and not n.endswith("/")}
    assert rsrc == set(runtime_sources()) | {"TinyDeployRuntime.h"}
    assert {"td_arm_fully_connected.c", "td_device.c", "td_board.h", "tinydeploy.h"} <= rsrc
    rprops = rt.read("TinyDeploy/library.properties").decode()
    assert "name=TinyDeploy\n" in rprops and "version=0.1.0\n" in rprops and "includes=tinydeploy.h" in rprops
    assert f"#define TD_RUNTIME_ID 0x{runtime_id()}UL" in rt.read("TinyDeploy/src/TinyDeployRuntime.h").decode()
    # same model, same options: the same bytes; another model: the same runtime ZIP
    runtime = (tmp_path / "TinyDeploy.zip").read_bytes()
    export_arduino(HELLO, tmp_path / "again.zip", board="uno", count=4)
    assert (tmp_path / "again.zip").read_bytes() == (tmp_path / "hello.zip").read_bytes()
    export_arduino(HELLO, tmp_path / "other.zip", board="mega2560", name="other")
    assert (tmp_path / "TinyDeploy.zip").read_bytes() == runtime


@needs_avr
@pytest.mark.parametrize("board", ["uno", "mega2560"])
def test_every_src_file_compiles_and_links_with_avr_gcc(tmp_path, fc2, board):
    model = HELLO if board == "uno" else fc2
    lib = export_arduino(model, tmp_path / "lib.zip", board=board)
    compiled = avr_link_check(tmp_path / "lib.zip", board, tmp_path / "avr")   # + TinyDeploy.zip beside it
    runtime_c = [n for n in runtime_sources() if n.endswith(".c")]               # arm/: empty units
    assert sorted(compiled) == sorted(runtime_c + [f"{lib.model.prefix}.c", f"{lib.model.prefix}_device_glue.c"])


def test_cli_export_with_sample(tmp_path):
    x = np.array([[[5]], [[-100]], [[77]]], np.int8)
    np.save(tmp_path / "x.npy", x)
    r = tinydeploy("export-arduino", HELLO, "-o", tmp_path / "hw.zip", "--sample", tmp_path / "x.npy",
                   "--board", "uno", "--count", "2", "--name", "hello", "--planner", "greedy")
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "Hello" in r.stdout and "fit check" in r.stdout
    out = " ".join(r.stdout.split())
    assert f"TinyDeploy.zip: the runtime library TinyDeploy 0.1.0 (sources {runtime_id()})" in out
    assert "Install both ZIPs" in out and "not for a ZIP added by hand" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["TinyDeploy.zip", "hw.zip", "x.npy"]
    z = zipfile.ZipFile(tmp_path / "hw.zip")
    data = z.read("Hello/examples/HelloCheck/check_data.h").decode()
    assert "CHECK_NUM_SAMPLES 2u" in data
    assert re.findall(r"\{(0x..)\}", data.split("check_expected")[0]) == ["0x05", "0x9c"]
    want = reference_outputs(HELLO, [x[:2]])[0].reshape(-1).view(np.uint8)
    assert [int(v, 16) for v in re.findall(r"\{(0x..)\}", data.split("check_expected")[1])] == list(want)
    assert "includes=hello.h" in z.read("Hello/library.properties").decode()
    assert "planner=greedy" in z.read("Hello/src/hello.h").decode()


def test_fit_refusals(tmp_path, fc2):
    wide = tmp_path / "wide.tflite"
    wide.write_bytes(wide_input_model())
    with pytest.raises(TinyDeployError) as e:
        export_arduino(wide, tmp_path / "a.zip", board="uno")
    assert "does not fit uno" in e.value.message and "mega2560" in e.value.hint
    assert not (tmp_path / "a.zip").exists()
    lib = export_arduino(wide, tmp_path / "b.zip", board="uno", fit_check=False)   # the user's call
    assert not lib.fit["check"].fits and (tmp_path / "b.zip").exists()
    before = (tmp_path / "b.zip").read_bytes()
    with pytest.raises(TinyDeployError):                                 # a failed export keeps the old ZIP
        export_arduino(wide, tmp_path / "b.zip", board="uno")
    assert (tmp_path / "b.zip").read_bytes() == before
    # fc2's 4.5 KB of weights are in flash (TD_WEIGHTS_MEM): it fits the uno's 2 KB of SRAM now
    assert export_arduino(fc2, tmp_path / "d.zip", board="uno").fit["check"].fits
    lib = export_arduino(fc2, tmp_path / "c.zip", board="mega2560")
    assert lib.fit["check"].fits and lib.fit["serial"].fits
    assert lib.fit["serial"].ram_needed > lib.fit["check"].ram_needed   # the protocol's buffers
    with pytest.raises(TinyDeployError) as e:                            # refused before compiling
        export_arduino(TEST_MODELS / "resnet8_int8.tflite", tmp_path / "r.zip", board="uno")
    assert "does not fit uno" in e.value.message
    assert not (tmp_path / "r.zip").exists()


def test_bad_options(tmp_path, capsys):
    """One clear line (+ hint), exit status 1, no traceback, no ZIP."""
    from tinydeploy.cli import main

    (tmp_path / "folder.zip").mkdir()
    np.save(tmp_path / "wrong.npy", np.zeros((2, 3), np.int8))
    np.save(tmp_path / "float.npy", np.zeros((2, 1), np.float32))
    x = tmp_path / "x.zip"
    cases = [
        (["-o", tmp_path / "x.tar"], ".zip"),
        (["-o", tmp_path / "folder.zip"], "is a folder"),
        (["-o", x, "--count", "0"], "--count"),
        (["-o", x, "--name", "Print"], "Arduino core file Print"),
        (["-o", x, "--name", "tinydeploy"], "runtime file tinydeploy.h"),
        (["-o", x, "--name", "td_conv"], "runtime file td_conv"),
        (["-o", x, "--name", "9lives"], "C identifier"),
        (["-o", x, "--name", "tiny_deploy"], "runtime library"),
        (["-o", tmp_path / "TinyDeploy.zip"], "runtime library's ZIP"),
        (["-o", x, "--board", "megga"], "unknown board"),
        (["-o", x, "--board", "host"], "host"),
        (["-o", x, "--sample", tmp_path / "wrong.npy"], "shape"),
        (["-o", x, "--sample", tmp_path / "float.npy"], "int8"),
        (["-o", x, "--sample", tmp_path / "missing.npy"], "not found"),
        (["-o", x, "--planner", "magic"], "planner"),
    ]
    for args, word in cases:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sys, "argv", ["tinydeploy", "export-arduino", str(HELLO), *map(str, args)])
            with pytest.raises(SystemExit) as ex:
                main()
        err = capsys.readouterr().err
        assert ex.value.code == 1 and word in err and "Traceback" not in err, (args, err)
    r = tinydeploy("export-arduino", tmp_path / "nope.tflite", "-o", x)
    assert r.returncode == 1 and "not found" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["float.npy", "folder.zip", "wrong.npy"]


def test_clean_simavr_log_joins_split_lines():
    log = ("\x1b[32mCYCLE_UNIT cycles..\n\x1b[0m\x1b[32mOUT 0 0 " + "ab" * 36 + "\n\x1b[0m\x1b[32m" + "cd" * 4
           + "..\n\x1b[0mLoaded 3868 .text at address 0x0\n\x1b[32mDONE 1/1..\n\x1b[0m")
    text = clean_simavr_log(log)
    assert text.splitlines() == ["CYCLE_UNIT cycles", "OUT 0 0 " + "ab" * 36 + "cd" * 4, "DONE 1/1"]
    run = parse_check(text)
    assert run.done == (1, 1) and run.run.outputs[(0, 0)] == bytes.fromhex("ab" * 36 + "cd" * 4)


# ---- slow: arduino-builder + simavr ----------------------------------------------------------------------

@pytest.fixture(scope="session")
def core_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("arduino-core-cache")


CHECK_CASES = [("hello", "uno"), ("hello", "mega2560"), ("fc2", "mega2560"), ("fc2", "uno"),
               ("digits_mlp_int8", "mega2560"), ("digits_cnn_int8", "mega2560")]


def _model_and_samples(which: str, tmp_path: Path, fc2: Path, n: int):
    if which == "hello":
        return HELLO, None
    if which == "fc2":
        return fc2, None
    return digits(which), digits_samples(tmp_path, which, n)


@pytest.mark.slow
@needs_arduino
@pytest.mark.parametrize("which,board", CHECK_CASES, ids=[f"{m}-{b}" for m, b in CHECK_CASES])
def test_check_example_in_simavr(tmp_path, fc2, core_cache, which, board):
    model, samples = _model_and_samples(which, tmp_path, fc2, 5)
    lib = export_arduino(model, tmp_path / "lib.zip", board=board, samples=samples, count=5)
    build = compile_example(tmp_path / "lib.zip", "Check", board, tmp_path / "work", cache_dir=core_cache)
    ours = [line for line in build.log.splitlines() if "warning" in line.lower() and lib.name in line]
    assert ours == []                                                    # -Wall (compiler.warning_level=all)
    res = run_check(build.elf, board)
    n = lib.inputs[0].shape[0]
    assert res.failed == [] and res.passed == list(range(n)) and res.done == (n, n), res.text
    want = reference_outputs(model, lib.inputs)
    got = res.run.output_arrays(lib.model.graph)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.tobytes() == w.tobytes(), f"output {k}"
    assert res.run.cycle_unit == "cycles" and all(res.run.cycles[s] > 0 for s in range(n))
    assert res.stack and 0 < res.stack < lib.board.stack_bytes     # the stack budget holds
    # the fit estimate is not below what the linker reports
    fit = lib.fit["check"]
    assert fit.flash_needed >= build.flash_bytes
    assert fit.ram_needed - lib.board.stack_bytes >= build.ram_bytes, (fit.lines(), build.ram_bytes)


SERIAL_CASES = [("hello", "mega2560"), ("hello", "uno"), ("fc2", "mega2560"), ("digits_mlp_int8", "mega2560"),
                ("digits_cnn_int8", "mega2560")]


@pytest.mark.slow
@needs_arduino
@pytest.mark.parametrize("which,board", SERIAL_CASES, ids=[f"{m}-{b}" for m, b in SERIAL_CASES])
def test_serial_example_over_simavr_pty(tmp_path, fc2, core_cache, which, board):
    from tinydeploy.compile.tflite.reader import load_model
    from tinydeploy.link.client import DeviceClient

    model, samples = _model_and_samples(which, tmp_path, fc2, 6)
    lib = export_arduino(model, tmp_path / "lib.zip", board=board)
    build = compile_example(tmp_path / "lib.zip", "Serial", board, tmp_path / "work", cache_dir=core_cache)
    fit = lib.fit["serial"]
    assert fit.flash_needed >= build.flash_bytes
    assert fit.ram_needed - lib.board.stack_bytes >= build.ram_bytes, (fit.lines(), build.ram_bytes)
    g = load_model(model)
    if samples is not None:
        xs = [np.load(samples)]
    else:
        from tinydeploy.evaluate.data import random_inputs
        xs = random_inputs(g, 6, np.random.default_rng(3))
    want = reference_outputs(model, xs)
    sizes = [g.tensors[t].nbytes for t in g.outputs]
    with SimavrPty(build.elf, board, tmp_path) as pty:
        client = DeviceClient(pty.url, sizes, expect_sha256=g.sha256)
        hello = client.connect()
        assert hello.arena_bytes == lib.model.arena_bytes and hello.clock_hz == 16_000_000
        for s in range(xs[0].shape[0]):
            res = client.run([x[s].tobytes() for x in xs])
            assert res.outputs == [w[s].tobytes() for w in want], f"sample {s}"
            assert res.count > 0
        stats = client.stats()
        client.close()
    assert stats.canary_ok and stats.invokes == xs[0].shape[0] and 0 < stats.stack_peak_bytes < 1024
