"""The `tinydeploy` command line: thin Typer commands over the library."""
from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from ..errors import TinyDeployError

app = typer.Typer(help="Compile int8 TensorFlow Lite models to bit-exact C for microcontrollers.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console()
err_console = Console(stderr=True)


def _load_commands() -> None:
    """Every module in this package registers its commands on `app` when imported."""
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


_load_commands()


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        console.print(f"tinydeploy {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                       callback=_print_version)) -> None:
    """Compile int8 TensorFlow Lite models to bit-exact C for microcontrollers."""


def main() -> None:
    """Entry point: run the app, print TinyDeployError as one line, exit non-zero."""
    try:
        rc = app(standalone_mode=False)  # typer.Exit(code) comes back as the return value here
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except TinyDeployError as exc:
        from rich.markup import escape  # messages are plain text: 'tinydeploy[quantize]' is no markup

        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, soft_wrap=True)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {escape(exc.hint)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # usage errors (typer's vendored click) and bugs
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if os.environ.get("TINYDEPLOY_DEBUG"):
            raise
        err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
        err_console.print("[yellow]hint:[/] this is a tinydeploy bug; rerun with TINYDEPLOY_DEBUG=1 for "
                          "the traceback and report it", highlight=False)
        sys.exit(70)
