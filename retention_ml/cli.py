"""The ``retention-ml`` command line: thin typer commands over the package, no logic of their own.

Each subcommand lives in ``retention_ml/commands/<name>.py`` and imports its
heavy dependencies inside the function, so ``--help`` stays fast.
Exit codes: 0 ok, 1 a problem was found, 2 the command could not run.
"""

from __future__ import annotations

import typer

from retention_ml import __version__

app = typer.Typer(
    name="retention-ml",
    help=(
        "Turnover risk for children's social workers: validate HR extracts, simulate a workforce, "
        "train and explain a turnover model, and give managers ranked lists.\n\n"
        "Predictions are a prompt for a supportive conversation, never a decision about anyone."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"retention-ml {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    pass


def _register() -> None:
    # One module per command; each exposes `register(app)`.
    import importlib
    import pkgutil

    import retention_ml.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"retention_ml.commands.{info.name}").register(app)


_register()


def main() -> None:
    app()
