"""One module per ``retention-ml`` subcommand; each defines ``register(app)``.

:func:`fail` is the one way a command stops on an error, so every ``--json`` command fails the same way.
An option that several commands declare alike is declared here once (``run: RunOption``), so its help
cannot drift between them.
"""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer

RunOption = Annotated[str, typer.Option("--run", help="Run id, runs:/<id>/model or models:/<name>@<alias>.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
ModelNameOption = Annotated[str | None, typer.Option("--model-name",
                                                     help="Registered model name (default retention-ml-turnover).")]
TrackingUriOption = Annotated[str | None, typer.Option(
    "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///./mlflow.db).")]


def wide_enough(console, renderable, *, always: bool = False):
    """``console``, or when the output is a pipe or file (or ``always``) a console on the same stream as wide as
    ``renderable`` needs, so no table cell is broken over two lines.

    Piped or logged, rich lays out at 80 columns: a cell such as ``0.725 [0.717, 0.734]`` came out as ``0.725
    [0.717,`` on one line and ``0.734]`` on the next in CI logs and under ``| tee``, where nobody can widen the
    window. On a terminal the terminal's width wins (a wider line would wrap anyway). The one place for this, as
    ``soft_wrap=True`` is for a line of text.
    """
    from rich.console import Console

    if console.is_terminal and not always:
        return console
    needed = Console(width=100_000).measure(renderable).maximum
    if needed <= console.width:
        return console
    return Console(width=needed, file=console.file, soft_wrap=console.soft_wrap, no_color=console.no_color,
                   force_terminal=console.is_terminal)


def answer(record: dict, *, ok: bool = True, **dumps) -> None:
    """Print a ``--json`` command's answer on stdout as ``{"ok": ok, ...record}``; ``ok`` is true exactly when the
    command exits 0, as :func:`fail`'s ``{"ok": false, ...}`` is, so a script reads every command alike
    (``retention-ml score ... --json | jq -e .ok``). ``dumps``: :func:`json.dumps` options (indent, default)."""
    typer.echo(json.dumps({"ok": ok, **record}, **dumps))


def fail(message: str, code: int = 2, *, json_out: bool = False, style: str | None = "red",
         also: dict | None = None) -> NoReturn:
    """Stop the command with exit ``code`` (1 problem found, 2 could not run) and say why.

    With ``--json`` the reason is one JSON object on stdout, ``{"ok": false, "error": ..., "exit_code": ...}``,
    so ``retention-ml <command> --json | jq`` tells a failure from a command that printed nothing; otherwise it
    goes to stderr. ``also``: keys a command's JSON answer always holds (``{"written": False}``), kept in it.
    """
    if json_out:
        typer.echo(json.dumps({"ok": False, **(also or {}), "error": message, "exit_code": code}))
    else:
        typer.secho(message, err=True, fg=style)
    raise typer.Exit(code)
