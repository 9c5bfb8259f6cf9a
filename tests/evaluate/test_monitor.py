"""`tinydeploy monitor`: JSON lines for CI, and the live view in a real terminal (tmux capture-pane)."""
import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from device_helpers import DIGITS, DIGITS_DATA, ROOT, TD, cli, firmware_dir, public_model
from tools import require_tool

from tinydeploy.evaluate.monitor import sparkline


def test_sparkline():
    assert sparkline([1, 1, 1]) == "▄▄▄"
    assert sparkline([0, 7, 14]) == "▁▄█"
    assert len(sparkline(list(range(100)), width=48)) == 48


@pytest.mark.slow
def test_monitor_json_on_qemu():
    model = public_model("hello_world_int8")
    r = cli("monitor", "--board", "qemu-m4", "--model", model, "--count", "12", "--json",
            "--project-dir", firmware_dir(model, "qemu-m4"))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    samples, summary = lines[:-1], lines[-1]["summary"]
    assert [s["sample"] for s in samples] == list(range(12))
    assert all(s["bit_exact"] and s["unit"] == "instructions" and s["count"] > 0 for s in samples)
    assert summary["samples"] == 12 and summary["bit_exact"] == {"agree": 12, "checked": 12, "reference": "litert"}
    lat = summary["latency"]  # time beside the count: instructions at the profile's 25 MHz, an estimate
    assert lat["mean_us"] == pytest.approx(lat["mean"] / 25) and lat["time_estimate"] and summary["clock_hz"] == 25e6
    assert summary["stack_peak_bytes"] > 0 and summary["canary_ok"] and summary["board_ram_bytes"] == 262144


@pytest.mark.slow
@require_tool("tmux")
def test_monitor_live_view_in_tmux(tmp_path):
    name = f"td-mon-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "done"
    cmd = " ".join(TD + ["monitor", "--board", "qemu-m4", "--model", str(DIGITS), "--inputs",
                         f"{DIGITS_DATA}:x_int8", "--labels", f"{DIGITS_DATA}:y", "--count", "120",
                         "--project-dir", str(firmware_dir(DIGITS, "qemu-m4"))])
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", str(ROOT),
                    f"{cmd}; echo EXIT=$? > {done}; sleep 60"], check=True)
    try:
        seen_live = ""
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and not done.exists():
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                                    text=True).stdout
            if "invokes/s" in screen and "latency" in screen and not seen_live:
                seen_live = screen  # the view while samples are still streaming
            time.sleep(0.2)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True, text=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    assert done.exists() and done.read_text().strip() == "EXIT=0", screen
    assert seen_live and "samples  120" not in seen_live  # seen while it was still streaming
    for want in ("tinydeploy monitor", "samples  120", "instructions", "RAM", "of 262,144 B SRAM",
                 "accuracy", "120/120 identical to LiteRT", "canary intact"):
        assert want in screen, (want, screen)
    assert re.search(r"arena [\d,]+ B \+ stack [\d,]+ B", screen) and re.search(r"device \d+\.\d+%", screen)
    assert any(ch in screen for ch in "▁▂▃▄▅▆▇█")  # the sparkline


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.slow
def test_killed_monitor_takes_its_emulator_along():
    """monitor is SIGKILLed (no cleanup runs): the QEMU it started still ends (PR_SET_PDEATHSIG)."""
    import signal

    model = public_model("hello_world_int8")
    p = subprocess.Popen(TD + ["monitor", "--board", "qemu-m4", "--model", str(model), "--json", "--project-dir",
                               str(firmware_dir(model, "qemu-m4"))], stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(p.stdout.readline())["sample"] == 0  # streaming: the emulator runs
        qemu = [k for k in _children(p.pid) if "qemu" in Path(f"/proc/{k}/cmdline").read_text()]
        assert len(qemu) == 1
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        p.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{qemu[0]}").exists() and \
            "qemu" in Path(f"/proc/{qemu[0]}/cmdline").read_text(errors="replace"):
        time.sleep(0.1)
    assert not Path(f"/proc/{qemu[0]}/cmdline").exists() or \
        "qemu" not in Path(f"/proc/{qemu[0]}/cmdline").read_text(errors="replace")
