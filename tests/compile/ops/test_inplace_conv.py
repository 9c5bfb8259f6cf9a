"""In-place depthwise and 1x1 convolutions (td_inplace.h): small op chains compiled with the
planner's in-place option on and off must both be bit-exact with LiteRT, and in-place must
really be used and make the arena smaller."""
import math

import numpy as np
import pytest

from tinydeploy.compile.compiler import PlanOptions, compile_graph
from tinydeploy.compile.tflite import schema as S
from tinydeploy.compile.tflite.reader import parse_model
from tinydeploy.evaluate.reference import reference_outputs
from tinydeploy.target.host import build_host
from tinydeploy.testing.builder import ModelBuilder, options
from tinydeploy.testing.opcheck import Case, check_cases, random_inputs

SAME, VALID = S.Padding.SAME, S.Padding.VALID


class Chain:
    """Builds a chain of conv-like layers, each with fresh random weights and quantization."""

    def __init__(self, rng: np.random.Generator, dtype: str, shape: list[int]) -> None:
        self.rng, self.dtype, self.b = rng, dtype, ModelBuilder()
        self.scale = float(rng.uniform(0.01, 0.1))
        self.x = self.cur = self.b.tensor(shape, dtype, self.scale, self._zp())
        self.shape = list(shape)

    def _zp(self) -> int:
        return int(self.rng.integers(-100, 100)) if self.dtype == "int8" else 0

    def _quant(self, taps: int, channels: int):
        rng = self.rng
        w_scale = rng.uniform(0.005, 0.05, channels) if rng.random() < 0.5 else rng.uniform(0.005, 0.05, 1)
        out_scale = self.scale * float(w_scale[0]) * 80.0 * math.sqrt(taps) / float(rng.uniform(0.5, 2.0))
        return w_scale, out_scale

    def _bias(self, channels: int, w_scale, taps: int) -> int:
        kind = "int32" if self.dtype == "int8" else "int64"
        data = self.rng.normal(0, 3000 * math.sqrt(taps) * (256 if self.dtype == "int16" else 1), channels).round()
        return self.b.tensor([channels], kind, self.scale * w_scale, 0, data=data)

    def _out(self, shape: list[int], out_scale: float) -> int:
        y = self.b.tensor(shape, self.dtype, out_scale, self._zp())
        self.scale, self.shape, self.cur = out_scale, shape, y
        return y

    def conv(self, cout: int, f: int = 1, stride: int = 1, padding: int = SAME, act: int = 0) -> int:
        n, h, w, cin = self.shape
        w_scale, out_scale = self._quant(f * f * cin, cout)
        wt = self.b.tensor([cout, f, f, cin], "int8", w_scale, 0,
                           data=self.rng.integers(-127, 128, (cout, f, f, cin)), axis=0)
        bias = self._bias(cout, w_scale, f * f * cin)
        oh, ow = ((h + stride - 1) // stride, (w + stride - 1) // stride) if padding == SAME else \
            ((h - f) // stride + 1, (w - f) // stride + 1)
        src = self.cur
        y = self._out([n, oh, ow, cout], out_scale)
        self.b.op("CONV_2D", [src, wt, bias], [y], options("Conv2DOptions", padding=padding, strideH=stride,
                                                             strideW=stride, fusedActivationFunction=act))
        return y

    def dw(self, f: int = 3, stride: int = 1, padding: int = SAME, act: int = 0) -> int:
        n, h, w, c = self.shape
        w_scale, out_scale = self._quant(f * f, c)
        wt = self.b.tensor([1, f, f, c], "int8", w_scale, 0, data=self.rng.integers(-127, 128, (1, f, f, c)), axis=3)
        bias = self._bias(c, w_scale, f * f)
        oh, ow = ((h + stride - 1) // stride, (w + stride - 1) // stride) if padding == SAME else \
            ((h - f) // stride + 1, (w - f) // stride + 1)
        src = self.cur
        y = self._out([n, oh, ow, c], out_scale)
        self.b.op("DEPTHWISE_CONV_2D", [src, wt, bias], [y],
                  options("DepthwiseConv2DOptions", padding=padding, strideH=stride, strideW=stride,
                          depthMultiplier=1, fusedActivationFunction=act))
        return y

    def build(self) -> bytes:
        return self.b.build([self.x], [self.cur])


def chains(dtype: str, seed: int) -> list[tuple[str, bytes, set[int]]]:
    """(label, model, op indices that must run in place)."""
    rng = np.random.default_rng(seed)
    out = []
    # conv -> depthwise -> 1x1 expanding -> 1x1 shrinking
    c = Chain(rng, dtype, [1, 8, 8, 4])
    c.conv(8, f=3, act=1)
    c.dw(f=3, act=3)
    c.conv(16)
    c.conv(6)
    out.append(("conv3x3 dw3x3 pw8->16 pw16->6", c.build(), {1, 2, 3}))
    # depthwise with stride 2 and VALID padding (output smaller than input) over the graph input,
    # then 1x1 convs expanding and shrinking
    c = Chain(rng, dtype, [1, 10, 11, 16])
    c.dw(f=3, stride=2, padding=VALID, act=1)
    c.conv(24, act=3)
    c.conv(20)
    out.append(("dw3x3/2 pw16->24 pw24->20", c.build(), {0, 1, 2}))
    # two batches: the depthwise stays out of place (its in-place kernel wants batch 1), the 1x1
    # convs run in place over both batches
    c = Chain(rng, dtype, [2, 6, 6, 4])
    c.dw(f=5, padding=SAME, act=3)
    c.conv(12, act=1)
    c.conv(5)
    out.append(("b2 dw5x5 pw4->12 pw12->5", c.build(), {1, 2}))
    # depthwise 5x5, then a 1x1 conv that keeps the channel count
    c = Chain(rng, dtype, [1, 6, 7, 2])
    c.conv(12, f=2, padding=SAME)
    c.dw(f=5, act=1)
    c.conv(12, act=2)
    out.append(("conv2x2 dw5x5 pw12->12", c.build(), {1, 2}))
    return out


@pytest.mark.parametrize("dtype,seed", [("int8", 41), ("int16", 42)])
def test_inplace_conv_chains(dtype, seed):
    items = chains(dtype, seed)
    on = [compile_graph(parse_model(m, name=f"on{i}"), prefix=f"on{i}") for i, (_, m, _) in enumerate(items)]
    off = [compile_graph(parse_model(m, name=f"off{i}"), prefix=f"off{i}", options=PlanOptions(inplace=False))
           for i, (_, m, _) in enumerate(items)]
    for (label, _, want), a, b in zip(items, on, off):
        assert set(a.plan.inplace_ops) == want, f"{label}: in place {sorted(a.plan.inplace_ops)}, want {want}"
        assert not b.plan.inplace_ops
        assert a.arena_bytes < b.arena_bytes, f"{label}: arena {a.arena_bytes} vs {b.arena_bytes} without"
        assert "_inplace(" in a.source and "_inplace(" not in b.source
    exe = build_host(on + off)
    rng = np.random.default_rng(seed)
    failures = []
    for i, (label, model, _) in enumerate(items):
        xs = random_inputs(on[i].graph, 3, rng)
        ref = reference_outputs(model, xs)[0]
        for k, variant in ((i, "in place"), (len(items) + i, "out of place")):
            ours = exe.run(k, xs)[0].reshape(ref.shape)
            if not np.array_equal(ours, ref):
                failures.append(f"{label} {variant}: {int((ours != ref).sum())} of {ref.size} differ")
    assert failures == []


def test_inplace_conv_sanitized():
    cases = [Case(m, f"{dtype} {label}", samples=2) for dtype, seed in (("int8", 43), ("int16", 44))
             for label, m, _ in chains(dtype, seed)]
    assert check_cases(cases, seed=5, sanitize=True) == []
