"""What would make a model fit (target/whatif.py): resolution x width candidates estimated from the graph
(at 1.0 exactly the real plan; a model built smaller with the builder matches its estimate exactly), and
the arena in PSRAM (board profiles with a psram region, PlanOptions.arena_region, EXT_RAM_BSS_ATTR in C
that the Xtensa toolchain compiles and places in .ext_ram.bss)."""
import difflib
import shutil
import subprocess

import numpy as np
import pytest
from conftest import ROOT

from tinydeploy.compile import PlanOptions, compile_graph, load_model, op_rows, parse_model
from tinydeploy.errors import TinyDeployError
from tinydeploy.paths import RUNTIME_DIR
from tinydeploy.target import board_options, check_fit, cross_compile, list_boards, load_board
from tinydeploy.target import boards as boards_mod
from tinydeploy.target.crosscheck import validate_platformio_ini
from tinydeploy.target.platformio import platformio_ini
from tinydeploy.target.whatif import best_candidate, nearest_candidate, psram_candidate, scaled_candidates
from tinydeploy.target.whatif_scale import ScaleError, scale_graph, scaled
from tinydeploy.testing.builder import ModelBuilder, options

REPO_MODELS = sorted([*(ROOT / "tests" / "data" / "models").glob("*.tflite"), *(ROOT / "models").glob("*.tflite")])


@pytest.mark.parametrize("path", REPO_MODELS, ids=lambda p: p.stem)
def test_factor_one_is_the_real_plan_and_mac_count(path):
    g = load_model(path)
    opts = board_options("qemu-m4")              # arm-dsp: kernel scratch counts in the arena too
    real = compile_graph(g, options=opts)
    (c,) = scaled_candidates(g, "qemu-m4", opts, resolutions=(1.0,), widths=(1.0,))
    assert not c.problem
    assert c.arena_bytes == real.arena_bytes
    assert c.macs == sum(r.macs for r in op_rows(g)) > 0
    assert c.weights_bytes == real.weights_bytes
    fit = check_fit(real, "qemu-m4")
    assert (c.ram_needed, c.flash_needed, c.fits) == (fit.ram_needed, fit.flash_needed, fit.fits)


def _ch(c: int, width: float) -> int:
    return scaled(c, width)


