"""A dying link on qemu-m4 (real QEMU, real sockets): the emulator killed mid-eval is restarted with the same
firmware and the run completes with every sample once; a --port link that stays dead leaves a partial
report that --resume finishes against a live emulator, with the totals of an uninterrupted run."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli, firmware_dir
from test_dying_link import DyingProxy

from tinydeploy.evaluate.evaluation import evaluate, report_dict
from tinydeploy.link.emulators import start_emulator
from tinydeploy.link.session import open_session
from tinydeploy.target.protocol_firmware import ensure_firmware

pytestmark = pytest.mark.slow


def test_emulator_killed_mid_eval_is_restarted_every_sample_once():
    data = np.load(DIGITS_DATA)
    killed, events, seen = threading.Event(), [], []
    with open_session(DIGITS, "qemu-m4", project_dir=firmware_dir(DIGITS, "qemu-m4")) as s:
        first = s.started
        elf_mtime = s.project.elf.stat().st_mtime

        def watch():  # kills QEMU from another thread once ~150 samples are done
            killed.wait(60)
            os.kill(first.pid, signal.SIGTERM)

        killer = threading.Thread(target=watch, daemon=True)
        killer.start()

        def progress(i, n):
            seen.append(i)
            if i == 150:
                killed.set()

        t0 = time.monotonic()
        r = evaluate(s, [data["x_int8"]], data["y"], progress=progress, log=events.append)
        killer.join(5)
        assert s.started is not first and s.started.alive() and not first.alive()
        assert s.project.elf.stat().st_mtime == elf_mtime  # the same firmware, not rebuilt
    rep = report_dict(r)
    assert seen == list(range(1, 361))  # progress saw every sample once, in order
    assert rep["complete"] and rep["samples"] == 360 and rep["bit_exact"]["all"]
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"] > 0.95
    assert rep["link"]["restarts"] == 1 and len(events) == 1
    k = rep["link"]["events"][0]["after"]
    assert 150 <= k < 360
    assert f"the emulator (qemu-system-arm) exited with signal 15 after {k} of 360 samples" in events[0]
    assert f"sample {k + 1} is sent again" in events[0]
    # the killed QEMU answered samples 1..k, the restarted one ran each of the rest once (its counter from 1)
    assert r.invokes.tolist() == list(range(1, k + 1)) + list(range(1, 360 - k + 1))
    assert time.monotonic() - t0 < 60


def test_dead_port_partial_report_then_resume_on_a_live_emulator(tmp_path):
    proj = ensure_firmware(DIGITS, "qemu-m4", firmware_dir(DIGITS, "qemu-m4"))
    x, y = f"{DIGITS_DATA}:x_int8", f"{DIGITS_DATA}:y"
    with start_emulator("qemu-m4", proj.elf) as emu:
        proxy = DyingProxy(int(emu.url.rsplit(":", 1)[1]), after=150 * 100)
        t0 = time.monotonic()
        r = cli("eval", DIGITS, "--port", proxy.url, "--inputs", x, "--labels", y, "--json", tmp_path / "r.json",
                "--reconnect-timeout", "3")
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert f"the link to {proxy.url} broke" in r.stderr and "did not come back within 3 s" in r.stderr
        assert time.monotonic() - t0 < 60
    part = json.loads((tmp_path / "r.json").read_text())
    done = part["samples"]
    assert part["complete"] is False and 0 < done < 360 and part["bit_exact"]["agree"] == done
    assert part["lost"]["after"] == done
    with start_emulator("qemu-m4", proj.elf) as emu:  # a live emulator: the resume finishes the run
        r = cli("eval", DIGITS, "--port", emu.url, "--inputs", x, "--labels", y, "--resume", tmp_path / "r.json")
        assert r.returncode == 0, r.stderr
        assert "accuracy     device" in r.stdout and "board lost   the link to" in r.stdout
    with start_emulator("qemu-m4", proj.elf) as emu:  # uninterrupted, for the totals
        r = cli("eval", DIGITS, "--port", emu.url, "--inputs", x, "--labels", y, "--json", tmp_path / "full.json")
        assert r.returncode == 0, r.stderr
    rep, full = json.loads((tmp_path / "r.json").read_text()), json.loads((tmp_path / "full.json").read_text())
    assert rep["complete"] is True and full["complete"] is True and "resume" not in rep
    # instruction counts are exact and per input: the resumed run's equal the uninterrupted run's
    for key in ("samples", "bit_exact", "accuracy", "confusion", "counts", "inputs_sha256"):
        assert rep[key] == full[key], key
    assert rep["bit_exact"]["all"] and rep["accuracy"]["device"] == rep["accuracy"]["host"]
