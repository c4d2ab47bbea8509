"""The command line: discoverable subcommands, a version flag, and help that teaches."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from retention_ml import __version__
from retention_ml.cli import app

runner = CliRunner()


def test_version_flag_prints_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_says_predictions_are_not_decisions():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "never a decision" in " ".join(result.output.split())


def test_python_dash_m_entry_point_works():
    done = subprocess.run([sys.executable, "-m", "retention_ml", "--version"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout


# Failures of --json commands, one per command that used to print nothing on stdout (S10-X F2).
JSON_FAILURES = {
    "score": (["score", "--model", "deadbeef", "--data", "{tmp}/nodata", "--as-of", "2023-12-01", "--out", "{tmp}/s",
               "--json"], 2),
    "rank": (["rank", "--scores", "{tmp}/noscores", "--all", "--out", "{tmp}/l", "--json"], 2),
    "explain": (["explain", "--run", "deadbeef", "--data", "{tmp}", "--as-of", "2023-13-01", "--json"], 2),
    "truth-check": (["truth-check", "--run", "deadbeef", "--data", "{tmp}", "--json"], 2),
    "benchmark": (["benchmark", "nope", "--json"], 2),
    "validate": (["validate", "{tmp}", "--as-of", "2025-13-01", "--json"], 2),
    # a folder that is not there, and one with no table file: each said with its exit code like the rest
    "validate no folder": (["validate", "{tmp}/nodata", "--json"], 2),
    "validate no tables": (["validate", "{tmp}", "--json"], 2),
    "demo": (["demo", "--out", "{tmp}/file", "--json"], 2),
    "simulate": (["simulate", "--out", "{tmp}/sim", "--start", "2019-13", "--json"], 2),
    "card": (["card", "--run", "deadbeef", "--out", "{tmp}/card", "--json"], 2),   # no store at MLFLOW_TRACKING_URI
    "promote": (["promote", "deadbeef", "--json"], 2),
    # the early path checks, before any work: an --out that is a file, a --bands file that is not there
    "score --out file": (["score", "--model", "deadbeef", "--data", "{tmp}", "--as-of", "2023-12-01", "--out",
                          "{tmp}/file", "--json"], 2),
    "rank --bands missing": (["rank", "--scores", "{tmp}", "--all", "--bands", "{tmp}/no.toml", "--out", "{tmp}/l",
                              "--json"], 2),
}


@pytest.mark.parametrize("command", sorted(JSON_FAILURES))
def test_a_json_command_that_fails_prints_one_json_error_with_its_exit_code(command, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    argv, code = JSON_FAILURES[command]
    done = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert done.exit_code == code, done.output
    error = json.loads(done.stdout)
    assert error["ok"] is False and error["exit_code"] == code and error["error"]


def test_the_command_list_shows_each_summary_without_hard_line_breaks():
    # rich (typer's markup mode here) keeps single newlines of a command's first help paragraph in the root
    # --help command list, so a summary wrapped in the source read "riskiest first,\nwith band" on screen.
    import typer

    commands = typer.main.get_command(app).commands
    broken = {name: (c.short_help or c.help or "").split("\n\n")[0] for name, c in commands.items()}
    assert {name: text for name, text in broken.items() if "\n" in text.strip()} == {}
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "1000"}).output
    assert "riskiest first, with band" in listing


def test_help_paragraphs_are_reflowed_so_an_80_column_terminal_shows_no_ragged_lines():
    # Help is wrapped at ~115 characters in the source; rich keeps single newlines, so on 80 columns each source
    # line used to wrap into a line and a half. Only \b paragraphs (examples, lists) keep their line breaks.
    import typer

    def paragraphs(commands, prefix=""):
        for name, command in commands.items():
            if hasattr(command, "commands"):
                yield from paragraphs(command.commands, f"{name} ")
            for para in (command.help or "").split("\n\n"):
                yield f"{prefix}{name}", para

    ragged = {name for name, para in paragraphs(typer.main.get_command(app).commands)
              if not para.lstrip().startswith("\b") and "\n" in para.strip()}
    assert ragged == set()
    shown = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "80"}).output
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "Examples:" in shown and "retention-ml score --model" in shown


def test_examples_fit_80_columns_as_shell_continuations_that_paste_as_the_same_command():
    # a wider example line wrapped on screen, and its second half (an option's value, or a trailing comment's
    # words) pasted as a command of its own
    import re

    import typer

    from retention_ml.cli import EXAMPLE_WIDTH

    def example_blocks(commands):
        for name, command in commands.items():
            if hasattr(command, "commands"):
                yield from example_blocks(command.commands)
            yield from (p for p in (command.help or "").split("\n\n") if p.lstrip().startswith("\b"))

    blocks = list(example_blocks(typer.main.get_command(app).commands))
    assert any("retention-ml score --model models:/retention-ml-turnover@champion" in b for b in blocks)
    assert max(len(line) for b in blocks for line in b.splitlines()) <= EXAMPLE_WIDTH
    score = next(b for b in blocks if "retention-ml score --model models:/" in b)
    pasted = re.sub(r" \\\n\s*", " ", score)
    assert ("retention-ml score --model models:/retention-ml-turnover@champion --data extracts/2025-07 "
            "--as-of 2025-07-01 --out scores/2025-07") in pasted


def test_score_data_help_names_every_format_a_table_is_read_from():
    # It said "<table>.csv or .parquet" while an analyst's tables are as often workbooks (workers.xlsx).
    import typer

    from retention_ml.cli import app
    from retention_ml.io import SUFFIXES

    score = typer.main.get_command(app).commands["score"]
    data_help = next(p.help for p in score.params if p.name == "data")
    assert all(suffix in data_help for suffix in SUFFIXES), data_help


def test_the_command_list_gives_each_command_a_summary_of_a_few_lines():
    # rank's and runs' first help paragraphs (about 800 characters each) were the list's entries: 19 and 21 lines
    # of `retention-ml --help` on an 80-column terminal, burying the other commands.
    import typer

    commands = typer.main.get_command(app).commands
    summaries = {name: (c.short_help or c.help or "").split("\n\n")[0] for name, c in commands.items()}
    assert {name: len(text) for name, text in summaries.items() if len(text) > 260} == {}


def test_score_prints_band_counts_low_to_high_with_an_empty_band_as_zero():
    # The operator's summary came out as pandas sorted it, "high low medium", and a band nobody was in vanished.
    import pandas as pd

    from retention_ml.commands.score import band_counts
    from retention_ml.scoring import ScoreResult

    scores = pd.DataFrame({"council_id": ["C1", "C1", "C1", "C2"], "band": ["high", "low", "low", "low"]})
    table = band_counts(ScoreResult(scores=scores, meta={}, files=[]))
    assert list(table.columns) == ["low", "medium", "high"]
    assert table.loc["C1"].tolist() == [2, 0, 1] and table.loc["C2"].tolist() == [1, 0, 0]


def test_score_prints_one_total_row_for_many_councils():
    # a national scoring printed 150 rows of band counts, burying the lines after them (previous scoring, files)
    import pandas as pd

    from retention_ml.commands.score import COUNCILS_SHOWN, band_summary
    from retention_ml.scoring import ScoreResult

    def summary(n_councils):
        councils = [f"C{i:03d}" for i in range(n_councils)]
        scores = pd.DataFrame({"council_id": councils * 3, "band": ["low"] * 2 * n_councils + ["high"] * n_councils})
        return band_summary(ScoreResult(scores=scores, meta={}, files=[])).splitlines()

    few = summary(COUNCILS_SHOWN)
    assert len(few) == 2 + COUNCILS_SHOWN and few[2].split() == ["C000", "2", "0", "1"]
    many = summary(COUNCILS_SHOWN + 1)
    assert many[1].split() == ["all", str(COUNCILS_SHOWN + 1), "councils", str(2 * (COUNCILS_SHOWN + 1)), "0",
                               str(COUNCILS_SHOWN + 1)]
    assert len(many) == 3 and "bands_by_council" in many[2] and not any("C000" in line for line in many)
