"""`tinydeploy train MODEL --board B --data train.npz --update SPEC --epochs N --lr LR -o tuned.tflite`: the board
trains on the streamed samples (tinydeploy.train.train_on_board); a live view of loss and accuracy."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console, err_console


def load_labelled(spec: str, g, what: str):
    """int8 samples and labels from FILE.npz (x_int8 or x, and y or labels) or FILE.npz:XKEY:YKEY."""
    import numpy as np

    from ..errors import TinyDeployError
    from ..evaluate import prepare_inputs

    path, _, keys = spec.partition(":")
    xkey, _, ykey = keys.partition(":")
    try:
        data = np.load(path)
        files = data.files
    except (OSError, ValueError, AttributeError):
        raise TinyDeployError(f"cannot read {what} data {path}", "give an .npz with x (or x_int8) and y") from None
    xkey = xkey or next((k for k in ("x_int8", "x", "input_0") if k in files), "")
    ykey = ykey or next((k for k in ("y", "labels") if k in files), "")
    if xkey not in files or ykey not in files:
        raise TinyDeployError(f"{path} holds {', '.join(files)}: which are the samples and the labels?",
                              f"name them: {path}:XKEY:YKEY")
    return prepare_inputs(g, [data[xkey]])[0], np.asarray(data[ykey])


class TrainView:
    """A rich table of the epochs so far and a progress line for the running one."""

    def __init__(self, title: str) -> None:
        self.title, self.rows, self.current = title, [], ""

    def __call__(self, kind: str, data) -> None:
        if kind == "sample":
            self.current = (f"epoch {data['epoch']}: {data['done']}/{data['total']}  loss {data['loss']:.4f}  "
                            f"accuracy {data['accuracy']:.2%}")
        else:
            self.rows.append(data)
            self.current = ""
        if self.live is not None:
            self.live.update(self.render())

    live = None

    def render(self):
        from rich.console import Group
        from rich.table import Table

        t = Table(title=self.title, title_justify="left")
        for col in ("epoch", "samples", "loss", "train acc", "val acc", "s"):
            t.add_column(col, justify="right")
        for e in self.rows:
            t.add_row(str(e.epoch) if e.epoch else "before", str(e.samples) if e.epoch else "",
                      f"{e.loss:.4f}" if e.epoch else "", f"{e.accuracy:.2%}" if e.epoch else "",
                      f"{e.val_accuracy:.2%}" if e.val_accuracy is not None else "-",
                      f"{e.seconds:.1f}" if e.epoch else "")
        return Group(t, self.current) if self.current else t


def summary_lines(r) -> list[str]:
    """The result in a few lines."""
    lines = []
    for e in r.epochs:
        val = f", val accuracy {e.val_accuracy:.2%}" if e.val_accuracy is not None else ""
        lines.append(f"epoch {e.epoch:<3}  loss {e.loss:.4f}, train accuracy {e.accuracy:.2%}{val} ({e.samples} steps)")
    if r.val_before is not None:
        lines.append(f"val accuracy {r.val_before:.2%} before, {r.epochs[-1].val_accuracy:.2%} after (inference path "
                     "on the board)")
    c = r.step_counts
    lines.append(f"step         mean {c.mean():,.0f} {r.unit} per training step on {r.device}")
    ram = f" of {r.board_ram_bytes:,} B" if r.board_ram_bytes else ""
    lines.append(f"RAM          {r.ram_bytes:,} B{ram}: " + " + ".join(f"{w} {n:,}" for w, n in r.ram_items))
    return lines


@app.command("train")
def train_cmd(model: Path = typer.Argument(..., help="The int8 .tflite classifier to fine-tune."),
              board: str = typer.Option(None, "--board", "-b", help="Emulated board (qemu-m4, …) or host: the "
                                                                   "training firmware is built, started and stopped "
                                                                   "here."),
              data: str = typer.Option(..., "--data", "-d", help="Training samples: FILE.npz with x (or x_int8) and "
                                                                 "y, or FILE.npz:XKEY:YKEY; float x is quantized."),
              val: str = typer.Option(None, "--val", help="Validation samples (as --data): accuracy of the "
                                                          "inference path on the board before and after each epoch."),
              update: str = typer.Option(..., "--update", "-u", help="What to update, e.g. bias:all,fc:last or "
                                                                     "bias:all,fc:last,conv:last2:25%, or auto "
                                                                     "(with --budget)."),
              budget: str = typer.Option(None, "--budget", help="With --update auto: the training memory budget, "
                                                                "e.g. 256KB; auto picks the biases and channel "
                                                                "shares with the most expected gain per byte."),
              epochs: int = typer.Option(1, "--epochs", "-e", help="Passes over the training samples."),
              lr: float = typer.Option(0.01, "--lr", help="SGD learning rate (per sample, batch 1)."),
              momentum: float = typer.Option(0.0, "--momentum", help="SGD momentum (0: plain SGD)."),
              out: Path = typer.Option(..., "--output", "-o", help="The tuned .tflite (written atomically)."),
              limit: int = typer.Option(0, "--limit", "-n", help="Only the first N training samples (0 = all)."),
              seed: int = typer.Option(None, "--seed", help="Shuffle the samples each epoch with this seed "
                                                            "(default: in the order given)."),
              port: str = typer.Option(None, "--port", "-p", help="A board that already runs the training firmware."),
              project_dir: Path = typer.Option(None, "--project-dir", help="Firmware project folder (default "
                                                                           "build/device/<model>-<board>-train)."),
              json_path: Path = typer.Option(None, "--json", help="Write the per-epoch results here.")) -> None:
    """Fine-tune the model on the board: samples streamed over the serial protocol, tuned parameters pulled back."""
    import contextlib

    from rich.live import Live

    from ..errors import TinyDeployError
    from ..train import prepare_training, train_on_board, write_tuned

    if out.is_dir() or not out.parent.is_dir():  # before training, not after
        raise TinyDeployError(f"cannot write {out}: " + ("it is a folder" if out.is_dir() else "no such folder"),
                              "give a .tflite file in an existing folder, e.g. -o tuned.tflite")
    chosen = update
    if update.strip().lower() == "auto":  # auto scores the parameters on the training samples
        from ..compile import load_model
        from ..train import choose_update

        if budget is None:
            raise TinyDeployError("--update auto needs a memory budget", "pass e.g. --budget 256KB")
        g = load_model(model)
        xs, ys = load_labelled(data, g, "training")
        choice = choose_update(g, budget, xs, ys, momentum=momentum, lr=lr, epochs=epochs)
        chosen = choice.spec
        console.print(f"update       auto within {budget}: {chosen} (training buffer {choice.buffer_bytes:,} B + "
                      f"state {choice.state_bytes:,} B)", highlight=False, soft_wrap=True)
    elif budget is not None:
        raise TinyDeployError("--budget goes with --update auto", "drop --budget, or pass --update auto")
    tb = prepare_training(model, chosen, momentum, board if port is None else None)  # spec and fit, before building
    g = tb.tc.train.graph
    xs, ys = load_labelled(data, g, "training")
    if limit:
        xs, ys = xs[:limit], ys[:limit]
    vset = load_labelled(val, g, "validation") if val else None
    view = TrainView(f"{model.name}: {update}, lr {lr}" + (f", momentum {momentum}" if momentum else ""))
    log = lambda m: err_console.print(f"[dim]{m}[/]", highlight=False)  # noqa: E731
    live = Live(view.render(), console=err_console, refresh_per_second=8, transient=True) \
        if err_console.is_terminal else contextlib.nullcontext()
    with live:
        view.live = live if err_console.is_terminal else None
        r = train_on_board(model, board, xs, ys, chosen, epochs, lr, momentum, vset, port=port,
                           project_dir=project_dir, seed=seed, progress=view, log=log, build=tb)
    for line in summary_lines(r):
        console.print(line, highlight=False, soft_wrap=True)
    write_tuned(tb.model_bytes, r.params, out)
    console.print(f"tuned        {out} ({len(r.params)} parameter tensors updated)", highlight=False)
    if json_path:
        from ..evaluate import write_report

        write_report(r.to_dict(), json_path)
