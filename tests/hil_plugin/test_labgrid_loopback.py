"""A labgrid board farm on loopback: labgrid-coordinator on 127.0.0.1, two emulated qemu-m4 benches whose
serial ports labgrid-exporter exports through ser2net, two places tagged board=qemu-m4, and a HIL run
with two xdist workers that each acquire one place, flash it through labgrid and test over RFC 2217."""
import json

import pytest
from conftest import ROOT, TEST_MODELS
from tools import require_module, require_tool

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.slow, require_module("labgrid", pip="pip install -e '.[test]'"), require_tool("ser2net")]

HELLO = TEST_MODELS / "hello_world_int8.tflite"
FARM_TEST = f'''
import pytest
from tinydeploy.hil import assert_bit_exact

@pytest.mark.parametrize("i", range(4))
def test_hello_on_a_place(deployed, i):
    d = deployed({str(HELLO)!r})
    x = d.random_inputs(4, seed=i)
    assert_bit_exact(d.run(x), d.reference(x))
    assert d.url.startswith("rfc2217://127.0.0.1:")

def test_hello_baseline(deployed, baseline):
    baseline.check(deployed({str(HELLO)!r}), key="hello_world_int8")
'''


def test_two_workers_two_places(pytester, tmp_path):
    from tinydeploy.testing.labgrid_farm import LoopbackFarm

    committed = json.loads((ROOT / "tests" / "hil" / "baselines.json").read_text())
    (pytester.path / "baselines.json").write_text(json.dumps({"qemu-m4": committed["qemu-m4"]}))
    pytester.makepyfile(test_farm=FARM_TEST)
    report = tmp_path / "report.json"
    with LoopbackFarm(tmp_path / "farm", ["qemu-m4", "qemu-m4"]) as farm:
        assert "board=qemu-m4" in farm.client("-p", "bench-1", "show")
        r = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-p", "no:labgrid", "-W", "ignore::DeprecationWarning",
            "--board", "labgrid:board=qemu-m4", "--labgrid-coordinator", farm.coordinator, "-n", "2",
            "--tinydeploy-report", str(report), timeout=600)
        r.assert_outcomes(passed=5)
        # every place is free again once the workers are done
        for place in farm.places:
            assert "acquired: None" in farm.client("-p", place, "show")
    tests = json.loads(report.read_text())["tests"]
    boards = {t["properties"]["tinydeploy_device"]["board"] for t in tests}
    assert boards == {"qemu-m4@bench-0", "qemu-m4@bench-1"}, boards  # each worker held its own place
    urls = {t["properties"]["tinydeploy_device"]["url"] for t in tests}
    assert len(urls) == 2  # two ser2net ports
    assert [t["properties"]["tinydeploy_baseline"]["status"] for t in tests if "tinydeploy_baseline" in
            t["properties"]] == ["ok"]
