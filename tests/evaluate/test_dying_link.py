"""A dying link loses nothing (host device, real sockets): a device process we started is restarted and the
run completes with every sample once; a --port link that stays dead leaves a partial report
(`"complete": false`) that `--resume` finishes; a USB board is found again by VID:PID."""
import json
import os
import random
import signal
import socket
import threading
import time

import numpy as np
import pytest
from device_helpers import DIGITS, DIGITS_DATA, cli, public_model
from serial.tools.list_ports_common import ListPortInfo

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.data import prepare_inputs
from tinydeploy.evaluate.evaluation import evaluate, report_dict
from tinydeploy.evaluate.resume import digest, load_resume
from tinydeploy.link.recovery import find_port, port_identity
from tinydeploy.link.session import open_session
from tinydeploy.target.host_device import HostDevice, build_host_device
from tinydeploy.testing.faultproxy import FaultProxy, Faults


class DyingProxy(FaultProxy):
    """Forwards the link faithfully until `after` bytes went to the device, then cuts it and stops
    listening: the port stays dead."""

    def __init__(self, upstream_port: int, after: int) -> None:
        super().__init__(upstream_port, Faults())
        self.after, self.sent = after, 0

    def _damage(self, data: bytes) -> bytes | None:
        with self.lock:
            self.sent += len(data)
            if self.sent > self.after:
                self.close()
                return None
        return data


class Relay(FaultProxy):
    """A faithful proxy listening on a given port (the port coming back)."""

    def __init__(self, upstream_port: int, port: int) -> None:
        self.upstream_port, self.faults = upstream_port, Faults()
        self.rng, self.lock, self._stop = random.Random(0), threading.Lock(), False
        self.counts = {"injected": 0, "dropped": 0, "cut": 0, "chunks": 0}
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(4)
        self.port = port
        threading.Thread(target=self._accept, daemon=True).start()


def usb_port(device: str, vid: int | None, pid: int | None, serial: str | None = None) -> ListPortInfo:
    p = ListPortInfo(device, skip_link_detection=True)
    p.vid, p.pid, p.serial_number = vid, pid, serial
    return p


def test_usb_board_found_again_by_vid_pid():
    before = [usb_port("/dev/ttyS0", None, None), usb_port("/dev/ttyACM0", 0x2341, 0x0042, "7573530"),
              usb_port("/dev/ttyUSB0", 0x10C4, 0xEA60)]
    ident = port_identity(before, "/dev/ttyACM0")
    assert ident == ("2341:0042", "7573530")
    assert port_identity(before, "/dev/ttyS0") is None  # not a USB port: only its name is waited for
    after = [usb_port("/dev/ttyS0", None, None), usb_port("/dev/ttyUSB0", 0x10C4, 0xEA60),
             usb_port("/dev/ttyACM1", 0x2341, 0x0042, "7573530")]
    assert find_port(after, ident) == "/dev/ttyACM1"
    # another board of the same kind (other serial number) is not taken for it
    assert find_port([usb_port("/dev/ttyACM2", 0x2341, 0x0042, "999")], ident) is None
    # without a serial number, two boards with one VID:PID are ambiguous: none is picked
    ident2 = port_identity(before, "/dev/ttyUSB0")
    assert ident2 == ("10C4:EA60", None)
    assert find_port(after, ident2) == "/dev/ttyUSB0"
    assert find_port(after + [usb_port("/dev/ttyUSB1", 0x10C4, 0xEA60)], ident2) is None


