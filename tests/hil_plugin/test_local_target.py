"""LocalTarget (what the `board`/`deployed` fixtures hold for a board reached from this machine) compiles
a model once per deployment: the CompiledModel of the fit check is the one the firmware project is
generated from and the one the session talks with; a reset and a repeated deploy compile nothing."""
import importlib
import sys

import pytest
from conftest import TEST_MODELS

HELLO = TEST_MODELS / "hello_world_int8.tflite"


@pytest.fixture
def compiles(monkeypatch):
    """The calls of tinydeploy.compile.compile_graph from here on (a list of source names). The layer
    packages hand names out lazily, so a module that bound compile_graph at import time holds the function
    itself: each loaded tinydeploy module that holds it gets the counting wrapper too."""
    from tinydeploy.compile import compiler

    for name in ("tinydeploy.link.session", "tinydeploy.link.flashing", "tinydeploy.target.protocol_firmware"):
        importlib.import_module(name)  # loaded now, so the names they bound at import time get the wrapper

    calls, orig = [], compiler.compile_graph

    def counting(*args, **kwargs):
        calls.append(kwargs.get("source_name"))
        return orig(*args, **kwargs)

    for m in list(sys.modules.values()):
        if getattr(m, "__name__", "").startswith("tinydeploy") and vars(m).get("compile_graph") is orig:
            monkeypatch.setattr(m, "compile_graph", counting)
    return calls


@pytest.mark.parametrize("board_id", ["qemu-m4", "host"])
def test_local_target_compiles_a_model_once(board_id, tmp_path, compiles):
    from tinydeploy.hil.targets import LocalTarget

    t = LocalTarget(board_id, build_dir=tmp_path / "hil")
    why = t.unavailable()
    if why:
        pytest.skip(why)
    try:
        d = t.deploy(HELLO)
        assert compiles == [HELLO.name], f"deploying one model compiled it {len(compiles)} times"
        assert d.session.model is d.compiled
        if board_id != "host":  # the firmware project was generated from that same compiled model
            assert d.session.project.model is d.compiled
        x = d.random_inputs(2, seed=3)
        assert [o.tolist() for o in d.run(x).outputs] == [o.tolist() for o in d.reference(x)]
        assert t.deploy(HELLO) is d  # the same model again: the running board, nothing compiled
        r = t.reset()
        assert r is not d and r.compiled is d.compiled  # restarted with the same firmware, not recompiled
        assert compiles == [HELLO.name]
    finally:
        t.close()
