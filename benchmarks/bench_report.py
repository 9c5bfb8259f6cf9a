"""What the benchmark scripts share: the table of models, a failing model reported (error line, FAILED
row) without stopping the run, the geometric mean and the exit code that says a model failed."""
from __future__ import annotations

import math
import sys
from contextlib import contextmanager

from rich.table import Table


def model_table(title: str, columns: tuple[str, ...], left: tuple[str, ...] = ("model",)) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="left" if col in left else "right")
    return table


def fail(failed: list[str], name: str, exc: BaseException) -> None:
    failed.append(name)
    print(f"{name}: error: {exc}", file=sys.stderr, flush=True)


@contextmanager
def reported(failed: list[str], name: str, table: Table | None = None):
    """The with-body measures one model: an exception there is printed as `name: error: ...`, the model
    counts as failed (a FAILED row in `table`) and the run goes on with the next model."""
    try:
        yield
    except Exception as exc:  # report it, go on with the other models, exit non-zero at the end
        fail(failed, name, exc)
        if table is not None:
            table.add_row(name, "[red]FAILED[/]", *[""] * (len(table.columns) - 2))


def geomean(values) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def exit_code(failed: list[str], what: str = "model(s) without a row") -> int:
    if failed:
        names = list(dict.fromkeys(failed))
        print(f"FAILED: {len(names)} {what}: {', '.join(names)}", file=sys.stderr)
    return 1 if failed else 0
