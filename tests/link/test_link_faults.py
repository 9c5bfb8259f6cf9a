"""Fault injection on a real socket link: noise, dropped bytes, cuts and device resets.

Every sample must still get exactly one correct result (bit-exact with LiteRT), nothing hangs.
"""
import random
import time

import numpy as np
import pytest
from conftest import TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.link.client import DeviceClient
from tinydeploy.target.host_device import HostDevice, build_host_device
from tinydeploy.testing.faultproxy import FaultProxy, Faults

MODEL = TEST_MODELS / "hello_world_int8.tflite"


@pytest.fixture(scope="module")
def setup():
    m = compile_graph(load_model(MODEL))
    return m, build_host_device(m)


def run_samples(client, xs):
    outs, invokes = [], []
    for s in range(xs[0].shape[0]):
        res = client.run([x[s].tobytes() for x in xs])
        outs.append(np.frombuffer(res.outputs[0], np.int8))
        invokes.append(res.invokes)
    return np.stack(outs), invokes


@pytest.mark.slow
@pytest.mark.parametrize("faults", [Faults(inject=0.15, seed=1), Faults(drop=0.1, seed=2),
                                    Faults(cut=0.03, seed=3), Faults(inject=0.05, drop=0.05, cut=0.01, seed=4)],
                         ids=["noise", "drops", "cuts", "mixed"])
def test_faulty_link_every_sample_once_and_correct(setup, faults):
    m, exe = setup
    xs = random_inputs(m.graph, 40, np.random.default_rng(faults.seed))
    ref = reference_outputs(MODEL, xs)[0].reshape(40, -1)
    with HostDevice(exe) as dev:
        proxy = FaultProxy(dev.port, faults)
        client = DeviceClient(proxy.url, [1], timeout=0.15, retries=8, reconnects=20,
                              expect_sha256=m.graph.sha256)
        t0 = time.monotonic()
        ours, invokes = run_samples(client, xs)
        client.close()
        proxy.close()
    assert np.array_equal(ours, ref)
    # retries and resends after a reconnect are answered from the device's cache: one invoke per sample
    assert invokes == list(range(1, 41))
    assert client.stats_redone == 0  # the device never reset: no sample was started again
    damaged = proxy.counts["injected"] + proxy.counts["dropped"] + proxy.counts["cut"]
    assert damaged > 0, proxy.counts  # the link really was damaged
    assert client.stats_retries + client.stats_reconnects > 0
    assert time.monotonic() - t0 < 120


@pytest.mark.slow
def test_device_resets_mid_run(setup):
    """The device is reset between sending a sample's inputs and its INVOKE (inputs lost)."""
    from tinydeploy.link import protocol as P

    m, exe = setup
    xs = random_inputs(m.graph, 60, np.random.default_rng(9))
    ref = reference_outputs(MODEL, xs)[0].reshape(60, -1)
    with HostDevice(exe) as dev:
        resets = []
        ours_so_far = []

        class ResettingClient(DeviceClient):
            def _request(self, msg_type, payload=b"", **kw):
                if msg_type == P.INVOKE and len(resets) < 3 and random.Random(len(ours_so_far)).random() < 0.1:
                    dev.reset()
                    resets.append(len(ours_so_far))
                return super()._request(msg_type, payload, **kw)

        client = ResettingClient(dev.url, [1], timeout=0.15, retries=4, reconnects=20,
                                 expect_sha256=m.graph.sha256)
        for s in range(60):
            ours_so_far.append(np.frombuffer(client.run([x[s].tobytes() for x in xs]).outputs[0], np.int8))
        client.close()
    assert np.array_equal(np.stack(ours_so_far), ref)
    assert len(resets) >= 1 and client.stats_redone == len(resets)


def test_unreachable_port_clear_error():
    from tinydeploy.errors import TinyDeployError
    from tinydeploy.target.host_device import free_port

    client = DeviceClient(f"socket://127.0.0.1:{free_port()}", [1], timeout=0.2)
    t0 = time.monotonic()
    with pytest.raises(TinyDeployError, match="cannot open serial port|no tinydeploy firmware"):
        client.connect(wait=1.0)
    assert time.monotonic() - t0 < 10
