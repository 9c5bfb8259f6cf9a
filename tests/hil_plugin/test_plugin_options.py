"""Plan options of the HIL plugin reach the model it deploys: --tinydeploy-patch and
--tinydeploy-input-outside-arena (the plugin's --patch / --input-outside-arena), on the host board, bit-exact."""
import json
import re

import pytest
from conftest import ROOT

pytest_plugins = ["pytester"]

DIGITS = ROOT / "models" / "digits_cnn_int8.tflite"

SUITE = f'''
import json


def test_deployed_options(deployed):
    d = deployed({str(DIGITS)!r})
    m = d.compiled
    x = d.random_inputs(3, seed=1)
    assert [o.tolist() for o in d.run(x).outputs] == [o.tolist() for o in d.reference(x)]
    print("PLAN " + json.dumps({{"outside": m.options.input_outside_arena, "patch": m.options.patch,
                                "external": list(m.graph.external), "arena": m.arena_bytes,
                                "from_input": bool(m.patch and m.patch.from_input)}}))
'''


def deployed_plan(pytester: pytest.Pytester, *args: str) -> dict:
    r = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:labgrid", "-s", "--board", "host", *args,
                                      timeout=600)
    r.assert_outcomes(passed=1)
    return json.loads(re.search(r"PLAN (\{.*\})", r.stdout.str()).group(1))


def test_input_outside_arena_reaches_the_deployed_model(pytester):
    pytester.makepyfile(test_suite=SUITE)
    plain = deployed_plan(pytester)
    outside = deployed_plan(pytester, "--tinydeploy-patch", "auto", "--tinydeploy-input-outside-arena")
    assert not plain["outside"] and plain["external"] == [] and plain["patch"] == "off"
    # the input stays in the caller's buffer and the patch stage's tiles read it there
    assert outside["outside"] and outside["external"] == [0] and outside["patch"] == "auto" and outside["from_input"]
    assert outside["arena"] < plain["arena"]


def test_tinydeploy_test_passes_input_outside_arena(tmp_path):
    """`tinydeploy test --input-outside-arena` hands the flag to the suite's pytest: the board runs that plan."""
    import subprocess
    import sys

    from tinydeploy.compile import PlanOptions, compile_graph, load_model
    from tinydeploy.target import board_options

    def arena(outside: bool) -> int:
        opts = board_options("host", PlanOptions(patch="auto", input_outside_arena=outside))
        return compile_graph(load_model(DIGITS), options=opts).arena_bytes

    r = subprocess.run([sys.executable, "-m", "tinydeploy", "test", str(DIGITS), "--board", "host", "--samples", "2",
                        "--patch", "auto", "--input-outside-arena", "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    tests = json.loads((tmp_path / "r.json").read_text())["tests"]
    bit_exact = next(t for t in tests if t["nodeid"].endswith("test_bit_exact[host]"))
    assert bit_exact["outcome"] == "passed"
    assert bit_exact["properties"]["tinydeploy_metrics"]["arena_bytes"] == arena(True) < arena(False)
