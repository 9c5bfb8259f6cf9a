"""Generated C is -Wall -Wextra -Werror clean for Cortex-M4 and AVR, and two models link into one image."""
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, TEST_MODELS

from tinydeploy.compile.compiler import RUNTIME_DIR, compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host

MODELS = [TEST_MODELS / f"{n}.tflite" for n in ("hello_world_int8", "kws_ref_model", "resnet8_int8")] + \
    sorted((ROOT / "models").glob("*.tflite"))
TARGETS = {
    "cortex-m4": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "avr": ["avr-gcc", "-mmcu=atmega2560"],
}


@pytest.mark.slow
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_models_and_runtime_compile_warning_free(tmp_path, target):
    srcs = list(RUNTIME_DIR.glob("*.c"))
    for path in MODELS:
        m = compile_graph(load_model(path))
        biggest = max([m.arena_bytes] + [t.nbytes for t in m.graph.tensors if t.is_const])
        if target == "avr" and biggest > 32767:  # AVR objects are limited to 32 KB: cannot fit anyway
            continue
        (tmp_path / f"{m.prefix}.h").write_text(m.header)
        (tmp_path / f"{m.prefix}.c").write_text(m.source)
        srcs.append(tmp_path / f"{m.prefix}.c")
    for src in srcs:
        r = subprocess.run([*TARGETS[target], "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{tmp_path}",
                            f"-I{RUNTIME_DIR}", "-c", str(src), "-o", str(tmp_path / (Path(src).stem + ".o"))],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{src.name} ({target}):\n{r.stderr[-3000:]}"


def test_two_models_link_into_one_binary():
    a = compile_graph(load_model(TEST_MODELS / "hello_world_int8.tflite"), prefix="first")
    b = compile_graph(load_model(TEST_MODELS / "hello_world_int8.tflite"), prefix="second")
    exe = build_host([a, b])
    xs = random_inputs(a.graph, 8, np.random.default_rng(2))
    ref = reference_outputs(TEST_MODELS / "hello_world_int8.tflite", xs)[0]
    assert np.array_equal(exe.run(0, xs)[0], ref) and np.array_equal(exe.run(1, xs)[0], ref)
    for name in ("invoke", "arena", "inputs", "outputs", "set_arena"):
        assert f"first_{name}" in a.source + a.header and f"second_{name}" in b.source + b.header
