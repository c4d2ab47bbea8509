"""The commands the docs show exist as written: every `retention-ml` line in README.md and in each
subcommand's --help Examples names a real subcommand and only options that subcommand has.

A new user copies these lines first; a renamed flag left behind in the docs is the first thing they hit.
"""

import re
import shlex
from pathlib import Path

import pytest
import typer

from retention_ml.cli import app

ROOT = Path(__file__).resolve().parents[1]
CLI = typer.main.get_command(app)


def _commands_in(text: str) -> list[str]:
    """`retention-ml ...` command lines in a text, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in text.splitlines():
        line = line.strip().split("  #")[0].split(" # ")[0]
        for part in re.split(r"&&|\|", line):
            part = part.strip()
            if part.startswith("retention-ml "):
                found.append(part.split(">")[0].strip())
    return found


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    return [c for block in blocks for c in _commands_in(block)]


def _help_example_commands() -> list[tuple[str, str]]:
    out = []
    for name, command in CLI.commands.items():
        subs = command.commands.items() if hasattr(command, "commands") else [(None, command)]
        for sub_name, sub in subs:
            help_text = sub.help or ""
            if "Examples:" in help_text:
                where = f"{name} {sub_name}" if sub_name else name
                # Examples run to the end of the help (or to the next paragraph that is not a command).
                examples = help_text.split("Examples:", 1)[1]
                out += [(where, c) for c in _commands_in(examples)]
    return out


def _problems(command_line: str) -> list[str]:
    words = shlex.split(command_line)[1:]
    command = CLI
    used = []
    while hasattr(command, "commands"):
        name = next((w for w in words if not w.startswith("-")), None)
        if name not in command.commands:
            return [f"no subcommand {name!r}" + (f" of {' '.join(used)}" if used else "")]
        used.append(name)
        words = words[words.index(name) + 1:]
        command = command.commands[name]
    options = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    flags = [w.split("=")[0] for w in words if w.startswith("--")]
    return [f"{' '.join(used)} has no option {f}" for f in flags if f not in options]


def test_the_readme_shows_retention_ml_commands_to_check():
    # the scan below would pass vacuously if the README's command block stopped being found
    commands = _readme_commands()
    assert len(commands) >= 8 and {c.split()[1] for c in commands} >= {"validate", "train", "score", "rank"}


@pytest.mark.parametrize("command_line", _readme_commands())
def test_a_readme_command_uses_only_real_subcommands_and_options(command_line):
    assert _problems(command_line) == [], command_line


def test_every_subcommand_help_has_examples_to_check():
    where = {w for w, _ in _help_example_commands()}
    assert where >= {"validate", "train", "score", "rank", "explain", "card", "promote", "simulate", "demo", "runs"}


@pytest.mark.parametrize("where,command_line", _help_example_commands())
def test_a_help_example_uses_only_real_subcommands_and_options(where, command_line):
    assert _problems(command_line) == [], f"{where} --help example: {command_line}"


def test_every_command_has_a_user_in_the_readme_who_does_what_table():
    # the table is where a new user learns who runs what; score and rank used to appear in no row
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Who does what", 1)[1].split("\n\n", 2)[1]
    named = set(re.findall(r"`([a-z-]+)`", table))
    assert set(CLI.commands) - named == set()