def cnn(h: int, w: int, width: float = 1.0, seed: int = 0) -> bytes:
    """x[1,h,w,3] -> conv3x3 s2 SAME (16) -> dw3x3 -> conv1x1 (24) -> conv3x3 SAME + ADD -> maxpool 2x2 VALID
    -> conv3x3 s2 VALID (32) -> global average pool -> reshape -> FC 10 -> softmax; per-channel weights."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    c1, c2, c3 = _ch(16, width), _ch(24, width), _ch(32, width)

    def conv(x, cin, cout, k, stride, pad, hw, relu=1):
        wt = b.tensor([cout, k, k, cin], "int8", [0.01] * cout, [0] * cout, axis=0,
                      data=rng.integers(-127, 128, (cout, k, k, cin)))
        bias = b.tensor([cout], "int32", [0.0005] * cout, [0] * cout, data=rng.integers(-999, 999, cout))
        y = b.tensor([1, *hw, cout], "int8", 0.05, -3)
        b.op("CONV_2D", [x, wt, bias], [y], options("Conv2DOptions", padding=pad, strideH=stride, strideW=stride,
                                                    fusedActivationFunction=relu))
        return y

    def same(n, s):
        return -(-n // s)

    x = b.tensor([1, h, w, 3], "int8", 0.02, -1)
    hw1 = (same(h, 2), same(w, 2))
    a = conv(x, 3, c1, 3, 2, 0, hw1)
    dw_w = b.tensor([1, 3, 3, c1], "int8", [0.02] * c1, [0] * c1, axis=3, data=rng.integers(-127, 128, (1, 3, 3, c1)))
    dw_b = b.tensor([c1], "int32", [0.001] * c1, [0] * c1, data=rng.integers(-99, 99, c1))
    d = b.tensor([1, *hw1, c1], "int8", 0.05, -3)
    b.op("DEPTHWISE_CONV_2D", [a, dw_w, dw_b], [d], options("DepthwiseConv2DOptions", padding=0, strideH=1, strideW=1,
                                                             depthMultiplier=1, fusedActivationFunction=1))
    p = conv(d, c1, c2, 1, 1, 1, hw1, relu=0)
    r = conv(p, c2, c2, 3, 1, 0, hw1, relu=0)
    s = b.tensor([1, *hw1, c2], "int8", 0.06, 2)
    b.op("ADD", [p, r], [s], options("AddOptions", fusedActivationFunction=1))
    hw2 = (hw1[0] // 2, hw1[1] // 2)
    m = b.tensor([1, *hw2, c2], "int8", 0.06, 2)
    b.op("MAX_POOL_2D", [s], [m], options("Pool2DOptions", padding=1, strideH=2, strideW=2, filterHeight=2,
                                          filterWidth=2))
    hw3 = ((hw2[0] - 3) // 2 + 1, (hw2[1] - 3) // 2 + 1)
    v = conv(m, c2, c3, 3, 2, 1, hw3)
    gp = b.tensor([1, 1, 1, c3], "int8", 0.05, -3)
    b.op("AVERAGE_POOL_2D", [v], [gp], options("Pool2DOptions", padding=1, strideH=hw3[0], strideW=hw3[1],
                                               filterHeight=hw3[0], filterWidth=hw3[1]))
    flat = b.tensor([1, c3], "int8", 0.05, -3)
    b.op("RESHAPE", [gp, b.tensor([2], "int32", data=np.array([1, c3]))], [flat], options("ReshapeOptions"))
    fw = b.tensor([10, c3], "int8", 0.01, 0, data=rng.integers(-127, 128, (10, c3)))
    fb = b.tensor([10], "int32", 0.0005, 0, data=rng.integers(-999, 999, 10))
    logits = b.tensor([1, 10], "int8", 0.1, 0)
    b.op("FULLY_CONNECTED", [flat, fw, fb], [logits], options("FullyConnectedOptions"))
    prob = b.tensor([1, 10], "int8", 1 / 256, -128)
    b.op("SOFTMAX", [logits], [prob], options("SoftmaxOptions", beta=1.0))
    return b.build([x], [prob])


@pytest.mark.parametrize("resolution,width", [(0.875, 1.0), (0.625, 0.75), (0.5, 0.35), (0.75, 0.5)])
def test_a_model_built_smaller_matches_its_estimate_exactly(resolution, width):
    """Tolerance: none. The estimate plans the same shapes as the model built at that size (SAME rounds up:
    30 x 0.625 = 19 -> 10 after the stride-2 conv; VALID rounds down), so arena, MACs and weights agree."""
    opts = board_options("qemu-m4")
    (c,) = scaled_candidates(parse_model(cnn(30, 26)), "qemu-m4", opts, resolutions=(resolution,), widths=(width,))
    h, w = scaled(30, resolution), scaled(26, resolution)
    built = parse_model(cnn(h, w, width, seed=1))
    real = compile_graph(built, options=opts)
    macs = {}
    for r in op_rows(built):
        macs[r.kind] = macs.get(r.kind, 0) + r.macs
    assert c.input_shapes == [(1, h, w, 3)] and not c.problem
    assert (c.arena_bytes, c.macs, c.macs_by_kind, c.weights_bytes) == \
        (real.arena_bytes, sum(macs.values()), macs, real.weights_bytes)
    assert c.ram_needed == check_fit(real, "qemu-m4").ram_needed


def decoder(h: int, width: float = 1.0) -> bytes:
    """x[1,h,h,2] -> conv s2 SAME (8) -> ADD a constant [1,1,1,8] -> CONCATENATION -> TRANSPOSE_CONV s2 (12)
    -> conv 1x1 (3 outputs, kept)."""
    rng = np.random.default_rng(0)
    b = ModelBuilder()
    c1, c2, hh = scaled(8, width), scaled(12, width), -(-h // 2)

    def weights(*shape):
        return b.tensor(list(shape), "int8", 0.01, 0, data=rng.integers(-9, 9, shape))

    x = b.tensor([1, h, h, 2], "int8", 0.02, 0)
    y = b.tensor([1, hh, hh, c1], "int8", 0.05, 0)
    b.op("CONV_2D", [x, weights(c1, 3, 3, 2), b.tensor([c1], "int32", 0.0002, 0, data=np.zeros(c1))], [y],
         options("Conv2DOptions", padding=0, strideH=2, strideW=2))
    z = b.tensor([1, hh, hh, c1], "int8", 0.05, 0)
    b.op("ADD", [y, b.tensor([1, 1, 1, c1], "int8", 0.05, 0, data=rng.integers(-9, 9, (1, 1, 1, c1)))], [z],
         options("AddOptions"))
    cat = b.tensor([1, hh, hh, 2 * c1], "int8", 0.05, 0)
    b.op("CONCATENATION", [y, z], [cat], options("ConcatenationOptions", axis=3))
    up = b.tensor([1, 2 * hh, 2 * hh, c2], "int8", 0.05, 0)
    b.op("TRANSPOSE_CONV", [b.tensor([4], "int32", data=np.array([1, 2 * hh, 2 * hh, c2])), weights(c2, 3, 3, 2 * c1),
                            cat], [up], options("TransposeConvOptions", padding=0, strideH=2, strideW=2))
    out = b.tensor([1, 2 * hh, 2 * hh, 3], "int8", 0.05, 0)
    b.op("CONV_2D", [up, weights(3, 1, 1, c2), b.tensor([3], "int32", 0.0005, 0, data=np.zeros(3))], [out],
         options("Conv2DOptions", padding=0, strideH=1, strideW=1))
    return b.build([x], [out])


def test_transpose_conv_concatenation_and_constants_follow():
    (c,) = scaled_candidates(parse_model(decoder(20)), "qemu-m4", resolutions=(0.625,), widths=(0.35,))
    real = compile_graph(parse_model(decoder(scaled(20, 0.625), 0.35)))
    assert (c.arena_bytes, c.macs, c.weights_bytes) == \
        (real.arena_bytes, sum(r.macs for r in op_rows(real.graph)), real.weights_bytes)


def test_shapes_follow_each_op_rule():
    g = scale_graph(parse_model(cnn(30, 26)), 0.625, 0.5)
    shapes = [tuple(g.tensors[op.outputs[0]].shape) for op in g.ops]
    # 19x16 -> SAME s2: ceil -> 10x8; maxpool VALID -> 5x4; conv 3x3 s2 VALID -> 2x1; the global pool stays global
    assert shapes[0] == (1, 10, 8, 8) and shapes[5] == (1, 5, 4, 12) and shapes[6] == (1, 2, 1, 16)
    assert shapes[7] == (1, 1, 1, 16) and (g.ops[7].options.filterHeight, g.ops[7].options.filterWidth) == (2, 1)
    assert shapes[-1] == (1, 10) and g.tensors[g.ops[0].inputs[1]].shape == (8, 3, 3, 3)   # classes, RGB kept
    assert g.tensors[g.ops[0].inputs[1]].quant.scale.size == 8                          # per-channel scales follow


def test_repo_models_scale_without_touching_the_contract():
    vww = load_model(ROOT / "models" / "vww96_int8.tflite")
    g = scale_graph(vww, 0.5, 0.35)
    assert g.tensors[g.inputs[0]].shape == (1, 48, 48, 3) and g.tensors[g.outputs[0]].shape == (1, 2)
    assert tuple(vww.tensors[vww.inputs[0]].shape) == (1, 96, 96, 3)          # the original is left alone
    kws = scale_graph(load_model(ROOT / "tests" / "data" / "models" / "kws_ref_model.tflite"), 0.5, 1.0)
    pool = next(op for op in kws.ops if op.kind == "AVERAGE_POOL_2D")
    assert kws.tensors[pool.inputs[0]].shape[1:3] == (13, 3) and kws.tensors[pool.outputs[0]].shape == (1, 1, 1, 64)
    cands = scaled_candidates(load_model(ROOT / "tests" / "data" / "models" / "hello_world_int8.tflite"), "uno")
    assert [(c.resolution, c.width) for c in cands] == [(1.0, w) for w in (1.0, 0.75, 0.5, 0.35)]  # no image input
    assert [c.macs for c in cands] == sorted((c.macs for c in cands), reverse=True) and cands[-1].macs < cands[0].macs


def test_an_op_it_cannot_rescale_is_a_problem_not_a_crash():
    b = ModelBuilder()
    x = b.tensor([1, 8, 8, 4], "int8", 0.1, 0)
    y = b.tensor([1, 8, 4, 8], "int8", 0.1, 0)
    b.op("TRANSPOSE", [x, b.tensor([4], "int32", data=np.array([0, 2, 3, 1]))], [y], options("TransposeOptions"))
    g = parse_model(b.build([x], [y]))
    ok, smaller = scaled_candidates(g, "qemu-m4", resolutions=(1.0, 0.5), widths=(1.0,))
    assert not ok.problem and ok.fits
    assert "op 0 TRANSPOSE" in smaller.problem and not smaller.fits
    # 8x8 at 0.5: 4 -> 2 (conv s2) -> 1 (max pool) and the VALID 3x3 conv has no output left
    (tiny,) = scaled_candidates(parse_model(cnn(8, 8)), "qemu-m4", resolutions=(0.5,), widths=(1.0,))
    assert tiny.problem == "op 6 CONV_2D: its input (1, 1, 1, 24) is smaller than its window: no output"
    passed = compile_graph(load_model(ROOT / "models" / "mcunet_like_80_float_io.tflite")).graph  # PADs folded
    with pytest.raises(ScaleError, match="rescale the graph as loaded"):
        scale_graph(passed, 0.5)


def test_best_and_nearest_candidates():
    g = load_model(ROOT / "tests" / "data" / "models" / "resnet8_int8.tflite")
    f446 = scaled_candidates(g, "nucleo_f446re", board_options("nucleo_f446re"), widths=(1.0, 0.5))
    assert best_candidate(f446) is f446[0] and (f446[0].resolution, f446[0].width) == (1.0, 1.0)
    uno = scaled_candidates(g, "uno", board_options("uno"), resolutions=(1.0, 0.5), widths=(1.0, 0.35))
    assert best_candidate(uno) is None and not any(c.fits for c in uno)
    near = nearest_candidate(uno)          # "no; the nearest candidate needs ..."
    assert (near.resolution, near.width) == (0.5, 0.35) and near.ram_needed > near.ram_budget
    d = near.to_dict()
    assert d["estimate"] and d["fits"] is False and d["input_shapes"] == [[1, 16, 16, 3]] and d["macs"] == near.macs
    (host,) = scaled_candidates(g, "host", resolutions=(0.5,), widths=(0.5,))
    assert host.fits and check_fit(compile_graph(g), "host").fits         # the host has no budget, as check_fit


# ---- PSRAM ----

def test_psram_boards():
    for board_id, pio_board, flags in (("esp32-wrover", "esp-wrover-kit", "-mfix-esp32-psram-cache-issue"),
                                       ("esp32-s3-psram", "esp32-s3-devkitc-1", "-DBOARD_HAS_PSRAM")):
        b = load_board(board_id)
        (psram,) = b.regions("psram")
        assert psram.size == 8 << 20 and b.kind == "real" and b.platformio["board"] == pio_board
        extra = b.pio_env["board_build.extra_flags"]
        assert "-DBOARD_HAS_PSRAM" in extra and flags in extra
    assert all(r.kind != "psram" for r in load_board("esp32dev").memory)
    assert load_board("esp32-s3-psram").pio_env["board_build.arduino.memory_type"] == "qio_opi"
    assert load_board("wrover").id == "esp32-wrover"
    assert {"esp32-wrover", "esp32-s3-psram"} <= {b.id for b in list_boards()}


def test_psram_boards_platformio_ini_is_valid(tmp_path):
    for board_id in ("esp32-wrover", "esp32-s3-psram"):
        ini = tmp_path / f"{board_id}.ini"
        ini.write_text(platformio_ini([load_board(board_id)]))
        assert validate_platformio_ini(ini) == []


def test_unknown_memory_kind_is_a_clear_error(tmp_path, monkeypatch):
    text = (boards_mod.PROFILES_DIR / "esp32-wrover.toml").read_text()
    d = tmp_path / "profiles"
    d.mkdir()
    text = text.replace('id = "esp32-wrover"', 'id = "myboard"').replace('kind = "psram"', 'kind = "eeprom"')
    (d / "myboard.toml").write_text(text)
    monkeypatch.setenv("TINYDEPLOY_BOARDS_PATH", str(d))
    with pytest.raises(TinyDeployError) as e:
        list_boards()
    assert "myboard.toml" in e.value.message and "'eeprom'" in e.value.message and "psram" in e.value.message


def big_activation_model() -> bytes:
    """x[1,160,160,3] -> conv3x3 SAME (8): 204,800 B of output, more than an ESP32's static DRAM."""
    b = ModelBuilder()
    x = b.tensor([1, 160, 160, 3], "int8", 0.02, 0)
    w = b.tensor([8, 3, 3, 3], "int8", 0.01, 0, data=np.ones((8, 3, 3, 3)))
    y = b.tensor([1, 160, 160, 8], "int8", 0.05, 0)
    b.op("CONV_2D", [x, w, b.tensor([8], "int32", 0.0002, 0, data=np.zeros(8))], [y],
         options("Conv2DOptions", padding=0, strideH=1, strideW=1))
    return b.build([x], [y])


