"""Board profiles (board_profiles/*.toml): loading, aliases, unknown ids, memory regions, the emulated
platform's board JSON generated from them, and the `tinydeploy boards` command."""
import os

import pytest
from boards_helpers import MODELS, assert_clean_failure, tinydeploy

from tinydeploy.errors import TinyDeployError
from tinydeploy.paths import PLATFORM_DIR
from tinydeploy.target import boards as boards_mod
from tinydeploy.target.boards import list_boards, load_board, parse_size
from tinydeploy.target.emu_platform import board_json, sync_platform_boards

REAL = ["esp32dev", "esp32-s3", "esp32-c3", "nucleo_f446re", "nucleo_h743zi", "nucleo_l4r5zi", "uno", "mega2560",
        "nano33ble", "pico"]
EMULATED = ["qemu-m4", "qemu-m7", "qemu-m55", "qemu-rv32", "qemu-xtensa", "simavr-mega"]


def test_every_required_board_is_there_with_its_kind():
    got = {b.id: b.kind for b in list_boards()}
    assert {i: got.get(i) for i in REAL} == {i: "real" for i in REAL}
    assert {i: got.get(i) for i in EMULATED} == {i: "emulated" for i in EMULATED}
    assert got.get("host") == "host"


@pytest.mark.parametrize("alias,board_id", [
    ("esp32", "esp32dev"), ("ESP32", "esp32dev"), ("stm32", "nucleo_f446re"), ("stm32h7", "nucleo_h743zi"),
    ("uno", "uno"), ("mega", "mega2560"), ("rp2040", "pico"), ("esp32c3", "esp32-c3"), ("esp32s3", "esp32-s3"),
    ("m4", "qemu-m4"), ("helium", "qemu-m55"), ("riscv", "qemu-rv32"), ("xtensa", "qemu-xtensa"),
    ("simavr", "simavr-mega"), (" nano33 ", "nano33ble"), ("native", "host"),
])
def test_aliases(alias, board_id):
    assert load_board(alias).id == board_id


def test_aliases_are_unique():
    seen = {}
    for b in list_boards():
        for name in (b.id, *b.aliases):
            assert name.lower() not in seen, f"{name} is used by {seen.get(name.lower())} and {b.id}"
            seen[name.lower()] = b.id


@pytest.mark.parametrize("typo,suggested", [("esp23", "esp32"), ("nucleo_f446", "nucleo_f446re"),
                                            ("qemu-m3", "qemu-m4"), ("unoo", "uno")])
def test_unknown_board_suggests_close_names(typo, suggested):
    with pytest.raises(TinyDeployError) as e:
        load_board(typo)
    assert f"unknown board {typo!r}" in e.value.message
    assert "did you mean" in e.value.hint and suggested in e.value.hint


def test_unknown_board_without_close_name_lists_the_boards():
    with pytest.raises(TinyDeployError) as e:
        load_board("zzzzzzzz")
    assert "known boards:" in e.value.hint and "qemu-m4" in e.value.hint


def test_profiles_describe_memory_regions_not_one_number():
    esp = load_board("esp32dev")
    assert esp.region("static DRAM").size == 160 * 1024 and esp.region("app partition").size == 0x140000
    assert esp.ram_budget == 160 * 1024          # static .data/.bss limit, not the 520 KB of SRAM
    h7 = load_board("nucleo_h743zi")
    names = {r.name for r in h7.regions("ram")}
    assert any("DTCM" in n for n in names) and any("AXI" in n for n in names)
    assert load_board("uno").const_in_ram and load_board("uno").ram_budget == 2048
    assert load_board("qemu-m4").regions("ram")[0].size == 256 * 1024   # a 256 KB Cortex-M4, not QEMU's 4 MB


@pytest.mark.parametrize("board_id", REAL)
def test_real_boards_have_what_deployment_needs(board_id):
    b = load_board(board_id)
    assert b.platformio.get("platform") and b.platformio.get("board") and b.platformio.get("framework")
    assert b.upload_method and b.baud > 0 and b.usb_ids and all(len(v) == 9 and v[4] == ":" for v in b.usb_ids)
    assert b.timer and b.cflags and b.kernel_variant and b.clock_hz > 0
    assert b.toolchain and b.toolchain.cc and b.toolchain.apt
    assert 0 < b.ram_budget and 0 < b.flash_budget
    assert b.regions("ram") and b.regions("flash")
    if b.stand_in:
        assert load_board(b.stand_in).emulated


