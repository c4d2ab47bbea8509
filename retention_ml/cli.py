"""The ``retention-ml`` command line: thin typer commands over the package, no logic of their own.

Each subcommand lives in ``retention_ml/commands/<name>.py`` and imports its
heavy dependencies inside the function, so ``--help`` stays fast.
Exit codes: 0 ok, 1 a problem was found, 2 the command could not run.
"""

from __future__ import annotations

import inspect

import typer

from retention_ml import __version__

app = typer.Typer(
    name="retention-ml",
    help=(
        "Turnover risk for children's social workers: validate HR extracts, simulate a workforce, "
        "train and explain a turnover model, and give managers ranked lists.\n\n"
        "Predictions are a prompt for a supportive conversation, never a decision about anyone.\n\n"
        "Exit codes: 0 ok, 1 a problem was found, 2 the command could not run. An unexpected error prints one "
        "line; set RETENTION_ML_DEBUG=1 to see its traceback."
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
    from retention_ml.tracking import quiet_library_logging

    quiet_library_logging()


def _register() -> None:
    # One module per command; each exposes `register(app)`.
    import importlib
    import pkgutil

    import retention_ml.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"retention_ml.commands.{info.name}").register(app)


def _reflow(text: str | None) -> str | None:
    """Join the lines of each help paragraph; a paragraph opening with \\b (examples, lists) keeps its lines.

    typer's rich mode keeps a paragraph's single newlines, so help wrapped at 110-120 characters in the source
    broke into a ragged half-line after every source line on an 80-column terminal.
    """
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join("\n".join(_fold(line) for line in p.splitlines()) if p.lstrip().startswith("\b")
                       else " ".join(p.split()) for p in paragraphs)


EXAMPLE_WIDTH = 76   # an 80-column terminal less rich's margins: a longer line wraps and no longer pastes as one command


def _fold(line: str) -> str:
    """An example line too wide for 80 columns as shell continuation lines (a trailing comment goes above)."""
    if len(line) <= EXAMPLE_WIDTH:
        return line
    indent = line[: len(line) - len(line.lstrip())]
    code, _, comment = line.partition("  # ")
    out = [f"{indent}# {comment.strip()}"] if comment else []
    words = []
    for word in code.split():   # an option stays on one line with its value
        if words and words[-1].startswith("--") and " " not in words[-1] and not word.startswith(("-", "&", "|", ">")):
            words[-1] += " " + word
        else:
            words.append(word)
    current = indent + words[0]
    for word in words[1:]:
        if len(current) + len(word) + 3 > EXAMPLE_WIDTH:
            out.append(current + " \\")
            current = indent + "    " + word
        else:
            current += " " + word
    return "\n".join([*out, current])


def _reflow_help(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        info.help = _reflow(info.help or inspect.getdoc(info.callback))
    for group in typer_app.registered_groups:
        _reflow_help(group.typer_instance)


_register()
_reflow_help(app)


DEBUG_ENV = "RETENTION_ML_DEBUG"   # set to 1 to see the traceback of an unexpected error


def main() -> None:
    try:
        app()
    except Exception as exc:   # a failure no command foresaw: "could not run" (2), never 1, which means "problem found"
        _unexpected(exc)


def _unexpected(exc: Exception) -> None:
    """One line on stderr (the traceback too with RETENTION_ML_DEBUG=1), a JSON error under --json, exit 2."""
    import json
    import os
    import sys
    import traceback

    first = (str(exc).strip().splitlines() or [""])[0][:300]
    message = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    typer.echo(f"error: could not run: {message} (set {DEBUG_ENV}=1 to see the traceback)", err=True)
    if "--json" in sys.argv[1:]:
        typer.echo(json.dumps({"ok": False, "error": f"could not run: {message}", "exit_code": 2}))
    sys.exit(2)


if __name__ == "__main__":   # `python -m retention_ml.cli ...` runs the commands too (a scheduler may call it so)
    main()