def test_psram_candidate_moves_the_arena_out_of_internal_ram():
    g = parse_model(big_activation_model())
    assert not check_fit(compile_graph(g), "esp32-wrover").fits_ram
    p = psram_candidate(g, "esp32-wrover")
    real = compile_graph(g)
    assert p.arena_bytes == real.arena_bytes > 160 * 1024 and p.options.arena_region == "psram"
    assert p.ram_needed_before == check_fit(real, "esp32-wrover").ram_needed
    assert p.ram_needed_after == p.ram_needed_before - p.arena_bytes and p.fits
    assert p.internal_left == load_board("esp32-wrover").ram_budget - p.ram_needed_after > 0
    assert "slower" in " ".join(p.lines()) and "TOO BIG" not in p.lines()[0]
    assert psram_candidate(g, "esp32dev") is None and psram_candidate(real, "esp32-s3-psram").fits
    assert p.to_dict()["options"].endswith("arena=psram") and p.to_dict()["internal_left"] == p.internal_left
    placed = compile_graph(g, options=p.options)         # the suggestion applied: same plan, the attribute in C
    assert placed.arena_bytes == p.arena_bytes and " TD_ALIGN(16) TD_ARENA_ATTR;" in placed.source


@pytest.mark.parametrize("path", REPO_MODELS[:3] + REPO_MODELS[-3:], ids=lambda p: p.stem)
def test_without_the_option_the_c_is_unchanged(path):
    """The psram C is the default C plus one block of placement lines (and the option in the plan string and
    the arena's attribute); the default C names none of it: without the option the C is what it was."""
    g = load_model(path)
    base = compile_graph(g, options=PlanOptions(), source_name=path.name)
    psram = compile_graph(g, options=PlanOptions(arena_region="psram"), source_name=path.name)
    assert "ARENA_ATTR" not in base.source + base.header and "arena=" not in base.source + base.header
    assert base.source == compile_graph(g, options=PlanOptions(arena_region="internal"), source_name=path.name).source
    old = base.source.splitlines()
    new = psram.source.replace(" arena=psram", "").replace(" TD_ARENA_ATTR;", ";").splitlines()
    ops = [op for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    assert [op[0] for op in ops] == ["insert"]
    _, i, _, j1, j2 = ops[0]
    assert old[i].endswith("_NO_STATIC_ARENA") and old[i + 1].startswith("static uint8_t ")
    block = "\n".join(new[j1:j2])
    assert '#include "esp_attr.h"' in block and "#define TD_ARENA_ATTR EXT_RAM_BSS_ATTR" in block
    assert psram.header.replace(" arena=psram", "") == base.header


def test_psram_c_cross_compiles_for_xtensa_and_lands_in_ext_ram(tmp_path):
    g = load_model(ROOT / "models" / "digits_cnn_int8.tflite")
    m = compile_graph(g, prefix="digits", options=PlanOptions(arena_region="psram"))
    assert "static uint8_t digits_arena_storage[DIGITS_ARENA_BYTES > 0 ? DIGITS_ARENA_BYTES : 1] TD_ALIGN(16) " \
           "TD_ARENA_ATTR;" in m.source and "EXT_RAM_BSS_ATTR" in m.source
    # esp_attr.h's definition with CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY, given on the command line
    tc = load_board("esp32-wrover").toolchain
    (tmp_path / "digits.c").write_text(m.source)
    (tmp_path / "digits.h").write_text(m.header)
    sections = {}
    for name, extra in (("psram", ['-DEXT_RAM_BSS_ATTR=__attribute__((section(".ext_ram.bss")))']), ("plain", [])):
        obj = tmp_path / f"{name}.o"
        subprocess.run([tc.cc, *tc.cflags, "-std=c99", "-mtext-section-literals", "-Wall", "-Werror", *extra,
                        "-I", str(tmp_path), "-I", str(RUNTIME_DIR), "-I",
                        str(ROOT / "platform" / "tinydeploy-emu" / "support" / "xtensa" / "include"),
                        "-c", str(tmp_path / "digits.c"), "-o", str(obj)], check=True, capture_output=True, text=True)
        table = subprocess.run([shutil.which(tc.cc[:-3] + "objdump") or "", "-t", str(obj)], check=True,
                               capture_output=True, text=True).stdout
        sections[name] = next(line.split()[3] for line in table.splitlines() if line.endswith("digits_arena_storage"))
    assert sections == {"psram": ".ext_ram.bss", "plain": ".bss"}
    # the model with every runtime kernel, -Wall -Wextra -Werror (the attribute empty there)
    assert cross_compile(m, "esp32-wrover").files[0] == "digits.c"
