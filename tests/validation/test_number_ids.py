"""Payroll or staff numbers used as worker ids are a warning naming file, rows, column and rule.

workers.worker_id is "never a name or payroll number": an id of digits alone (``104523``, ``00012345``) reads as
an HR or payroll system's employee number (rule ``number_like_id``, declared in workers.yaml). A warning, not an
error: a code drawn for the extract may be digits too. The simulator's ids and the shipped example's carry a
letter, so they raise nothing. An id in the form of a National Insurance number is a warning too
(``ni_number_like_id``). The value is never copied into the report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml.validation import validate_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"
PAYROLL = {"W003": "104523", "W009": "00012345"}   # example id -> a payroll-like number in its place
NOT_NUMBERS = {"W004": "E104"}                      # a letter and digits, as the simulator writes them: nothing
NI_NUMBERS = {"W005": "AB123456C", "W006": "ce 12 34 56 d"}   # National Insurance numbers' form (HMRC)
NOT_NI = {"W007": "QQ123456C"}                      # Q is never a first letter: not an NI number's form


def _copy_with_ids(tmp_path: Path, ids: dict[str, str]) -> Path:
    data = tmp_path / "numbers"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    for path in data.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for col in ("worker_id", "manager_id"):
            if col in frame:
                frame[col] = frame[col].replace(ids)
        frame.to_csv(path, index=False)
    return data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return validate_dir(_copy_with_ids(tmp_path_factory.mktemp("ids"), PAYROLL | NOT_NUMBERS | NI_NUMBERS | NOT_NI),
                        as_of="2025-07-01")


def test_an_id_of_digits_alone_is_a_warning_naming_file_rows_column_and_rule(report):
    example = pd.read_csv(EXAMPLE / "workers.csv", dtype=str)["worker_id"]
    warned = report.warnings[report.warnings["rule"] == "number_like_id"]
    assert warned["row"].tolist() == sorted(int(np.flatnonzero(example == k)[0]) + 1 for k in PAYROLL)
    assert set(warned["file"]) == {"workers.csv"} and set(warned["column"]) == {"worker_id"}
    assert warned["message"].str.contains("payroll").all()
    assert report.ok   # a warning: validate exits 0, training and scoring go on


def test_an_id_in_the_form_of_a_national_insurance_number_is_a_warning(report):
    example = pd.read_csv(EXAMPLE / "workers.csv", dtype=str)["worker_id"]
    warned = report.warnings[report.warnings["rule"] == "ni_number_like_id"]
    assert warned["row"].tolist() == sorted(int(np.flatnonzero(example == k)[0]) + 1 for k in NI_NUMBERS)
    assert set(warned["column"]) == {"worker_id"} and warned["value"].isna().all()
    assert not [n for n in NI_NUMBERS.values() if n in report.to_json()]


def test_the_report_never_copies_the_number(report):
    records = report.failures[report.failures["rule"] == "number_like_id"]
    assert len(records) == len(PAYROLL) and records["value"].isna().all()
    text = report.to_json() + str(report)
    assert not [n for n in PAYROLL.values() if n in text]


def test_simulated_ids_raise_no_number_warning(sim_dir):
    assert "number_like_id" not in set(validate_dir(sim_dir).failures["rule"])


def test_piped_validate_prints_each_problem_on_one_line(tmp_path):
    """In a CI log (rich's 80 columns when piped) each problem was broken over several lines, so grep for a file
    or rule found half a message."""
    from typer.testing import CliRunner

    from retention_ml.cli import app

    data = _copy_with_ids(tmp_path, PAYROLL)
    runner = CliRunner()
    done = runner.invoke(app, ["validate", str(data)], env={"TTY_COMPATIBLE": "0"})
    assert done.exit_code == 0, done.output
    messages = validate_dir(data).warnings["message"]
    assert len(messages) >= len(PAYROLL)
    lines = done.stdout.splitlines()
    for message in messages:
        assert [line for line in lines if message in line], message
    assert [line for line in lines if f"{data}: valid:" in line]


def test_train_and_score_help_name_every_identifying_id_rule():
    """Their help said 'names or payroll numbers (name_like_id and number_like_id)' after ni_number_like_id was
    added: whoever reads it to learn what the warning means must find every rule that raises it."""
    from retention_ml.commands import score, train
    from retention_ml.validation import IDENTIFYING_ID_RULES

    for module in (train, score):
        missing = [rule for rule in IDENTIFYING_ID_RULES if rule not in module.HELP]
        assert not missing, f"{module.__name__}'s help leaves out {missing}"
