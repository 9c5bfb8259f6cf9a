"""`tinydeploy eval MODEL --board B --inputs X.npy [--labels y.npy] ...`: the model on the board, measured."""
from __future__ import annotations

from pathlib import Path

import typer

from . import app, console, err_console
from ._options import INPLACE, INPUT_OUTSIDE, KERNELS, PATCH, PATCH_BUDGET, PLANNER, REFERENCE, board_plan_options


def summary_lines(rep: dict) -> list[str]:
    """The report in a few lines (shared with the demo)."""
    from ..evaluate import time_text

    lat, mem, be = rep["latency"], rep["memory"], rep["bit_exact"]
    ref = rep.get("reference") or {"label": "LiteRT BUILTIN_REF", "short": "LiteRT", "note": ""}
    lines = [f"samples      {rep['samples']} on {rep['device']} ({rep['link']['invokes_per_s']} invokes/s over the link)",
             f"latency      mean {lat['mean']:,.0f} {lat['unit']}, p50 {lat['p50']:,.0f}, p99 {lat['p99']:,.0f}"
             + (", identical on every invoke" if lat["deterministic"] else "")]
    when = time_text(lat["mean"], rep.get("clock_hz", 0), lat["unit"])
    if when and lat["unit"] != "µs":
        lines.append(f"time         mean {when}")
    lines.append(f"reference    {ref['label']}" + (f" — {ref['note']}" if ref["note"] else ""))
    if be["checked"]:
        lines.append(f"bit-exact    {be['agree']}/{rep['samples']} samples identical to {ref['label']}")
    else:
        lines.append("bit-exact    unchecked")
    if "accuracy" in rep:
        a = rep["accuracy"]
        host = f", host ({ref['short']}) {a['host']:.2%} ({a['host_correct']}/{rep['samples']})" if "host" in a else ""
        lines.append(f"accuracy     device {a['device']:.2%} ({a['correct']}/{rep['samples']}){host}")
    ram = f" of {mem['board_ram_bytes']:,} B RAM" if mem.get("board_ram_bytes") else ""
    if mem["stack_peak_bytes"] is None:  # the board was lost after the last sample
        lines.append(f"memory       arena {mem['arena_bytes']:,} B{ram}; stack peak and canary unread (board lost)")
    else:
        lines.append(f"memory       arena {mem['arena_bytes']:,} B + stack peak {mem['stack_peak_bytes']:,} B{ram}, "
                     f"arena canary {'intact' if mem['canary_ok'] else 'OVERWRITTEN'}")
    link = rep["link"]
    if link["retries"] or link["reconnects"]:
        lines.append(f"link         {link['retries']} resent requests, {link['reconnects']} reconnects")
    for e in link.get("events", []):
        lines.append(f"board lost   {e['what']}; {e['recovered']}")
    return lines


