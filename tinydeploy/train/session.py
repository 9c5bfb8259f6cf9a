"""Training on a board: the training firmware (the generated step behind the device protocol, see
lib/tinydeploy/td_train_device.h) is built and started, the labelled samples are streamed epoch by epoch,
and the updated parameters are pulled back into a tuned .tflite.

    r = train_on_board("m.tflite", "qemu-m4", xs, ys, "bias:all,fc:last", epochs=2, lr=0.01, val=(xv, yv))
    r.epochs[-1].loss, r.epochs[-1].val_accuracy, r.ram_bytes, r.tuned   # tuned: the .tflite bytes

Each sample is one SGD step (batch 1), in the order given (or shuffled per epoch with `seed`). With `val`,
the board also runs the inference path on the validation samples before training and after each epoch.
RAM (ram_items): the training buffer and the state the firmware reports (TRAIN_INFO), the input copy (when
the backward reads the input), the arena canary and the stack peak the protocol measured (STATS).
"""
from __future__ import annotations

import hashlib
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..compile import load_model
from ..errors import TinyDeployError
from ..target import TrainFirmware, ensure_firmware, load_board
from .budget import check_train_fit
from .codegen import TrainC, generate_train_c
from .graph import build_train_graph
from .spec import Update, parse_update
from .write import replace_params

CANARY_BYTES = 16  # TD_CANARY_BYTES (td_device.h)


@dataclass
class EpochStats:
    epoch: int  # 1-based; 0: the validation before training
    samples: int
    loss: float  # mean loss over the epoch's steps (each before its update)
    accuracy: float  # the model's predictions in the steps' forwards
    val_accuracy: float | None = None
    seconds: float = 0.0


@dataclass
class TrainResult:
    model: str
    board: str
    device: str
    update: str
    lr: float
    momentum: float
    epochs: list[EpochStats]
    params: dict[int, np.ndarray]  # tensor index -> tuned int8 weights / int32 biases
    masters: dict[int, np.ndarray]  # tensor index -> float32 masters (updated elements)
    tuned: bytes  # the .tflite with the tuned parameters
    ram_items: list[tuple[str, int]]  # measured/reported on the device
    board_ram_bytes: int | None
    step_counts: np.ndarray  # counter ticks per training step
    unit: str
    val_before: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ram_bytes(self) -> int:
        return sum(n for _, n in self.ram_items)

    def to_dict(self) -> dict:
        c = self.step_counts
        return {"model": self.model, "board": self.board, "device": self.device, "update": self.update,
                "lr": self.lr, "momentum": self.momentum, "val_before": self.val_before,
                "epochs": [vars(e) for e in self.epochs],
                "ram": {"bytes": self.ram_bytes, "items": dict(self.ram_items), "board_ram_bytes": self.board_ram_bytes},
                "step": {"unit": self.unit, "mean": float(c.mean()) if c.size else 0.0,
                         "min": int(c.min()) if c.size else 0, "max": int(c.max()) if c.size else 0}}


@dataclass
class TrainBuild:
    """The training step of one model and update, as the firmware links it."""

    model_path: Path
    model_bytes: bytes
    update: Update
    spec: str
    tc: TrainC
    firmware: TrainFirmware


