"""Patch-based inference (passes/patch.py): receptive fields, the rewrite, --patch auto, and
bit-exactness vs LiteRT BUILTIN_REF of random small CNNs with patching forced (random strides,
paddings, dilations, pools, activations, residual ADD/SUB/MUL/MAXIMUM/MINIMUM blocks, grids,
split points), all in one sanitized binary."""
import json
import math

import numpy as np
import pytest

from tinydeploy.compile.compiler import compile_graph
from tinydeploy.compile.ops.td_place import region_span
from tinydeploy.compile.ops.window import out_size, window
from tinydeploy.compile.passes import patch as P
from tinydeploy.compile.plan.arena import PlanOptions
from tinydeploy.compile.tflite import schema as S
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.compile.verify import verify
from tinydeploy.errors import TinyDeployError
from tinydeploy.evaluate.data import random_inputs
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host
from tinydeploy.testing.builder import ModelBuilder, options

SAME, VALID = S.Padding.SAME, S.Padding.VALID


# -- random small CNNs -------------------------------------------------------------------------
class Net:
    """A chain of ops built with ModelBuilder; tracks the current tensor's shape and quantization."""

    def __init__(self, rng, dtype, h, w, c):
        self.rng, self.dtype, self.b = rng, dtype, ModelBuilder()
        self.scale = float(rng.uniform(0.02, 0.1))
        self.zp = int(rng.integers(-100, 100)) if dtype == "int8" else 0
        self.x = self.b.tensor([1, h, w, c], dtype, self.scale, self.zp)
        self.cur, self.shape, self.kinds, self.spatial = self.x, (1, h, w, c), [], []

    def _out(self, shape, scale, zp):
        self.cur = self.b.tensor(list(shape), self.dtype, scale, zp)
        self.shape, self.scale, self.zp = tuple(shape), scale, zp
        return self.cur

    def _zp(self):
        return int(self.rng.integers(-128, 128)) if self.dtype == "int8" else 0

    def _window(self, max_f=5, keep=False, one=False):
        r = self.rng
        for _ in range(50):
            fh, fw = int(r.integers(1, max_f + 1)), int(r.integers(1, max_f + 1))
            sh, sw = int(r.choice([1, 1, 2, 3])), int(r.choice([1, 1, 2, 3]))
            dh, dw = (int(r.choice([1, 2, 3])), int(r.choice([1, 2]))) if r.random() < 0.3 else (1, 1)
            pad = int(r.choice([SAME, VALID]))
            if keep:  # shape-preserving (residual branches)
                sh, sw, pad = 1, 1, SAME
            if one:
                fh = fw = 1
            win = window(pad, tuple(self.shape[1:3]), (fh, fw), (sh, sw), (dh, dw))
            oh, ow = win.out_h, win.out_w
            if oh >= 1 and ow >= 1 and oh * ow >= 2:
                return fh, fw, sh, sw, dh, dw, pad, oh, ow
        return None

    def conv(self, depthwise=False, keep=False, one=False):
        win = self._window(keep=keep, one=one)
        if win is None:
            return False
        fh, fw, sh, sw, dh, dw, pad, oh, ow = win
        r, cin = self.rng, self.shape[3]
        cout = cin * int(r.choice([1, 1, 2])) if depthwise else int(r.integers(1, 7))
        if keep:
            cout = cin
        taps = fh * fw * (1 if depthwise else cin)
        pc = bool(r.integers(0, 2))
        w_scale = r.uniform(0.002, 0.05, cout if pc else 1)
        out_scale = self.scale * float(w_scale[0]) * 80.0 * math.sqrt(taps) / float(r.uniform(0.3, 3.0))
        wshape = [1, fh, fw, cout] if depthwise else [cout, fh, fw, cin]
        wt = self.b.tensor(wshape, "int8", w_scale, 0, data=r.integers(-127, 128, wshape), axis=3 if depthwise else 0)
        bias_std = 60 * 74 * math.sqrt(taps) * (256 if self.dtype == "int16" else 1)
        bias = self.b.tensor([cout], "int32" if self.dtype == "int8" else "int64", self.scale * w_scale, 0,
                             data=r.normal(0, bias_std, cout).round())
        x = self.cur
        y = self._out((1, oh, ow, cout), out_scale, self._zp())
        act = int(r.choice([0, 1, 3]))
        if depthwise:
            self.b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], options(
                "DepthwiseConv2DOptions", padding=pad, strideH=sh, strideW=sw, dilationHFactor=dh, dilationWFactor=dw,
                depthMultiplier=cout // cin, fusedActivationFunction=act))
        else:
            self.b.op("CONV_2D", [x, wt, bias], [y], options(
                "Conv2DOptions", padding=pad, strideH=sh, strideW=sw, dilationHFactor=dh, dilationWFactor=dw,
                fusedActivationFunction=act))
        self.kinds.append(f"{'dw' if depthwise else 'conv'}{fh}x{fw}s{sh}{sw}d{dh}{dw}{'SV'[pad]}")
        self.spatial.append(True)
        return True

    def pool(self, keep=False):
        r = self.rng
        fh, fw, sh, sw = int(r.integers(1, 4)), int(r.integers(1, 4)), int(r.integers(1, 4)), int(r.integers(1, 4))
        pad = int(r.choice([0, 1]))
        if keep:
            sh, sw, pad = 1, 1, 0
        oh, ow = out_size(pad, self.shape[1], fh, sh), out_size(pad, self.shape[2], fw, sw)
        if oh < 1 or ow < 1 or oh * ow < 2:
            return False
        kind = str(r.choice(["AVERAGE_POOL_2D", "MAX_POOL_2D"]))
        x = self.cur
        y = self._out((1, oh, ow, self.shape[3]), self.scale, self.zp)
        self.b.op(kind, [x], [y], options("Pool2DOptions", padding=pad, strideH=sh, strideW=sw, filterHeight=fh,
                                          filterWidth=fw, fusedActivationFunction=int(r.choice([0, 1]))))
        self.kinds.append(f"{kind[:3].lower()}pool{fh}x{fw}s{sh}{sw}{'SV'[pad]}")
        self.spatial.append(True)
        return True

    def unary(self):
        kind = str(self.rng.choice(["RELU", "RELU6", "QUANTIZE"] if self.dtype == "int8" else ["RELU", "RELU6"]))
        x = self.cur
        y = self._out(self.shape, self.scale * float(self.rng.uniform(0.5, 2.0)), self._zp())
        self.b.op(kind, [x], [y])
        self.kinds.append(kind.lower())
        self.spatial.append(False)
        return True


    def residual(self):
        """x -> 1..2 shape-preserving ops -> y; then ADD/SUB/MUL/MAXIMUM/MINIMUM(x, y)."""
        r = self.rng
        x, xs, x_zp = self.cur, self.scale, self.zp
        for _ in range(int(r.integers(1, 3))):
            pick = r.random()
            if pick < 0.6:
                self.conv(depthwise=pick < 0.25, keep=True)
            elif pick < 0.8:
                self.pool(keep=True)
            else:
                self.unary()
        y, ys = self.cur, self.scale
        if r.random() < 0.4:  # a fork: x also goes through a 1x1 conv (often in place) after the branch
            y_state = (self.cur, self.shape, self.scale, self.zp)
            self.cur, self.shape, self.scale, self.zp = x, y_state[1], xs, x_zp
            self.conv(keep=True, one=True)
            x, xs = self.cur, self.scale
            self.cur, self.shape, self.scale, self.zp = y_state
        kind = str(r.choice(["ADD", "ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"]))
        if kind == "MUL":
            out_scale = xs * ys * 127 * float(r.uniform(0.3, 1.5))
        else:
            out_scale = (xs + ys) * float(r.uniform(0.5, 1.5))
        a, b = (x, y) if r.random() < 0.5 else (y, x)
        out = self._out(self.shape, out_scale, self._zp())
        act = int(r.choice([0, 1]))
        opts = {"ADD": options("AddOptions", fusedActivationFunction=act),
                "SUB": options("SubOptions", fusedActivationFunction=act),
                "MUL": options("MulOptions", fusedActivationFunction=act)}.get(kind)
        self.b.op(kind, [a, b], [out], opts)
        self.kinds.append(kind.lower())
        self.spatial.append(False)
        return True


def cnn_case(rng, dtype="int8"):
    """(tflite bytes, patch spec, label) of a random CNN whose first ops get patched. A draw is redrawn
    only when LiteRT (the oracle) refuses it or its split point has no spatial op to patch; a model LiteRT
    runs must compile."""
    for _ in range(200):
        net = Net(rng, dtype, int(rng.integers(6, 25)), int(rng.integers(6, 25)), int(rng.integers(1, 5)))
        n_stage = int(rng.integers(1, 5))
        while len(net.kinds) < n_stage:
            pick = rng.random()
            ok = net.conv(depthwise=pick < 0.3) if pick < 0.6 else (net.pool() if pick < 0.72 else
                                                                    net.unary() if pick < 0.8 else net.residual())
            if not ok:
                break
        if True not in net.spatial:
            continue
        split = int(rng.integers(net.spatial.index(True), len(net.kinds)))
        t_shape = net.b.tensors[net.b.operators[split].outputs[0]].shape  # the split tensor
        if t_shape[1] * t_shape[2] < 2:
            continue
        for _ in range(int(rng.integers(0, 3))):  # ops after the split run on the whole tensor
            (net.conv if rng.random() < 0.7 else net.pool)()
        while True:
            ph, pw = int(rng.integers(1, min(5, t_shape[1]) + 1)), int(rng.integers(1, min(5, t_shape[2]) + 1))
            if (ph, pw) != (1, 1):
                break
        model = net.b.build([net.x], [net.cur])
        try:
            reference_outputs(model, [np.zeros((1,) + tuple(net.b.tensors[net.x].shape), np.int8 if dtype == "int8"
                                               else np.int16)])
        except TinyDeployError:  # LiteRT refused the model
            continue
        compile_graph(parse_model(model))
        try:
            P.stage_of(parse_model(model), split)
        except P.PatchError as exc:  # not a patchable split (the stage has no spatial op): draw another
            assert "no spatial op" in str(exc), exc
            continue
        label = f"{dtype} {list(net.b.tensors[net.x].shape)} {' '.join(net.kinds)} split {split} grid {ph}x{pw}"
        return model, f"{split}:{ph}x{pw}", label
    raise AssertionError("200 draws without a usable case")


def test_random_cnns_bit_exact_with_forced_patching_sanitized():
    rng = np.random.default_rng(2024)
    cases = [cnn_case(rng, "int8") for _ in range(84)] + [cnn_case(rng, "int16") for _ in range(24)]
    models = []
    for i, (model, spec, label) in enumerate(cases):
        opts = PlanOptions(planner=str(rng.choice(["greedy", "greedy", "exact"])), patch=spec,
                           inplace=bool(rng.random() < 0.85))
        m = compile_graph(parse_model(model, name=f"p{i}"), prefix=f"p{i}", options=opts)
        assert m.patch.enabled and m.patch.grid == tuple(int(v) for v in spec.split(":")[1].split("x")), label
        models.append(m)
    exe = build_host(models, sanitize=True)
    failures = []
    for i, ((model, spec, label), m) in enumerate(zip(cases, models)):
        xs = random_inputs(m.graph, 3, rng)
        for a, b in zip(exe.run(i, xs), reference_outputs(model, xs)):
            a = a.reshape(b.shape)
            if not np.array_equal(a, b):
                failures.append(f"{label}: {int((a != b).sum())} of {a.size} values differ")
    assert failures == []
    assert len(cases) >= 100


# -- the pieces --------------------------------------------------------------------------------
def _brute_rows(lo, hi, f, s, d, p, size):
    """Input rows touched by output rows [lo, hi) (taps inside the input only)."""
    rows = {oy * s - p + k * d for oy in range(lo, hi) for k in range(f)}
    rows = [r for r in rows if 0 <= r < size]
    return min(rows), max(rows) + 1


def test_receptive_field_matches_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(300):
        f, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        size = int(rng.integers(f * d, 40))
        pad = int(rng.choice([SAME, VALID]))
        win = window(pad, (size, 1), (f, 1), (s, 1), (d, 1))
        out, p = win.out_h, win.pad_h
        if out < 1:
            continue
        lo = int(rng.integers(0, out))
        hi = int(rng.integers(lo + 1, out + 1))
        op = P.Op(0, "X", [0], [1])

        class G:  # just what _axis_back reads
            tensors = [P.Tensor(0, "x", (1, size, 1, 1), "int8"), P.Tensor(1, "y", (1, out, 1, 1), "int8")]
        (r0, r1, pad_top), _ = P._axis_back([op], G, [win], lo, hi, 0)
        b0, b1 = _brute_rows(lo, hi, f, s, d, p, size)
        # every row a tap touches is in the region, and the region stays in the image (with
        # dilation it may hold a few rows no tap reads; without it, it is exactly the touched rows)
        assert 0 <= r0 <= b0 and b1 <= r1 <= size
        if d == 1:
            assert (r0, r1) == (b0, b1)
        # the clone's padding: 0 inside the image, what is left of the real padding at the top border
        assert pad_top == max(0, p - lo * s)


def test_parse_patch():
    assert P.parse_patch("off") == "off" and P.parse_patch("AUTO") == "auto"
    assert P.parse_patch(" 7 : 3x2 ") == (7, (3, 2))
    for bad in ("7", "7:3", "x", "7:3x"):
        with pytest.raises(TinyDeployError, match="--patch"):
            P.parse_patch(bad)


def _digits():
    from conftest import ROOT

    from tinydeploy.compile.tflite.reader import load_model
    return ROOT / "models" / "digits_cnn_int8.tflite", load_model(ROOT / "models" / "digits_cnn_int8.tflite")


def test_forced_patch_rewrite_and_errors():
    _, g = _digits()  # CONV_2D, DEPTHWISE_CONV_2D, CONV_2D, MAX_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX
    assert P.valid_splits(g) == [0, 1, 2, 3]
    g2, info = P.apply_patch(g, 2, (2, 2))
    kinds = [op.kind for op in g2.ops]
    assert kinds.count("TD_CROP") == 4 and kinds.count("TD_PLACE") == 4 and kinds.count("CONV_2D") == 8
    assert kinds[-3:] == ["RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert [op.index for op in g2.ops] == list(range(len(g2.ops)))
    assert info.stage_ops == 3 and info.grid == (2, 2) and info.patched_macs > info.macs
    verify(g2)
    for spec, why in [("4:2x2", "cannot patch"), ("9:2x2", "does not exist"), ("2:9x1", "does not fit"),
                      ("2:1x1", "does not fit")]:
        with pytest.raises(P.PatchError, match=why):
            compile_graph(g, options=PlanOptions(patch=spec))


def test_stage_output_never_overwrites_input_rows_still_to_read():
    """The planner's offsets keep what tile k writes into T below what later tiles read of S."""
    _, g = _digits()
    for split, grid in [(0, (2, 2)), (1, (4, 1)), (2, (3, 3)), (3, (2, 4))]:
        m = compile_graph(g, options=PlanOptions(patch=f"{split}:{grid[0]}x{grid[1]}"))
        g2, off = m.graph, m.tensor_offsets
        crops = [op for op in g2.ops if op.kind == "TD_CROP"]
        places = [op for op in g2.ops if op.kind == "TD_PLACE"]
        s_id, t_id = crops[0].inputs[0], places[0].outputs[0]
        S, T = g2.tensors[s_id], g2.tensors[t_id]
        for k, pl in enumerate(places):
            lo_t, hi_t = region_span(T.shape, pl.options.begin, pl.options.size)
            w0, w1 = off[t_id] + lo_t * T.itemsize, off[t_id] + hi_t * T.itemsize
            for later in crops[k + 1:]:
                lo_s, hi_s = region_span(S.shape, later.options.begin, later.options.size)
                r0, r1 = off[s_id] + lo_s * S.itemsize, off[s_id] + hi_s * S.itemsize
                assert w1 <= r0 or r1 <= w0, (split, grid, k)


def test_auto_respects_the_mac_budget_and_reports():
    _, g = _digits()
    m = compile_graph(g, options=PlanOptions(patch="auto", patch_budget=0.5))
    info = m.patch
    assert info.enabled, info.reason  # +50% MACs buys the digits CNN a smaller arena
    assert info.macs_overhead <= 0.5 and info.arena_bytes == m.arena_bytes
    assert info.arena_bytes < info.unpatched_arena_bytes
    zero = compile_graph(g, options=PlanOptions(patch="auto", patch_budget=0.0))
    assert zero.patch.patched_macs == zero.patch.macs  # only one-op stages recompute nothing
    assert not zero.patch.enabled  # and none of those is smaller: auto keeps the plain plan and says why
    assert zero.patch.reason and zero.arena_bytes == compile_graph(g).arena_bytes


def test_plan_json_has_patch_fields():
    from typer.testing import CliRunner

    from tinydeploy.cli import app

    path, _ = _digits()
    r = CliRunner().invoke(app, ["plan", str(path), "--patch", "1:2x2", "--json", "--no-tflm"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    p = d["patch"]
    assert p["enabled"] and p["split_op"] == 1 and p["grid"] == [2, 2]
    assert p["arena_bytes"] == d["arena_bytes"] and p["macs_overhead"] > 0
    r = CliRunner().invoke(app, ["plan", str(path), "--patch", "bogus", "--no-tflm"])
    assert r.exit_code != 0
