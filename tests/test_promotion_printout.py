"""`promote`'s table fits the terminal it is shown on, and piped (CI logs) keeps each check's detail on one line.

It was drawn 160 columns wide whatever the output: on an 80-column terminal every line overran and was wrapped by
the terminal, and in a log each detail was folded inside its cell.
"""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_promote_fits_an_80_column_terminal_and_keeps_details_whole_when_piped(sim_model):
    result, _root = sim_model
    record = json.loads(runner.invoke(app, ["promote", result.run_id, "--dry-run", "--json"]).stdout)
    terminal = runner.invoke(app, ["promote", result.run_id, "--dry-run"], env={"TTY_COMPATIBLE": "1", "COLUMNS": "80"})
    piped = runner.invoke(app, ["promote", result.run_id, "--dry-run"], env={"TTY_COMPATIBLE": "0"})
    assert terminal.exit_code == piped.exit_code == (0 if record["ok"] else 1)
    widest = max(len(ANSI.sub("", line)) for line in terminal.stdout.splitlines())
    assert widest <= 80, terminal.stdout
    from retention_ml.reports.model_card import gate_detail_text

    for check in record["checks"]:   # each check's detail as the table words it, whole on one line
        detail = gate_detail_text(check["detail"])
        assert [line for line in piped.stdout.splitlines() if detail in line], (detail, piped.stdout)