@app.command("eval")
def eval_cmd(model: Path = typer.Argument(..., help="The .tflite model (the board must run it)."),
             board: str = typer.Option(None, "--board", "-b", help="Board id (qemu-m4, host, …); emulated boards "
                                                                   "are started and stopped here."),
             inputs: str = typer.Option(..., "--inputs", "-i", help=".npy [N, *shape], .npz input_0.., or FILE.npz:KEY;"
                                                                    " float32 is quantized with the input scale."),
             labels: str = typer.Option(None, "--labels", "-l", help="Class labels [N] (.npy or FILE.npz:KEY): top-1."),
             save_outputs: Path = typer.Option(None, "--save-outputs", help="Write the board's outputs (.npy/.npz)."),
             json_path: Path = typer.Option(None, "--json", help="Write the JSON report here."),
             plot: Path = typer.Option(None, "--plot", help="Write a PNG (latency histogram, confusion matrix)."),
             port: str = typer.Option(None, "--port", "-p", help="A board or emulator that already runs the "
                                                                "firmware (/dev/ttyUSB0, socket://host:port)."),
             limit: int = typer.Option(0, "--limit", "-n", help="Only the first N samples (0 = all)."),
             project_dir: Path = typer.Option(None, "--project-dir", help="Firmware project folder "
                                                                          "(default build/device/<model>-<board>)."),
             no_reference: bool = typer.Option(False, "--no-reference", hidden=True, help="= --reference none."),
             reference: str = REFERENCE,
             preprocess: str = typer.Option(None, "--preprocess", help="For a folder of images/WAVs: "
                                            "module:function or file.py:function mapping (path, array) to a sample."),
             reconnect_timeout: float = typer.Option(30.0, "--reconnect-timeout", help="With --port: seconds to "
                                                     "wait for a lost board to come back before giving up."),
             resume: Path = typer.Option(None, "--resume", help="Continue the partial report of an eval that lost "
                                         "its board (same model and inputs); written back there unless --json."),
             planner: str = PLANNER, inplace: bool = INPLACE, kernels: str = KERNELS,
             patch: str = PATCH, patch_budget: float = PATCH_BUDGET,
             input_outside: bool = INPUT_OUTSIDE) -> None:
    """Stream every sample to the board: outputs, per-invoke counts, accuracy, agreement with the reference."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..compile import load_model
    from ..evaluate import choose_reference, load_arrays, load_labels, prepare_inputs, report_dict
    from ..evaluate import save_outputs as save
    from ..link import open_session

    g = load_model(model)
    if Path(inputs).is_dir():  # a folder of images/WAVs/.npy files, labels from sub-folder names
        from ..evaluate import load_folder, load_hook

        arrays, ys, _ = load_folder(Path(inputs), g, load_hook(preprocess))
        xs = prepare_inputs(g, arrays)
        ys = load_labels(labels) if labels else ys
    else:
        arrays = load_arrays(inputs, len(g.inputs))
        xs = prepare_inputs(g, arrays)
        ys = load_labels(labels) if labels else None
    if limit:
        xs = [x[:limit] for x in xs]
        ys = ys[:limit] if ys is not None else None
    done = None
    if resume:
        from ..evaluate import load_resume

        done = load_resume(resume, g, xs, ys)  # same model and inputs, before anything is built
        err_console.print(f"[dim]resuming {resume}: {len(done.rows)} of {xs[0].shape[0]} samples done[/]",
                          highlight=False)
    json_path = json_path or resume
    oracle = choose_reference(model, "none" if no_reference else reference)  # before anything is built
    if oracle.note:
        err_console.print(f"[yellow]reference: {oracle.note}[/]", highlight=False)
    opts = board_plan_options(board, planner, inplace, kernels, patch, patch_budget, input_outside)
    with open_session(model, board, port, opts, project_dir, graph=g,
                      log=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False)) as s:
        with Progress(TextColumn("[bold]eval[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=err_console, transient=True,
                      disable=not err_console.is_terminal) as bar:
            task = bar.add_task(f"{model.name} on {s.hello.name}", total=xs[0].shape[0])
            r = _evaluate(s, xs, ys, oracle, lambda i, n: bar.update(task, completed=i), done, reconnect_timeout,
                          json_path or Path(f"{model.stem}-eval.partial.json"), model, board, port, inputs)
    rep = report_dict(r)
    for line in summary_lines(rep):
        console.print(line, highlight=False, soft_wrap=True)
    if save_outputs:
        from ..evaluate import batch_outputs

        save(save_outputs, batch_outputs(g, arrays, r.outputs))
    if json_path:
        from ..evaluate import write_report

        write_report(rep, json_path)
    if plot:
        from ..evaluate import plot_report

        plot_report(r, plot)
    if rep["bit_exact"]["checked"] and not rep["bit_exact"]["all"]:
        err_console.print(f"[red]{r.n - rep['bit_exact']['agree']} samples differ from {oracle.label}[/]",
                          highlight=False)
        raise typer.Exit(2)


def _evaluate(s, xs, ys, oracle, progress, done, reconnect_timeout: float, partial_path: Path, model: Path,
              board: str | None, port: str | None, inputs: str):
    """evaluate(); when the board is lost for good, the partial report is written and the error says how
    to resume it."""
    from ..errors import TinyDeployError
    from ..evaluate import EvalIncomplete, evaluate, write_report

    try:
        return evaluate(s, xs, ys, reference=oracle, progress=progress, resume=done,
                        reconnect_timeout=reconnect_timeout,
                        log=lambda m: err_console.print(f"[yellow]{m}[/]", highlight=False))
    except EvalIncomplete as exc:
        write_report(exc.result, partial_path)
        where = f"--port {port}" if port else f"--board {board}"
        raise TinyDeployError(exc.message, f"{exc.result.n} of {xs[0].shape[0]} samples are in {partial_path} "
                              f"(\"complete\": false); finish them with `tinydeploy eval {model} {where} "
                              f"--inputs {inputs} ... --resume {partial_path}`") from None