def build_id(sha256: str, update: Update, momentum: float) -> int:
    """32-bit hash of what the firmware trains: TRAIN_INFO reports it, so stale firmware is refused."""
    text = f"{sha256} {update.weights} {update.biases} {update.partial} {struct.pack('<f', momentum).hex()}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def prepare_training(model_path: str | Path, update: str | Update, momentum: float = 0.0,
                     board: str | None = None) -> TrainBuild:
    """Read the model, parse the spec, generate the training step; with `board`, check that it fits."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise TinyDeployError(f"model {model_path} not found", "give the path of a .tflite file")
    if not 0.0 <= momentum < 1.0:
        raise TinyDeployError(f"momentum {momentum} is not in [0, 1)", "use e.g. --momentum 0.9, or 0 for plain SGD")
    g = load_model(model_path)
    up = update if isinstance(update, Update) else parse_update(update, g)
    tg = build_train_graph(g, up)
    tc = generate_train_c(tg, g.name, momentum=momentum)
    params = tg.params
    fw = TrainFirmware(model=tc.model, source=tc.source, train_header=tc.header,
                       value_bytes=[g.tensors[t].nbytes for t in params],
                       counts=[tg.updated_count(t) for t in params], input_copy=g.inputs[0] in tg.saved,
                       build=build_id(g.sha256, up, momentum))
    if board is not None:
        check_train_fit(tc, fw, load_board(board), model_path.name)
    spec = update if isinstance(update, str) else str(up)
    return TrainBuild(model_path, model_path.read_bytes(), up, spec, tc, fw)


def _open(tb: TrainBuild, board, port: str | None, project_dir, log: Callable[[str], None]):
    """(client, started emulator or None, board profile) with TRAIN_INFO checked."""
    from ..link import DeviceClient, serial_opener, start_emulator

    b = load_board(board) if board else None
    started, url = None, port
    if url is None:
        if b is None:
            raise TinyDeployError("say where the board is: --board B or --port P", "`tinydeploy boards` lists boards")
        if b.kind == "host":  # the same C as a process on this machine (a TCP port)
            from ..target import HostDevice, build_host_device

            started = HostDevice(build_host_device(tb.tc.model, train=tb.firmware)).start()
        elif b.emulated:
            proj = ensure_firmware(tb.model_path, b, project_dir, train=tb.firmware)
            log(f"training firmware {'reused' if proj.reused else 'built'}: {proj.elf}")
            started = start_emulator(b, proj.elf)
        else:
            raise TinyDeployError(f"{b.id}: train builds and starts firmware on emulated boards and the host only",
                                  "use qemu-m4, qemu-m7, qemu-m55, qemu-rv32 or host, or --port for a board that "
                                  "runs the training firmware")
        url = started.url
    try:
        client = DeviceClient(url, [], baud=b.baud if b else 115200, timeout=30.0,
                              expect_sha256=tb.tc.model.graph.sha256, opener=serial_opener)
        if started is not None:
            client.alive = lambda: started.proc is not None and started.proc.poll() is None
        client.connect(wait=15.0)
        info = client.train_info()
        if info.build != tb.firmware.build:
            raise TinyDeployError(f"the board on {url} trains another update spec or momentum",
                                  "let train build the firmware (drop --port), or reflash it")
        g = tb.tc.model.graph
        client.output_sizes = [g.tensors[g.outputs[0]].nbytes]  # the logits; the saved activations follow
    except BaseException:
        if started is not None:
            started.stop()
        raise
    return client, started, b, info


def _val_accuracy(client, xs: np.ndarray, ys: np.ndarray) -> float:
    """Top-1 of the inference path (current parameters) on the board."""
    hits = 0
    for x, y in zip(xs, ys):
        out = np.frombuffer(client.run([np.ascontiguousarray(x).tobytes()]).outputs[0], np.int8)
        hits += int(out.argmax() == y)
    return hits / max(1, len(ys))


def _pull(client, tb: TrainBuild) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    g, tg = tb.tc.model.graph, tb.tc.train
    values, masters = {}, {}
    for i, t in enumerate(tg.params):
        tensor = g.tensors[t]
        raw = client.read_param(i, 0, tensor.nbytes)
        values[t] = np.frombuffer(raw, tensor.data.dtype).reshape(tensor.shape).copy()
        masters[t] = np.frombuffer(client.read_param(i, 1, 4 * tg.updated_count(t)), np.float32).copy()
    return values, masters


Progress = Callable[[str, dict], None]


def train_on_board(model: str | Path, board: str | None, xs: np.ndarray, ys: np.ndarray, update: str | Update,
                   epochs: int = 1, lr: float = 0.01, momentum: float = 0.0,
                   val: tuple[np.ndarray, np.ndarray] | None = None, *, port: str | None = None,
                   project_dir: str | Path | None = None, seed: int | None = None,
                   progress: Progress | None = None, log: Callable[[str], None] = lambda s: None,
                   build: TrainBuild | None = None) -> TrainResult:
    """Train on the board (see the module doc). xs: int8 [N, *input shape]; ys: class indices [N].
    progress(kind, data): "sample" after each step ({epoch, done, total, loss, accuracy}), "epoch" with an
    EpochStats after each epoch (epoch 0: validation before training)."""
    from ..link import SessionLost

    tb = build or prepare_training(model, update, momentum, board if port is None else None)
    xs, ys = _check_data(tb, xs, ys, "training")
    if val is not None:
        val = _check_data(tb, val[0], val[1], "validation")
    if epochs < 1 or not np.isfinite(lr) or lr <= 0:
        raise TinyDeployError(f"epochs {epochs}, lr {lr}: need epochs >= 1 and lr > 0", "e.g. --epochs 2 --lr 0.01")
    report = progress or (lambda kind, data: None)
    client, started, b, info = _open(tb, board, port, project_dir, log)
    history: list[EpochStats] = []
    counts: list[int] = []
    try:
        if info.steps:
            raise TinyDeployError(f"the board already ran {info.steps} training steps", "reset it (or drop --port)")
        val_before = None
        if val is not None:
            val_before = _val_accuracy(client, *val)
            report("epoch", EpochStats(0, 0, float("nan"), float("nan"), val_before))
        rng = np.random.default_rng(seed) if seed is not None else None
        for epoch in range(1, epochs + 1):
            t0, losses, hits = time.monotonic(), [], 0
            order = rng.permutation(len(ys)) if rng is not None else np.arange(len(ys))
            for done, i in enumerate(order, start=1):
                st = client.train_step(np.ascontiguousarray(xs[i]).tobytes(), int(ys[i]), float(lr))
                losses.append(st.loss)
                hits += int(st.top1 == ys[i])
                counts.append(st.count)
                report("sample", {"epoch": epoch, "done": done, "total": len(ys), "loss": float(np.mean(losses)),
                                  "accuracy": hits / done})
            es = EpochStats(epoch, len(ys), float(np.mean(losses)), hits / len(ys),
                            _val_accuracy(client, *val) if val is not None else None, time.monotonic() - t0)
            history.append(es)
            report("epoch", es)
        values, masters = _pull(client, tb)
        stats = client.stats()
        if not stats.canary_ok:
            raise TinyDeployError("the training buffer's canary was overwritten on the board",
                                  "report this model and update spec")
        hello = client.hello
    except SessionLost:
        raise TinyDeployError("the board reset during training: its updated parameters are gone",
                              "run train again") from None
    finally:
        client.close()
        if started is not None:
            started.stop()
    ram = [("training buffer", info.buffer_bytes), ("arena canary", CANARY_BYTES),
           ("masters, momentum, parameter copies", info.state_bytes)]
    if tb.firmware.input_copy:
        ram.append(("input copy", tb.firmware.input_bytes))
    ram.append(("stack peak (painted)", stats.stack_peak_bytes))
    board_ram = sum(r.size for r in b.regions("ram")[:1]) if b is not None and b.regions("ram") else None
    return TrainResult(tb.model_path.name, b.id if b else "?", hello.name, tb.spec, float(lr), float(momentum),
                       history, values, masters, replace_params(tb.model_bytes, values), ram, board_ram,
                       np.array(counts, np.int64), hello.unit, val_before)


def _check_data(tb: TrainBuild, xs: np.ndarray, ys: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """int8 [N, *input shape] and int labels [N] within the model's classes."""
    g = tb.tc.model.graph
    t, n_out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]].size
    xs, ys = np.asarray(xs), np.asarray(ys).reshape(-1)
    if xs.dtype != np.int8 or xs.size == 0 or xs.size % t.size or xs.size // t.size != ys.size:
        raise TinyDeployError(f"{what} data: {ys.size} labels and inputs {xs.dtype}{list(xs.shape)}; the model takes "
                              f"int8{list(t.shape)}", "give one int8 sample per label")
    if not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0 or ys.max() >= n_out:
        raise TinyDeployError(f"{what} labels must be class indices 0..{n_out - 1}",
                              "give integer labels, one per sample")
    return xs.reshape((ys.size,) + tuple(t.shape)), ys.astype(np.int64)
