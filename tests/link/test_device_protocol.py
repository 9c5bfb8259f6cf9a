"""The device protocol end to end: real host firmware on a TCP port, pyserial socket:// client."""
import numpy as np
import pytest
from conftest import TEST_MODELS

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.tflite.reader import load_model
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.link import protocol as P
from tinydeploy.link.client import DeviceClient
from tinydeploy.target.host_device import HostDevice, build_host_device


def test_frame_reader_skips_garbage_and_bad_crc():
    good = P.encode(P.INVOKE | P.REPLY, 7, b"\x01\x02\x03")
    bad = bytearray(P.encode(P.INVOKE | P.REPLY, 8, b"xyz"))
    bad[-1] ^= 0xFF
    r = P.FrameReader()
    stream = b"banner text\r\n\xa5\xa5" + bytes(bad) + b"\x00\xa5" + good
    frames = []
    for i in range(0, len(stream), 3):  # arrives in pieces
        frames += r.feed(stream[i:i + 3])
    assert [(f.type, f.seq, f.payload) for f in frames] == [(P.INVOKE | P.REPLY, 7, b"\x01\x02\x03")]


@pytest.fixture(scope="module")
def hello_device():
    path = TEST_MODELS / "hello_world_int8.tflite"
    m = compile_graph(load_model(path))
    with HostDevice(build_host_device(m)) as dev:
        yield path, m, dev


def test_host_device_bit_exact(hello_device):
    path, m, dev = hello_device
    g = m.graph
    xs = random_inputs(g, 40, np.random.default_rng(5))
    out_bytes = [g.tensors[t].nbytes for t in g.outputs]
    client = DeviceClient(dev.url, out_bytes, expect_sha256=g.sha256)
    hello = client.connect()
    assert hello.sha256 == g.sha256 and hello.arena_bytes == m.arena_bytes and "hello_world_int8" in hello.name
    ours = np.stack([np.frombuffer(client.run([x[s].tobytes() for x in xs]).outputs[0], np.int8)
                     for s in range(40)])
    ref = reference_outputs(path, xs)[0].reshape(ours.shape)
    assert np.array_equal(ours, ref)
    st = client.stats()
    assert st.canary_ok and st.invokes == 40
    client.close()


def test_stale_firmware_refused(hello_device):
    from tinydeploy.errors import TinyDeployError

    _, m, dev = hello_device
    client = DeviceClient(dev.url, [1], expect_sha256="0" * 64)
    with pytest.raises(TinyDeployError, match="another model"):
        client.connect()
    client.close()


def test_other_protocol_version_refused(hello_device):
    """Firmware built for protocol v3 (TD_PROTO_VERSION overridden) answers HELLO; the host (v2) refuses it
    with a message naming both versions, even though the model matches."""
    from tinydeploy.errors import TinyDeployError

    _, m, _ = hello_device
    assert P.VERSION == 2
    with HostDevice(build_host_device(m, defines={"TD_PROTO_VERSION": "3"})) as dev:
        client = DeviceClient(dev.url, [1], expect_sha256=m.graph.sha256)
        with pytest.raises(TinyDeployError, match=r"firmware speaks protocol v3, this host v2") as exc:
            client.connect(wait=3.0)
        assert "reflash" in exc.value.hint
        client.close()
