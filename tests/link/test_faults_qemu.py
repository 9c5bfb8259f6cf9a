"""The device protocol against QEMU over a damaged link (the fault proxy between pyserial and QEMU's
UART socket) and through board resets (QEMU's `system_reset`): every sample gets exactly one correct
result, nothing hangs."""
import socket
import time

import numpy as np
import pytest
from device_helpers import DIGITS, firmware_dir

from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.link.client import DeviceClient, open_serial
from tinydeploy.link.emulators import start_emulator
from tinydeploy.target.protocol_firmware import ensure_firmware
from tinydeploy.target.host_device import free_port
from tinydeploy.testing.faultproxy import FaultProxy, Faults

pytestmark = pytest.mark.slow
MODEL = DIGITS  # 64-byte input: two SET_INPUT chunks per sample, 0.6 M instructions per invoke
N = 16


@pytest.fixture(scope="module")
def setup():
    g = load_model(MODEL)
    proj = ensure_firmware(MODEL, "qemu-m4", firmware_dir(MODEL, "qemu-m4"))
    xs = random_inputs(g, N, np.random.default_rng(11))
    return g, proj.elf, xs, reference_outputs(MODEL, xs)[0].reshape(N, -1)


class ByteFaultProxy(FaultProxy):
    """The fault proxy with rates per byte instead of per forwarded chunk: QEMU sends its UART output
    byte by byte, but how many bytes a chunk holds depends on the host's load, and with it the damage."""

    def _damage(self, data: bytes) -> bytes | None:
        f = self.faults
        with self.lock:
            self.counts["chunks"] += 1
            out = bytearray()
            for b in data:
                r = self.rng.random()
                if r < f.cut:
                    self.counts["cut"] += 1
                    return None
                if r < f.cut + f.drop:
                    self.counts["dropped"] += 1
                    continue
                out.append(b)
                if r < f.cut + f.drop + f.inject:
                    out += bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 8)))
                    self.counts["injected"] += 1
            return bytes(out)


def run_all(client, xs):
    outs, invokes = [], []
    for s in range(N):
        res = client.run([x[s].tobytes() for x in xs])
        outs.append(np.frombuffer(res.outputs[0], np.int8))
        invokes.append(res.invokes)
    return np.stack(outs), invokes


# Rates per byte: about 3,000 bytes cross the link for 16 samples, so each run sees ~5-25 faults.
@pytest.mark.parametrize("faults", [Faults(inject=0.005, seed=1), Faults(drop=0.005, seed=2),
                                    Faults(cut=0.002, seed=3), Faults(inject=0.003, drop=0.003, cut=0.001, seed=4)],
                         ids=["noise", "drops", "cuts", "mixed"])
def test_qemu_faulty_link(setup, faults):
    g, elf, xs, ref = setup
    port = free_port()
    with start_emulator("qemu-m4", elf, port=port):
        proxy = ByteFaultProxy(port, faults)
        opens = []

        def opener(url, baud):
            opens.append(url)
            return open_serial(url, baud)

        client = DeviceClient(proxy.url, [10], timeout=0.3, retries=8, reconnects=20, expect_sha256=g.sha256,
                              opener=opener)
        t0 = time.monotonic()
        try:
            ours, invokes = run_all(client, xs)
        finally:
            client.close()
            proxy.close()
    assert np.array_equal(ours, ref)
    # resent requests, also after a cut and reconnect, are answered from the device's cache: one invoke per sample
    assert invokes == list(range(1, N + 1))
    assert client.stats_redone == 0  # the board never reset: no sample was started again
    assert proxy.counts["injected"] + proxy.counts["dropped"] + proxy.counts["cut"] > 0
    # the client noticed: resent requests, reconnects, or (a cut during HELLO) a reopened port
    assert client.stats_retries + client.stats_reconnects > 0 or len(opens) > 1
    assert time.monotonic() - t0 < 150


def test_qemu_board_reset_mid_run(setup):
    """system_reset between a sample's inputs and its INVOKE: the board loses its inputs, the client notices
    (session 0), reconnects and redoes that sample."""
    from tinydeploy.link import protocol as P

    g, elf, xs, ref = setup
    mon = free_port()
    with start_emulator("qemu-m4", elf, extra_args=["-monitor", f"tcp:127.0.0.1:{mon},server=on,wait=off"]) as emu:
        resets = []

        def reset_board():
            with socket.create_connection(("127.0.0.1", mon), timeout=5) as m:
                m.sendall(b"system_reset\n")
                time.sleep(0.3)

        class ResettingClient(DeviceClient):
            def _request(self, msg_type, payload=b"", **kw):
                if msg_type == P.INVOKE and len(outs) in (2, 9) and len(resets) < 2 and len(outs) not in resets:
                    resets.append(len(outs))
                    reset_board()
                return super()._request(msg_type, payload, **kw)

        outs = []
        client = ResettingClient(emu.url, [10], timeout=0.3, retries=4, reconnects=5, expect_sha256=g.sha256)
        for s in range(N):
            outs.append(np.frombuffer(client.run([x[s].tobytes() for x in xs]).outputs[0], np.int8))
        st = client.stats()
        client.close()
    assert np.array_equal(np.stack(outs), ref)
    assert resets == [2, 9] and client.stats_redone == 2
    # since the last reset: the INVOKE that revealed it (reply with session 0, discarded) + samples 9..15
    assert st.invokes == 1 + N - 9 and st.canary_ok


def test_qemu_killed_gives_clear_error(setup):
    """The emulator dies: the client gives up with a one-line TinyDeployError, within its retry budget."""
    from tinydeploy.errors import TinyDeployError

    g, elf, xs, _ = setup
    emu = start_emulator("qemu-m4", elf)
    client = DeviceClient(emu.url, [10], timeout=0.3, retries=2, reconnects=1, expect_sha256=g.sha256)
    client.connect()
    emu.stop()
    reconnect = client.connect
    client.connect = lambda wait=10.0: reconnect(wait=1.0)  # give up sooner than a user's 10 s
    t0 = time.monotonic()
    with pytest.raises(TinyDeployError, match="lost the board|no tinydeploy firmware|cannot open"):
        client.run([x[0].tobytes() for x in xs])
    assert time.monotonic() - t0 < 30
    client.close()