def test_killed_host_device_is_restarted_and_every_sample_counted_once():
    data = np.load(DIGITS_DATA)
    xs, ys = [data["x_int8"][:120]], data["y"][:120]
    killed, events = threading.Event(), []
    with open_session(DIGITS, "host") as s:
        first = s.started.proc.pid

        def progress(i, n):
            if i == 50 and not killed.is_set():
                killed.set()
                os.kill(first, signal.SIGTERM)

        r = evaluate(s, xs, ys, progress=progress, log=events.append)
        assert s.started.proc.pid != first  # a new device process serves the rest
    rep = report_dict(r)
    assert rep["complete"] and rep["samples"] == 120 and rep["bit_exact"]["all"]
    assert rep["accuracy"]["device"] == rep["accuracy"]["host"]
    assert rep["link"]["restarts"] == 1 and len(events) == 1
    k = rep["link"]["events"][0]["after"]
    assert 50 <= k <= 51 and "the host device exited with signal 15 after" in events[0]
    # each device ran each sample it answered once: the first 1..k, the restarted one 1..120-k
    assert r.invokes.tolist() == list(range(1, k + 1)) + list(range(1, 120 - k + 1))


def test_hung_device_is_restarted_after_protocol_timeouts():
    """SIGSTOP: the process lives but answers nothing; after the client's timeouts it is restarted."""
    xs = [np.load(DIGITS_DATA)["x_int8"][:30]]
    events = []
    with open_session(DIGITS, "host", timeout=0.3) as s:
        hung = s.started.proc

        def progress(i, n):
            if i == 10 and s.started.proc is hung:
                os.kill(hung.pid, signal.SIGSTOP)

        r = evaluate(s, xs, progress=progress, log=events.append)
        assert hung.poll() is not None  # the stopped process was ended, not left behind
    assert r.complete and r.agree.all() and len(events) == 1
    assert "the host device stopped answering after 10 of 30 samples" in events[0]


def test_device_lost_after_the_last_sample_keeps_the_results():
    """Killed between the last sample and reading the stack peak: the run is complete, stats unread."""
    xs = [np.load(DIGITS_DATA)["x_int8"][:10]]
    events = []
    with open_session(DIGITS, "host") as s:
        def progress(i, n):
            if i == n:
                os.kill(s.started.proc.pid, signal.SIGKILL)
                s.started.proc.wait()

        r = evaluate(s, xs, progress=progress, log=events.append)
    rep = report_dict(r)
    assert rep["complete"] and rep["samples"] == 10 and rep["bit_exact"]["all"]
    assert rep["memory"]["stack_peak_bytes"] is None and rep["link"]["restarts"] == 0
    assert "the host device exited with signal 9 after 10 of 10 samples" in events[0]
    from tinydeploy.cli.eval import summary_lines
    assert any("stack peak and canary unread (board lost)" in line for line in summary_lines(rep))


def test_port_that_comes_back_is_waited_for():
    """--port: the link dies after ~60 samples and the port comes back 1.5 s later: the run goes on."""
    xs = [np.load(DIGITS_DATA)["x_int8"][:150]]
    events = []
    with HostDevice(build_host_device(compile_graph(load_model(DIGITS)))) as dev:
        proxy = DyingProxy(dev.port, after=60 * 100)
        back = []

        def bring_back():
            while not proxy._stop:
                time.sleep(0.05)
            time.sleep(1.5)
            back.append(Relay(dev.port, proxy.port))

        threading.Thread(target=bring_back, daemon=True).start()
        with open_session(DIGITS, port=proxy.url) as s:
            r = evaluate(s, xs, reconnect_timeout=10, log=events.append)
        for b in back:
            b.close()
    assert r.complete and r.n == 150 and r.agree.all() and len(events) == 1
    assert f"the link to {proxy.url} broke" in events[0] and f"{proxy.url} came back" in events[0]
    k = r.events[0]["after"]
    assert 0 < k < 150 and not r.events[0]["restarted"]
    # the same device process throughout: its invoke counter only grows (the cut sample's INVOKE may have
    # run before the cut, its result lost: then one number is skipped)
    inv = r.invokes.tolist()
    assert inv[:k] == list(range(1, k + 1)) and inv[k] in (k + 1, k + 2)
    assert inv[k:] == list(range(inv[k], inv[k] + 150 - k))


