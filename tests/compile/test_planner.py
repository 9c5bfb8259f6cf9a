"""Planner property tests: buffers live at the same time never share bytes; exact == brute force."""
import itertools

import numpy as np
import pytest

from tinydeploy.compile.plan import PLANNERS, make_planner


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_no_overlap_random_intervals(name):
    rng = np.random.default_rng(7)
    for _ in range(200):
        p = make_planner(name)
        for _ in range(int(rng.integers(1, 25))):
            a = int(rng.integers(0, 20))
            p.add_buffer(int(rng.integers(0, 5000)), a, a + int(rng.integers(0, 6)))
        p.plan()
        p.check()
        assert p.arena_bytes >= p.lower_bound()


def test_check_catches_overlap():
    p = make_planner("greedy")
    p.add_buffer(100, 0, 2)
    p.add_buffer(100, 1, 3)
    p.plan()
    p.buffers[1].offset = 50
    with pytest.raises(AssertionError):
        p.check()


def brute_force_optimum(sizes, spans, unit=16):
    """Smallest arena over every assignment of offsets (in alignment units) — tiny cases only."""
    units = [(s + unit - 1) // unit for s in sizes]
    total = sum(units)
    best = total
    for offs in itertools.product(*[range(total - u + 1) for u in units]):
        top = max(o + u for o, u in zip(offs, units))
        if top >= best:
            continue
        ok = all(not (spans[i][0] <= spans[j][1] and spans[j][0] <= spans[i][1]
                      and offs[i] < offs[j] + units[j] and offs[j] < offs[i] + units[i])
                 for i in range(len(sizes)) for j in range(i + 1, len(sizes)))
        if ok:
            best = top
    return best * unit


def test_exact_planner_matches_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(40):
        n = int(rng.integers(2, 5))
        sizes = [int(rng.integers(1, 4)) * 16 for _ in range(n)]
        spans = []
        for _ in range(n):
            a = int(rng.integers(0, 5))
            spans.append((a, a + int(rng.integers(0, 3))))
        exact, greedy = make_planner("exact"), make_planner("greedy")
        for p in (exact, greedy):
            for s, (a, b) in zip(sizes, spans):
                p.add_buffer(s, a, b)
            p.plan()
            p.check()
        best = brute_force_optimum(sizes, spans)
        assert exact.arena_bytes == best, (sizes, spans)
        assert greedy.arena_bytes >= best


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_linked_parts_share_bytes_only_where_linked(name):
    """An in-place chain: a (64 B, ops 0-1) consumed by op 1, which writes b (256 B, ops 1-2) over it.
    As linked parts (a ends at half-step 2, b starts at 3) the chain does not hold 256 B from op 0, so
    c (192 B, ops 0-0) fits beside a: 256 B in all. As one rectangle it takes 448 B."""
    from tinydeploy.compile.plan.base import Part

    linked = make_planner(name, 16)
    linked.add_buffer(256, 0, 2, parts=[Part(0, 64, 0, 2), Part(0, 256, 3, 5)])
    linked.add_buffer(192, 0, 0)
    linked.plan()
    linked.check()
    assert linked.arena_bytes == 256 == linked.lower_bound()
    boxed = make_planner(name, 16)
    boxed.add_buffer(256, 0, 2)
    boxed.add_buffer(192, 0, 0)
    boxed.plan()
    assert boxed.arena_bytes == 448
    clash = make_planner(name, 16)  # d lives at op 1 (half-steps 2-3): it may not touch b's part
    clash.add_buffer(256, 0, 2, parts=[Part(0, 64, 0, 2), Part(0, 256, 3, 5)])
    clash.add_buffer(64, 1, 1)
    clash.plan()
    clash.check()
    assert clash.arena_bytes == 320


def test_in_place_chains_plan_below_their_bounding_boxes():
    """mcunet_like_80 (models/make_mcunet_like.py): the in-place expand/depthwise chains as linked parts
    reach the live-set lower bound; as bounding boxes the plan was 64,000 B (no in-place pays)."""
    from conftest import ROOT

    from tinydeploy.compile import compile_graph, load_model

    m = compile_graph(load_model(ROOT / "models" / "mcunet_like_80_float_io.tflite"))
    assert m.arena_bytes == m.lower_bound_bytes < 54_000 and m.plan.inplace_ops


def test_exact_planner_in_a_process_with_tensorflow_loaded():
    """OR-Tools segfaults after TensorFlow's native libraries are loaded (tinydeploy quantize, notebooks):
    the exact planner then solves in a fresh interpreter, with the same plan."""
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import tensorflow\nfrom tinydeploy.compile import compile_graph, load_model\n"
            f"m = compile_graph(load_model({str(ROOT / 'models' / 'vww96_int8.tflite')!r}))\n"
            "print('ARENA', m.arena_bytes, m.plan.optimal)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ARENA 39760 True" in r.stdout
