"""Does the training firmware fit the board? The protocol firmware's fit check (target.check_fit, use
"serial") with the inference arena replaced by the training buffer, plus the training state (float32
masters, momentum, the updated parameters' RAM copies) and the input copy when the backward reads it."""
from __future__ import annotations

import re

from ..errors import TinyDeployError
from ..target import BoardProfile, TrainFirmware, check_fit
from .codegen import TrainC

TRAIN_DEVICE_RAM = 48  # td_train_device.c's state and the glue's td_train_device descriptor
BLOB_RAM = 20  # one td_train_blob per updated parameter (4-byte pointers)


_TABLE = re.compile(r"static const (int32_t|float|td_train_geom|td_train_param) \w+(?:\[(\d+)\])? =")
_SIZES = {"int32_t": 4, "float": 4, "td_train_geom": 60, "td_train_param": 32}


def train_tables_bytes(tc: TrainC) -> int:
    """The training step's constant tables (exp table, QAS factors, weight scales, geometries): in RAM where
    constants are (AVR without flash placement)."""
    step = tc.source[tc.source.find("/* ---- training step"):]
    return sum(_SIZES[t] * int(n or 1) for t, n in _TABLE.findall(step))


def train_ram_items(tc: TrainC, fw: TrainFirmware, b: BoardProfile) -> list[tuple[str, int]]:
    """RAM of the training firmware, item by item (bytes)."""
    items = [(what, n) for what, n in check_fit(tc.model, b, use="serial").ram_items if what != "arena"]
    items.insert(0, ("training buffer", tc.buffer_bytes))
    items.insert(1, ("masters, momentum, parameter copies", tc.state_bytes))
    if fw.input_copy:
        items.insert(2, ("input copy", fw.input_bytes))
    items.append(("training requests", TRAIN_DEVICE_RAM + BLOB_RAM * len(fw.counts)))
    if b.const_in_ram:
        items.append(("training tables (constants in SRAM)", train_tables_bytes(tc)))
    return items


def check_train_fit(tc: TrainC, fw: TrainFirmware, b: BoardProfile, name: str = "") -> list[tuple[str, int]]:
    """The RAM items; one TinyDeployError with the numbers when they exceed the board's RAM budget, another
    for AVR boards."""
    if b.kind == "host":
        return []
    items = train_ram_items(tc, fw, b)
    need = sum(n for _, n in items)
    if need > b.ram_budget:
        parts = " + ".join(f"{what} {n:,}" for what, n in items if n)
        raise TinyDeployError(
            f"training {name or tc.prefix} does not fit {b.id}: it needs {need:,} B of RAM, the "
            f"board has {b.ram_budget:,} B ({parts})",
            f"update fewer parameters (biases only: --update bias:all; a share of a layer's channels: "
            f"conv:last:25%; the training buffer's lower bound is {tc.plan.lower_bound_bytes:,} B), or pick a "
            "board with more RAM")
    if b.kernel_variant == "avr":
        raise TinyDeployError(f"{b.id}: training does not run on AVR yet (the frozen weights stay in flash as "
                              "__memx, the training kernels read RAM)", "train on qemu-m4 (or another 32-bit board)")
    return items
