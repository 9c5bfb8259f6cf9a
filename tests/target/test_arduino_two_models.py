"""Several models in one Arduino sketch (issue 15 item 5): the runtime is its own library (TinyDeploy.zip),
the model libraries depend on it and carry only prefixed symbols. Fast: two model libraries + the runtime
compiled and linked together with avr-gcc, every global symbol of a model library prefixed. Slow: a
sketch with both model libraries built by arduino-builder for the Mega 2560 and run in simavr, both
models' outputs bit-exact with LiteRT BUILTIN_REF; the runtime version check (#error) and a missing
runtime stop a real compile with a clear message. Optional --shared-arena: both models in one
td_shared_arena of the larger size, in the link check and in simavr."""
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
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
    """beta: x[1,48] -> FC 6 -> SOFTMAX (a larger arena, other kernels)."""
    rng = np.random.default_rng(22)
    b = ModelBuilder()
    x = b.tensor([1, 48], "int8", 0.04, 7, name="x")
    w = b.tensor([6, 48], "int8", 0.01, 0, data=rng.integers(-127, 128, (6, 48)))
    bias = b.tensor([6], "int32", 0.0008, 0, data=rng.integers(-3000, 3000, 6))
    h = b.tensor([1, 6], "int8", 0.08, -10, name="logits")
    y = b.tensor([1, 6], "int8", 1.0 / 256, -128, name="probs")
    b.op("FULLY_CONNECTED", [x, w, bias], [h], options("FullyConnectedOptions", fusedActivationFunction=0))
    b.op("SOFTMAX", [h], [y], options("SoftmaxOptions", beta=1.0))
    return b.build([x], [y])


def export_two(d, shared_arena: bool = False):
    """Both model ZIPs written into folder d (one TinyDeploy.zip beside them), with their samples."""
    libs = []
    for name, data in (("alpha", mlp_model()), ("beta", softmax_model())):
        (d / f"{name}.tflite").write_bytes(data)
        libs.append(export_arduino(d / f"{name}.tflite", d / f"{name}.zip", board="mega2560", count=N,
                                   shared_arena=shared_arena))
    return d, libs


@pytest.fixture(scope="module")
def two_libs(tmp_path_factory):
    return export_two(tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def shared_libs(tmp_path_factory):
    return export_two(tmp_path_factory.mktemp("shared"), shared_arena=True)


def arena_symbols(elf: Path) -> dict[str, int]:
    """Symbol -> size of the arena storage in a linked AVR ELF (avr-nm -S)."""
    nm = subprocess.run(["avr-nm", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    return {m[2]: int(m[1], 16) for m in re.finditer(r"^[0-9a-f]+ ([0-9a-f]+) [bBdDC] (\w*arena\w*)$", nm, re.M)}


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
    assert arena_symbols(tmp_path / "link_check.elf") == {   # one arena each: the model's + 16 canary bytes
        "alpha_arena_storage": libs[0].model.arena_bytes + 16, "beta_arena_storage": libs[1].model.arena_bytes + 16,
        "alpha_arena": 2, "beta_arena": 2}


@require_tool("avr-gcc", "avr-nm")
def test_shared_arena_links_into_one_buffer_of_the_larger_size(shared_libs, tmp_path):
    from tinydeploy.target.arduino_build import avr_link_check

    d, libs = shared_libs
    a, b = (lib.model.arena_bytes for lib in libs)
    assert a != b
    avr_link_check([libs[0].path, libs[1].path, d / "TinyDeploy.zip"], "mega2560", tmp_path)
    assert arena_symbols(tmp_path / "link_check.elf") == {"td_shared_arena": max(a, b) + 16, "alpha_arena": 2,
                                                          "beta_arena": 2}


def test_shared_arena_refuses_a_model_with_state(tmp_path):
    with pytest.raises(TinyDeployError) as e:
        export_arduino(ROOT / "tests/data/lstm/mnist20.tflite", tmp_path / "l.zip", shared_arena=True)
    assert "keeps state between invokes" in e.value.message and "without --shared-arena" in e.value.hint
    assert list(tmp_path.iterdir()) == []


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
@require_tool("arduino-builder", "simavr", "avr-gcc", "avr-nm")
@pytest.mark.parametrize("shared", [False, True], ids=["own-arenas", "shared-arena"])
def test_a_sketch_with_two_model_libraries_runs_bit_exact_in_simavr(two_libs, shared_libs, tmp_path, shared):
    from tinydeploy.target.arduino_build import compile_sketch, run_check

    d, libs = shared_libs if shared else two_libs
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
        tags = (p, "alpha-after-beta") if p == "alpha" and not shared else (p,)   # shared: beta overwrote it
        for tag in tags:
            got = dict(re.findall(rf"^{tag} (\d+) ([0-9a-f]+)$", res.text, re.M))
            assert sorted(got) == [str(s) for s in range(N)], res.text
            for s in range(N):
                assert bytes.fromhex(got[str(s)]) == want[s].tobytes(), (tag, s)
    a, b = (lib.model.arena_bytes for lib in libs)
    arenas = {k: v for k, v in arena_symbols(build.elf).items() if k not in ("alpha_arena", "beta_arena")}
    assert arenas == ({"td_shared_arena": max(a, b) + 16} if shared else
                      {"alpha_arena_storage": a + 16, "beta_arena_storage": b + 16})


@pytest.mark.slow
@require_tool("arduino-builder", "avr-gcc")
def test_another_runtime_version_stops_the_compile_with_an_error(two_libs, tmp_path):
    from tinydeploy.target.arduino import write_zip
    from tinydeploy.target.arduino_build import compile_example, compile_sketch

    libs = two_libs[1]
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


def test_cli_shared_arena(tmp_path):
    import sys

    (tmp_path / "alpha.tflite").write_bytes(mlp_model())
    r = subprocess.run([sys.executable, "-m", "tinydeploy", "export-arduino", str(tmp_path / "alpha.tflite"), "-o",
                        str(tmp_path / "a.zip"), "--shared-arena"], capture_output=True, text=True, cwd=ROOT,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "arena: td_shared_arena, shared with every model library exported with --shared-arena" in out
    src = zipfile.ZipFile(tmp_path / "a.zip").read("Alpha/src/alpha.c").decode()
    assert "uint8_t td_shared_arena[ALPHA_ARENA_BYTES + 16] __attribute__((common)) TD_ALIGN(16);" in src
    assert "alpha_arena_storage[ALPHA_ARENA_BYTES + 16]" not in src   # the ZIP's own storage is not there


def test_a_runtime_zip_of_other_sources_is_replaced_with_a_warning(tmp_path):
    import sys

    from tinydeploy.target.arduino import write_zip

    (tmp_path / "alpha.tflite").write_bytes(mlp_model())
    write_zip(runtime_library_files(rid="0badc0de"), tmp_path / "TinyDeploy.zip")
    r = subprocess.run([sys.executable, "-m", "tinydeploy", "export-arduino", str(tmp_path / "alpha.tflite"), "-o",
                        str(tmp_path / "a.zip")], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "warning: replaced" in out and "(runtime sources 0badc0de)" in out and "export them again" in out
    rt = zipfile.ZipFile(tmp_path / "TinyDeploy.zip").read("TinyDeploy/src/TinyDeployRuntime.h").decode()
    assert f"TD_RUNTIME_ID 0x{runtime_id()}UL" in rt
    lib = export_arduino(tmp_path / "alpha.tflite", tmp_path / "b.zip")      # the same sources: no warning
    assert lib.replaced_runtime is None