@pytest.mark.parametrize("board_id", EMULATED)
def test_emulated_boards_link_with_a_real_parts_memory(board_id):
    b = load_board(board_id)
    assert b.emulator and b.emulator.binary and b.emulator.apt and b.emulator.cycle_unit
    assert b.toolchain and b.platformio["platform"] == "tinydeploy-emu"
    flash, ram = b.regions("flash")[0], b.regions("ram")[0]
    # the linker gets these sizes (board JSON), and they are those of a real chip, not QEMU's 4 MB
    j = board_json(b)
    assert j["build"]["memory"]["flash_size"] == flash.size and j["build"]["memory"]["ram_size"] == ram.size
    assert ram.size <= 512 * 1024
    if b.stand_in:
        assert load_board(b.stand_in).kind == "real"


def test_platform_board_json_files_are_in_sync_with_the_profiles():
    assert sync_platform_boards(write=False) == [], "run tinydeploy.project.emulator.sync_platform_boards()"
    assert sorted(p.stem for p in (PLATFORM_DIR / "boards").glob("*.json")) == sorted(EMULATED)


def test_parse_size():
    assert parse_size("256K") == 262144 and parse_size("1M") == 1 << 20 and parse_size("512KB") == 524288
    assert parse_size(4096) == 4096 and parse_size("0x1000") == 4096 and parse_size("32256") == 32256
    with pytest.raises(ValueError):
        parse_size("lots")


def _custom_dir(tmp_path, text, name="myboard"):
    d = tmp_path / "profiles"
    d.mkdir()
    (d / f"{name}.toml").write_text(text)
    return d


def test_extra_profiles_from_tinydeploy_boards_path(tmp_path, monkeypatch):
    src = (boards_mod.PROFILES_DIR / "qemu-m4.toml").read_text()
    text = src.replace('id = "qemu-m4"', 'id = "myboard"').replace('aliases = [', 'aliases = ["mine", ')
    text = text.replace('"m4", ', "").replace('"mps2-an386", ', "").replace('"qemu-cortex-m4"', '"my-m4"')
    monkeypatch.setenv("TINYDEPLOY_BOARDS_PATH", str(_custom_dir(tmp_path, text)))
    assert load_board("mine").id == "myboard" and load_board("qemu-m4").id == "qemu-m4"


def test_broken_profile_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYDEPLOY_BOARDS_PATH", str(_custom_dir(tmp_path, 'id = "myboard"\nname = "x"\n')))
    with pytest.raises(TinyDeployError) as e:
        list_boards()
    assert "myboard.toml" in e.value.message and "missing `mcu`" in e.value.message


def test_cli_boards_lists_every_board():
    r = tinydeploy("boards")
    assert r.returncode == 0, r.stderr
    for b in list_boards():
        assert b.id in r.stdout
    for col in ("RAM", "flash", "PlatformIO board", "aliases"):
        assert col in r.stdout
    assert "esp32dev" in r.stdout and "160 KB" in r.stdout and "1280 KB" in r.stdout


def test_cli_boards_kind_filter_and_details():
    r = tinydeploy("boards", "--kind", "emulated")
    assert r.returncode == 0 and "qemu-xtensa" in r.stdout and "esp32dev" not in r.stdout
    r = tinydeploy("boards", "esp32", env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    for text in ("esp32dev", "static DRAM", "app partition", "espressif32", "10C4:EA60", "qemu-xtensa"):
        assert text in r.stdout


def test_cli_unknown_board():
    text = assert_clean_failure(tinydeploy("boards", "esp23"), "unknown board", "did you mean", "esp32")
    assert text.count("\n") <= 3


def test_cli_build_unknown_board_writes_nothing(tmp_path):
    out = tmp_path / "proj"
    assert_clean_failure(tinydeploy("build", MODELS["hello_world"], "--board", "esp23", "-o", out),
                         "unknown board 'esp23'", "did you mean esp32")
    assert not out.exists()
    assert_clean_failure(tinydeploy("build", MODELS["hello_world"], "--board", "host", "-o", out),
                         "host board has no PlatformIO project", "tinydeploy run")
    assert not out.exists()
