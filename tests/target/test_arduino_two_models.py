"""Several models in one Arduino sketch (issue 15 item 5): the runtime is its own library (TinyDeploy.zip),
the model libraries depend on it and carry only prefixed symbols. Fast: two model libraries + the runtime
compiled and linked together with avr-gcc, every global symbol of a model library prefixed. Slow: a
sketch with both model libraries built by arduino-builder for the Mega 2560 and run in simavr, both
models' outputs bit-exact with LiteRT BUILTIN_REF; the runtime version check (#error) and a missing
runtime stop a real compile with a clear message."""
import re
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
from tools import require_tool

from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.arduino import export_arduino
from tinydeploy.target.arduino_runtime import runtime_id, runtime_library_files
from tinydeploy.testing.builder import ModelBuilder, options

N = 3      # samples per model


def mlp_model() -> bytes:
    """alpha: x[1,16] -> FC 12 (relu) -> FC 4."""
    rng = np.random.default_rng(21)
    b = ModelBuilder()
    x = b.tensor([1, 16], "int8", 0.05, -3, name="x")
    h = b.tensor([1, 12], "int8", 0.1, -128, name="h")
    y = b.tensor([1, 4], "int8", 0.2, 5, name="y")
    for src, dst, units, act in ((x, h, 12, 1), (h, y, 4, 0)):
        depth = 16 if src == x else 12
        w = b.tensor([units, depth], "int8", 0.01, 0, data=rng.integers(-127, 128, (units, depth)))
        bias = b.tensor([units], "int32", 0.0005 if src == x else 0.001, 0, data=rng.integers(-2000, 2000, units))
        b.op("FULLY_CONNECTED", [src, w, bias], [dst], options("FullyConnectedOptions", fusedActivationFunction=act))
    return b.build([x], [y])


def softmax_model() -> bytes:
    """beta: x[1,10] -> FC 6 -> SOFTMAX (another arena size, other kernels)."""
    rng = np.random.default_rng(22)
    b = ModelBuilder()
    x = b.tensor([1, 10], "int8", 0.04, 7, name="x")
    w = b.tensor([6, 10], "int8", 0.02, 0, data=rng.integers(-127, 128, (6, 10)))
    bias = b.tensor([6], "int32", 0.0008, 0, data=rng.integers(-3000, 3000, 6))
    h = b.tensor([1, 6], "int8", 0.08, -10, name="logits")
    y = b.tensor([1, 6], "int8", 1.0 / 256, -128, name="probs")
    b.op("FULLY_CONNECTED", [x, w, bias], [h], options("FullyConnectedOptions", fusedActivationFunction=0))
    b.op("SOFTMAX", [h], [y], options("SoftmaxOptions", beta=1.0))
    return b.build([x], [y])


@pytest.fixture(scope="module")
def two_libs(tmp_path_factory):
    """Both model ZIPs written into one folder (one TinyDeploy.zip beside them) and their samples."""
    d = tmp_path_factory.mktemp("two")
    libs = []
    for name, data in (("alpha", mlp_model()), ("beta", softmax_model())):
        (d / f"{name}.tflite").write_bytes(data)
        libs.append(export_arduino(d / f"{name}.tflite", d / f"{name}.zip", board="mega2560", count=N))
    return d, libs


def test_two_model_libraries_share_one_runtime_zip(two_libs):
    d, libs = two_libs
    assert sorted(p.name for p in d.glob("*.zip")) == ["TinyDeploy.zip", "alpha.zip", "beta.zip"]
    for lib in libs:
        assert lib.runtime_path == d / "TinyDeploy.zip"
        names = zipfile.ZipFile(lib.path).namelist()
        srcs = sorted(n.split("/")[-1] for n in names if "/src/" in n and not n.endswith("/"))
        p = lib.model.prefix
        assert srcs == [f"{p}.c", f"{p}.h", f"{p}_device_glue.c"]      # no runtime file in a model library


@require_tool("avr-gcc", "avr-nm")
def test_two_models_and_the_runtime_link_with_prefixed_symbols(two_libs, tmp_path):
    d, libs = two_libs
    zips = [libs[0].path, libs[1].path, d / "TinyDeploy.zip"]
    from tinydeploy.target.arduino_build import avr_link_check

    compiled = avr_link_check(zips, "mega2560", tmp_path)          # duplicates or missing symbols fail
    assert {"alpha.c", "alpha_device_glue.c", "beta.c", "beta_device_glue.c", "td_device.c"} <= set(compiled)
    for lib in libs:
        p = lib.model.prefix
        objs = sorted((tmp_path / "obj").glob(f"{lib.name}-*.o"))
        assert len(objs) == 2
        nm = subprocess.run(["avr-nm", "-g", "--defined-only", *map(str, objs)], capture_output=True, text=True,
                            check=True).stdout
        syms = re.findall(r"^[0-9a-f]+ [A-Z] (\S+)$", nm, re.M)
        assert f"{p}_arena" in syms and f"{p}_invoke" in syms and f"{p}_device_setup" in syms
        assert [s for s in syms if not s.startswith(f"{p}_")] == [], syms