def test_port_that_stays_dead_leaves_a_partial_report_and_resume_finishes_it(tmp_path):
    x = f"{DIGITS_DATA}:x_int8"
    y = f"{DIGITS_DATA}:y"
    with HostDevice(build_host_device(compile_graph(load_model(DIGITS)))) as dev:
        proxy = DyingProxy(dev.port, after=150 * 100)
        r = cli("eval", DIGITS, "--port", proxy.url, "--inputs", x, "--labels", y, "--json", tmp_path / "r.json",
                "--reconnect-timeout", "2")
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert f"the link to {proxy.url} broke" in r.stderr and "of 360 samples" in r.stderr
        assert "did not come back within 2 s" in r.stderr and "--resume" in r.stderr
        part = json.loads((tmp_path / "r.json").read_text())
        assert part["complete"] is False and part["samples_total"] == 360
        done = part["samples"]
        assert 0 < done < 360 and len(part["counts"]) == done and part["bit_exact"]["agree"] == done
        assert not list(tmp_path.glob(".*"))  # written atomically
        r = cli("eval", DIGITS, "--port", dev.url, "--inputs", x, "--labels", y, "--resume", tmp_path / "r.json")
        assert r.returncode == 0, r.stderr
        assert f"resuming {tmp_path / 'r.json'}: {done} of 360 samples done" in r.stderr.replace("\n", "")
        r = cli("eval", DIGITS, "--port", dev.url, "--inputs", x, "--labels", y, "--json", tmp_path / "full.json")
        assert r.returncode == 0, r.stderr
    rep, full = json.loads((tmp_path / "r.json").read_text()), json.loads((tmp_path / "full.json").read_text())
    assert rep["complete"] is True and "resume" not in rep and len(rep["counts"]) == 360
    for key in ("samples", "bit_exact", "accuracy", "confusion", "inputs_sha256", "labels_sha256"):
        assert rep[key] == full[key], key
    assert rep["bit_exact"]["all"] and rep["accuracy"]["device"] == rep["accuracy"]["host"]


def test_resume_refuses_another_model_other_inputs_and_a_complete_report(tmp_path):
    g = load_model(DIGITS)
    xs, ys = [np.load(DIGITS_DATA)["x_int8"][:4]], np.load(DIGITS_DATA)["y"][:4]
    part = {"complete": False, "sha256": g.sha256, "samples": 0, "samples_total": 4, "counts": [],
            "inputs_sha256": digest(xs), "labels_sha256": digest(ys), "resume": {"outputs_b64": [""]}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(part))
    assert load_resume(path, g, xs, ys).rows == []
    with pytest.raises(TinyDeployError, match="report of another model"):
        load_resume(path, load_model(public_model("hello_world_int8")), xs, ys)
    with pytest.raises(TinyDeployError, match="the inputs differ"):
        load_resume(path, g, [xs[0][::-1].copy()], ys)
    with pytest.raises(TinyDeployError, match="the inputs differ"):
        load_resume(path, g, [xs[0][:3]], ys[:3])
    with pytest.raises(TinyDeployError, match="the labels differ"):
        load_resume(path, g, xs, None)
    path.write_text(json.dumps({**part, "complete": True}))
    with pytest.raises(TinyDeployError, match="nothing to resume"):
        load_resume(path, g, xs, ys)
    path.write_text(json.dumps({**part, "samples": 2, "counts": [1, 2]}))
    with pytest.raises(TinyDeployError, match="no usable resume section"):
        load_resume(path, g, xs, ys)
    r = cli("eval", DIGITS, "--board", "host", "--inputs", f"{DIGITS_DATA}:x_int8", "--resume", path)
    assert r.returncode == 1 and "the inputs differ" in r.stderr and "Traceback" not in r.stderr
    xs = prepare_inputs(g, [np.load(DIGITS_DATA)["x_int8"]])  # as eval prepares them
    path.write_text(json.dumps({**part, "board": "qemu-m4", "samples_total": 360, "inputs_sha256": digest(xs),
                                "labels_sha256": None}))
    r = cli("eval", DIGITS, "--board", "host", "--inputs", f"{DIGITS_DATA}:x_int8", "--resume", path)
    assert r.returncode == 1 and "measured on qemu-m4, this run is on host" in r.stderr, r.stderr
    assert json.loads(path.read_text())["complete"] is False  # the partial report is left as it was
