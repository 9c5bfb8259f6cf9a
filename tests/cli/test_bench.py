"""`tinydeploy bench`: exact instruction counts (QEMU TCG plugin), per-layer breakdown, sizes, --compare,
--json, and simavr cycles; errors for boards it cannot count on."""
import json
import subprocess
import sys

import pytest
from conftest import TEST_MODELS
from tools import require_tool

HELLO = TEST_MODELS / "hello_world_int8.tflite"
SYSTICK_STEP = 40  # qemu-m4: SysTick at 25 MHz under -icount shift=0


def tinydeploy(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "tinydeploy", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def m4_json(tmp_path_factory):
    """One --json --compare --png run on qemu-m4 (arm-dsp, reference beside it)."""
    work = tmp_path_factory.mktemp("bench")
    r = tinydeploy("bench", HELLO, "--board", "qemu-m4", "--json", "--compare", "--png", work / "layers.png",
                   "--work-dir", work)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), work


pytestmark = [pytest.mark.slow, require_tool("qemu-system-arm", "arm-none-eabi-gcc", "gcc")]


def test_json_report_has_the_counts_sizes_and_time(m4_json):
    rep, work = m4_json
    for key in ("instructions", "macs", "code_bytes", "weights_bytes", "ram_bytes", "method", "kernels", "layers",
                "mean_us", "counts", "bit_exact"):
        assert key in rep, key
    assert rep["method"] == "exact (TCG plugin)" and rep["kernels"] == "arm-dsp" and rep["bit_exact"]
    assert rep["macs"] == 16 + 16 * 16 + 16   # hello_world: 1 -> 16 -> 16 -> 1
    assert rep["instructions"] == round(sum(rep["counts"]) / len(rep["counts"]))
    assert rep["mean_us"] == pytest.approx(rep["instructions"] / 25, abs=1e-3)  # 25 MHz, 1 instruction per cycle
    assert rep["weights_bytes"] >= 16 + 256 + 16 and 0 < rep["code_bytes"] < 64_000
    assert rep["ram_bytes"] >= rep["arena_bytes"] > 0
    assert (work / "layers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exact_count_is_deterministic_and_agrees_with_systick(m4_json, tmp_path):
    """The plugin's count is the same on a second run; SysTick x40 (which also counts the counter's own
    reading) agrees within its 40-instruction step, per call."""
    from tinydeploy.evaluate import run_bench

    rep, work = m4_json
    again = run_bench(HELLO, "qemu-m4", layers=False, work_dir=work)
    assert again.counts == rep["counts"] and again.method == "exact (TCG plugin)"
    for exact, systick in zip(again.counts, again.firmware_counts):
        assert systick % SYSTICK_STEP == 0
        assert abs(systick - exact) <= 2 * SYSTICK_STEP, (systick, exact)


def test_layers_add_up_to_the_total(m4_json):
    rep, _ = m4_json
    layers = rep["layers"]
    assert [x["kind"] for x in layers] == ["FULLY_CONNECTED"] * 3
    assert all(x["kernel"] == "td_fully_connected_s8_arm_dsp" for x in layers)
    total = sum(x["instructions"] for x in layers)
    # sample 0 = sum of the layers + the invoke's own prologue/epilogue, less the marker calls (few each)
    assert rep["counts"][0] - total == rep["layers_overhead"]
    assert abs(rep["layers_overhead"]) <= 8 * (len(layers) + 1)
    assert sum(x["share"] for x in layers) == pytest.approx(1, abs=1e-3)


def test_compare_benches_the_reference_kernels(m4_json):
    rep, _ = m4_json
    ref = rep["reference"]
    assert ref["kernels"] == "reference" and ref["bit_exact"]
    assert all(x["kernel"] == "td_fully_connected_s8" for x in ref["layers"])
    assert rep["ratio_to_reference"] == pytest.approx(rep["instructions"] / ref["instructions"], abs=1e-4)
    assert rep["instructions"] < ref["instructions"]  # the SMLAD kernel is the faster one


def test_human_output_with_compare(tmp_path):
    r = tinydeploy("bench", HELLO, "--board", "qemu-m4", "--compare", "--no-layers", "--work-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "kernels arm-dsp" in out and "exact (TCG plugin)" in out
    assert "at 25 MHz (estimate: 1 instruction per cycle)" in out
    assert "compare  reference kernels:" in out and "arm-dsp / reference = " in out


@require_tool("simavr", "avr-gcc")
def test_simavr_counts_cycles_per_layer(tmp_path):
    r = tinydeploy("bench", HELLO, "--board", "simavr-mega", "--json", "--work-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["unit"] == "cycles" and rep["kernels"] == "avr" and rep["instructions"] is None
    assert rep["cycles"] == round(sum(rep["counts"]) / len(rep["counts"]))
    assert rep["mean_us"] == pytest.approx(rep["cycles"] / 16, abs=1e-3)  # 16 MHz
    total = sum(x["cycles"] for x in rep["layers"])
    assert len(rep["layers"]) == 3 and abs(rep["counts"][0] - total) < 0.01 * total


@require_tool("qemu-system-xtensa", "xtensa-lx106-elf-gcc")
def test_xtensa_without_a_serial_link_is_counted_from_a_baked_firmware(tmp_path):
    """qemu-xtensa has no UART: the samples are baked into the firmware, the plugin counts, CCOUNT agrees."""
    r = tinydeploy("bench", HELLO, "--board", "qemu-xtensa", "--json", "--work-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["method"] == "exact (TCG plugin)" and rep["bit_exact"] and rep["kernels"] == "reference"
    assert rep["stack_peak_bytes"] is None and len(rep["counts"]) == 2
    for exact, ccount in zip(rep["counts"], rep["firmware_counts"]):  # CCOUNT x25 under -icount
        assert abs(exact - ccount) <= 2 * 25 + 40, (exact, ccount)
    total = sum(x["instructions"] for x in rep["layers"])
    assert len(rep["layers"]) == 3 and abs(rep["counts"][0] - total) < 0.01 * total


@pytest.mark.parametrize("args,words", [
    (("--board", "nucleo_f446re"), ("has no emulator", "qemu-m4")),
    (("--board", "qemu-rv32", "--kernels", "arm-dsp"), ("cannot run the arm-dsp kernels",)),
    (("--board", "qemu-m4", "--png", "x.jpg"), ("must end in .png",)),
])
def test_clear_errors(args, words):
    r = tinydeploy("bench", HELLO, *args)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    for w in words:
        assert w in r.stderr


def test_model_bench_reads_its_baselines_from_the_file():
    """benchmarks/model_bench.py takes the TFLM figures from baselines.md (no copy in the script)."""
    import re

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import model_bench

    rows = model_bench.read_baselines()
    text = (ROOT / "benchmarks" / "baselines.md").read_text()
    for _, row in model_bench.MODELS.values():
        line = next(x for x in text.splitlines() if x.startswith(f"| {row}"))
        cells = [int(re.sub(r"[^\d]", "", c)) for c in line.split("|")[2:4]]
        assert [rows[row]["cmsis"], rows[row]["ref"]] == cells


def test_firmware_counter_says_so(tmp_path):
    """--counter firmware: the count of the firmware's own SysTick (40-instruction steps), named as such;
    no per-layer counts without the plugin."""
    r = tinydeploy("bench", HELLO, "--board", "qemu-m4", "--counter", "firmware", "--json", "--work-dir", tmp_path)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["method"].startswith("SysTick x40 under -icount") and rep["counts"] == rep["firmware_counts"]
    assert all(c % SYSTICK_STEP == 0 for c in rep["counts"]) and rep["layers"] == []
    assert "without the QEMU counting plugin" in rep["layers_method"]