def two_model_sketch(libs, inputs) -> str:
    """Runs alpha and beta in turn on N samples each; prints "<prefix> <sample> <hex>" per output, and
    alpha's output again after beta ran (separate arenas: still intact), then DONE and sleeps."""
    lines = ["#include <alpha.h>", "#include <beta.h>", "#include <string.h>", "#include <avr/interrupt.h>",
             "#include <avr/sleep.h>", ""]
    for lib, x in zip(libs, inputs):
        p, rows = lib.model.prefix, x.reshape(N, -1)
        body = ",\n  ".join("{" + ", ".join(str(int(v)) for v in r) + "}" for r in rows)
        lines += [f"static const int8_t {p}_x[{N}][{rows.shape[1]}] = {{\n  {body}}};"]
    lines += ["""
static void print_hex(const char *tag, uint8_t s, const int8_t *p, uint16_t n) {
  static const char digits[] = "0123456789abcdef";
  Serial.print(tag);
  Serial.print(' ');
  Serial.print(s);
  Serial.print(' ');
  for (uint16_t i = 0; i < n; ++i) {
    Serial.write(digits[(uint8_t)p[i] >> 4]);
    Serial.write(digits[(uint8_t)p[i] & 15u]);
  }
  Serial.println();
}

void setup() {
  Serial.begin(115200);
  for (uint8_t s = 0; s < @N@; ++s) {
    memcpy(alpha_input0(), alpha_x[s], sizeof alpha_x[s]);
    alpha_invoke();
    print_hex("alpha", s, alpha_output0(), ALPHA_OUTPUT0_SIZE);
    memcpy(beta_input0(), beta_x[s], sizeof beta_x[s]);
    beta_invoke();
    print_hex("beta", s, beta_output0(), BETA_OUTPUT0_SIZE);
    print_hex("alpha-after-beta", s, alpha_output0(), ALPHA_OUTPUT0_SIZE);
  }
  Serial.println(F("DONE 2/2"));
  Serial.flush();
  cli();
  set_sleep_mode(SLEEP_MODE_PWR_DOWN);
  sleep_enable();
  sleep_cpu();
}

void loop() {}
""".replace("@N@", str(N))]
    return "\n".join(lines)


@pytest.mark.slow
@require_tool("arduino-builder", "simavr", "avr-gcc")
def test_a_sketch_with_two_model_libraries_runs_bit_exact_in_simavr(two_libs, tmp_path):
    from tinydeploy.target.arduino_build import compile_sketch, run_check

    d, libs = two_libs
    inputs = [lib.inputs[0] for lib in libs]
    ino = tmp_path / "TwoModels" / "TwoModels.ino"
    ino.parent.mkdir()
    ino.write_text(two_model_sketch(libs, inputs))
    build = compile_sketch(ino, [libs[0].path, libs[1].path, d / "TinyDeploy.zip"], "mega2560", tmp_path / "work")
    assert "Multiple libraries" not in build.log
    res = run_check(build.elf, "mega2560")
    assert res.done == (2, 2), res.text
    for lib, x in zip(libs, inputs):
        p = lib.model.prefix
        want = reference_outputs(d / f"{p}.tflite", [x])[0].reshape(N, -1)
        tags = (p, "alpha-after-beta") if p == "alpha" else (p,)
        for tag in tags:
            got = dict(re.findall(rf"^{tag} (\d+) ([0-9a-f]+)$", res.text, re.M))
            assert sorted(got) == [str(s) for s in range(N)], res.text
            for s in range(N):
                assert bytes.fromhex(got[str(s)]) == want[s].tobytes(), (tag, s)
    assert build.ram_bytes > libs[0].model.arena_bytes + libs[1].model.arena_bytes   # one arena each


@pytest.mark.slow
@require_tool("arduino-builder", "avr-gcc")
def test_another_runtime_version_stops_the_compile_with_an_error(two_libs, tmp_path):
    from tinydeploy.target.arduino import write_zip
    from tinydeploy.target.arduino_build import compile_example, compile_sketch

    d, libs = two_libs
    other = write_zip(runtime_library_files(rid="0badc0de"), tmp_path / "old" / "TinyDeploy.zip")
    with pytest.raises(TinyDeployError) as e:
        compile_example(libs[0].path, "Check", "mega2560", tmp_path / "w1", runtime_zip=other)
    assert "#error" in e.value.hint and (f"Alpha needs the TinyDeploy runtime library 0.1.0 ({runtime_id()}) "
                                         "written with it by export-arduino") in e.value.hint
    # the same sketchbook with the matching runtime compiles (the check is not always on)
    build = compile_example(libs[0].path, "Check", "mega2560", tmp_path / "w2")
    assert build.elf.is_file()
    # no runtime installed at all: the compiler stops on the include that says what to install
    example = tmp_path / "w2" / "sketchbook" / "libraries" / "Alpha" / "examples" / "AlphaCheck"
    shutil.copytree(example, tmp_path / "AlphaCheck")
    with pytest.raises(TinyDeployError) as e:
        compile_sketch(tmp_path / "AlphaCheck" / "AlphaCheck.ino", [libs[0].path], "mega2560", tmp_path / "w3")
    assert "fatal error: TinyDeployRuntime.h: No such file" in e.value.hint
