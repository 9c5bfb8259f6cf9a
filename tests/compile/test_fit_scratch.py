"""Kernel scratch against a memory goal (passes/fit_scratch.py): with PlanOptions.arena_limit the ops whose
fast-kernel scratch sets the peak go back to their reference kernels, fewest first, and the mixed model
stays bit-exact on the target; a board's RAM budget is the limit by default."""
import re

import numpy as np
import pytest
from boards_helpers import pio_build_cache  # noqa: F401
from conftest import ROOT

from tinydeploy.compile import PlanOptions, compile_graph, load_model
from tinydeploy.evaluate import reference_outputs, run_on_board
from tinydeploy.target import board_options

VWW = ROOT / "models" / "vww96_int8.tflite"


@pytest.fixture(scope="module")
def vww():
    return load_model(VWW)


def test_the_peak_ops_go_back_to_reference_until_the_arena_fits(vww):
    fast = compile_graph(vww, options=PlanOptions(kernels="arm-dsp"))
    ref = compile_graph(vww, options=PlanOptions())
    assert fast.arena_bytes > ref.arena_bytes + 4000 and not fast.kernel_fallbacks   # im2col and planes
    limit = (fast.arena_bytes + ref.arena_bytes) // 2
    m = compile_graph(vww, options=PlanOptions(kernels="arm-dsp", arena_limit=limit))
    ops = [k for k, _, _ in m.kernel_fallbacks]
    assert m.arena_bytes <= limit and 0 < len(ops) < 5, m.kernel_fallbacks
    assert m.options.reference_ops == tuple(sorted(ops)) and "reference_ops=" in m.options.describe()
    def fast_calls(source: str) -> int:
        return len(re.findall(r"_arm_dsp(_inplace)?\(", source))

    assert 0 < fast_calls(m.source) < fast_calls(fast.source)     # the rest keep their fast kernels
    impossible = compile_graph(vww, options=PlanOptions(kernels="arm-dsp", arena_limit=1000))
    assert impossible.arena_bytes == ref.arena_bytes  # every op with variant scratch back on reference
    assert fast_calls(impossible.source) == 0           # (vww's ops all have some); the fit check says the rest


def test_the_board_budget_is_the_limit():
    opts = board_options("nucleo_f446re")
    assert opts.kernels == "arm-dsp" and 0 < opts.arena_limit < 128 * 1024
    assert board_options("nucleo_f446re", None, "reference").arena_limit == 0


@pytest.mark.slow
@pytest.mark.usefixtures("pio_build_cache")
def test_mixed_kernels_bit_exact_on_qemu_m4(vww, tmp_path):
    fast = compile_graph(vww, options=PlanOptions(kernels="arm-dsp"))
    m = compile_graph(vww, prefix="vww", options=PlanOptions(kernels="arm-dsp", arena_limit=fast.arena_bytes - 4000))
    assert m.kernel_fallbacks
    xs = [np.random.default_rng(5).integers(-128, 128, (2, 1, 96, 96, 3)).astype(np.int8)]
    (run,) = run_on_board([m], [xs], "qemu-m4", tmp_path / "fw")
    want = reference_outputs(VWW, [x.reshape(2, 96, 96, 3)[:, None] for x in xs])[0]
    assert run.outputs[0].reshape(want.shape).tobytes() == want.tobytes()
