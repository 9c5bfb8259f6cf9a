"""Does the training firmware fit the board? The protocol firmware's fit check (target.check_fit, use
"serial") with the inference arena replaced by the training buffer, plus the training state (float32
masters, momentum, the updated parameters' RAM copies) and the input copy when the backward reads it."""
from __future__ import annotations

from ..errors import TinyDeployError
from ..target import BoardProfile, TrainFirmware, check_fit
from .codegen import TrainC


def train_ram_items(tc: TrainC, fw: TrainFirmware, b: BoardProfile) -> list[tuple[str, int]]:
    """RAM of the training firmware, item by item (bytes)."""
    items = [(what, n) for what, n in check_fit(tc.model, b, use="serial").ram_items if what != "arena"]
    items.insert(0, ("training buffer", tc.buffer_bytes))
    items.insert(1, ("masters, momentum, parameter copies", tc.state_bytes))
    if fw.input_copy:
        items.insert(2, ("input copy", fw.input_bytes))
    return items


def check_train_fit(tc: TrainC, fw: TrainFirmware, b: BoardProfile, name: str = "") -> list[tuple[str, int]]:
    """The RAM items; one TinyDeployError with the numbers when they exceed the board's RAM budget."""
    if b.kind == "host":
        return []
    items = train_ram_items(tc, fw, b)
    need = sum(n for _, n in items)
    if need > b.ram_budget:
        parts = " + ".join(f"{what} {n:,}" for what, n in items if n)
        raise TinyDeployError(
            f"training {name or tc.prefix} does not fit {b.id}: it needs {need:,} B of RAM, the "
            f"board has {b.ram_budget:,} B ({parts})",
            f"update fewer parameters (e.g. --update bias:all,fc:last; the buffer's lower bound is "
            f"{tc.plan.lower_bound_bytes:,} B), or pick a board with more RAM")
    return items
