"""The generated training step and td_train.c compile -Wall -Wextra -Werror clean for Cortex-M4 and AVR
(the boards the later stages train on), as the inference C does (tests/models/test_cross_compile.py)."""
import subprocess

import pytest
from conftest import ROOT
from tools import require_tool
from train_cases import mobile_like

from tinydeploy.compile import parse_model
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.train import build_train_graph, generate_train_c

TARGETS = {
    "cortex-m4": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "avr": ["avr-gcc", "-mmcu=atmega2560"],
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    out = tmp_path_factory.mktemp("train_c")
    models = [("dg", (ROOT / "models" / "digits_cnn_int8.tflite").read_bytes(), "bias:all,fc:last,conv:last2"),
              ("mb", mobile_like(0), "bias:all,fc:last,conv:last3")]
    for name, model, spec in models:
        tc = generate_train_c(build_train_graph(parse_model(model, name), spec), name, momentum=0.9)
        (out / f"{name}.c").write_text(tc.source)
        (out / f"{name}.h").write_text(tc.model.header)
        (out / f"{name}_train.h").write_text(tc.header)
    return out, [out / "dg.c", out / "mb.c", RUNTIME_DIR / "td_train.c"]


@pytest.mark.parametrize("target", [pytest.param(t, marks=require_tool(TARGETS[t][0])) for t in sorted(TARGETS)])
def test_training_c_compiles_warning_free(sources, target):
    out, srcs = sources
    for src in srcs:
        r = subprocess.run([*TARGETS[target], "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{out}",
                            f"-I{RUNTIME_DIR}", "-c", str(src), "-o", str(out / f"{src.stem}_{target}.o")],
                           capture_output=True, text=True, check=False)
        assert r.returncode == 0, f"{src.name} ({target}):\n{r.stderr[-3000:]}"
