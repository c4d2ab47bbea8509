"""The same problem on many rows of one file and column (payroll numbers for ids, a month column written
DD/MM/YYYY) is printed once: its count, its first rows, the first record's message (value and fix). Every
record stays in --json; a few records of one rule are still printed one a line."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.validation import SHOWN_ROWS, validate_dir

runner = CliRunner()


def _invoke(args, width="80"):
    result = runner.invoke(app, args, env={"COLUMNS": width})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _payroll_ids(data: Path) -> int:
    """Every table's worker and manager ids as digits alone (W001 -> 9001); the number of workers."""
    for path in data.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        ids = [c for c in ("worker_id", "manager_id") if c in frame]
        for column in ids:
            frame[column] = frame[column].str.replace("W", "9", regex=False)
        if ids:
            frame.to_csv(path, index=False)
    return len(pd.read_csv(data / "workers.csv"))


def _day_month_year(data: Path) -> int:
    """caseload_history.csv's month column written DD/MM/YYYY as a UK Excel saves it; its number of rows."""
    frame = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    frame["month"] = pd.to_datetime(frame["month"]).dt.strftime("%d/%m/%Y")
    frame.to_csv(data / "caseload_history.csv", index=False)
    return len(frame)


def _problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("error (", "warning ("))]


@pytest.mark.parametrize("width", ["80", "250"])
def test_payroll_number_ids_are_one_message_with_count_rows_and_fix(tmp_path, example_copy, width):
    data = example_copy(tmp_path)
    n = _payroll_ids(data)
    assert n > SHOWN_ROWS
    result = _invoke(["validate", str(data)], width)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    if width == "80":
        assert [line for line in _problem_lines(result.output) if "number_like_id" in line] == [
            next(line for line in result.output.splitlines() if "(number_like_id)" in line)]
    assert text.count("worker_id is digits alone") == 1
    assert (f"workers.csv column worker_id: the same problem on {n:,} rows (rows 1, 2, 3, 4, 5 and {n - 5:,} more); "
            "the first: workers row 1: worker_id is digits alone") in text
    assert "replace them with codes the HR system does not hold" in text   # the fix
    # --json keeps one record per row, as before
    payload = json.loads(_invoke(["validate", str(data), "--json"]).stdout)
    rows = [f["row"] for f in payload["failures"] if f["rule"] == "number_like_id"]
    assert rows == list(range(1, n + 1))


def test_a_day_first_month_column_is_two_messages_not_one_per_row(tmp_path, example_copy):
    data = example_copy(tmp_path)
    n = _day_month_year(data)
    result = _invoke(["validate", str(data)])
    assert result.exit_code == 1
    lines = _problem_lines(result.output)
    assert len(lines) == 2, lines
    text = " ".join(result.output.split())
    assert "values that are not dates look like DD/MM/YYYY" in text
    assert (f"error (type) caseload_history.csv column month: the same problem on {n:,} rows (rows 1, 2, 3, 4, 5 and "
            f"{n - 5:,} more); the first: caseload_history row 1: month is '01/") in text
    assert "must be a month (YYYY-MM-01 or YYYY-MM)" in text
    assert f"caseload_history type (error): {n}" in text   # the counts are as before
    payload = json.loads(_invoke(["validate", str(data), "--json", "--max-errors", str(10 * n)]).stdout)
    assert sum(f["rule"] == "type" for f in payload["failures"]) == n


def test_the_wide_table_has_one_row_for_the_group(tmp_path, example_copy):
    data = example_copy(tmp_path)
    n = _day_month_year(data)
    result = _invoke(["validate", str(data)], "250")
    rows = [line.split("│") for line in result.output.splitlines() if "caseload_history.csv" in line and "│" in line]
    assert [(cells[3].strip(), cells[5].strip()) for cells in rows] == [("", "date_format"), (f"1 and {n - 1:,} more", "type")]


def test_a_few_records_of_one_rule_are_each_printed_with_their_value(tmp_path, example_copy):
    data = example_copy(tmp_path)
    frame = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    frame.loc[: SHOWN_ROWS - 1, "open_cases"] = "-" + frame.loc[: SHOWN_ROWS - 1, "open_cases"]
    frame.loc[0, "open_cases"] = "-3"
    frame.to_csv(data / "caseload_history.csv", index=False)
    result = _invoke(["validate", str(data)])
    lines = _problem_lines(result.output)
    assert len(lines) == SHOWN_ROWS and "caseload_history row 1: open_cases is -3; must be 0 or more" in lines[0]
    assert "the same problem" not in result.output


def test_the_reports_text_and_trains_refusal_group_the_same_way(tmp_path, example_copy):
    data = example_copy(tmp_path)
    n = _day_month_year(data)
    report = validate_dir(data)
    text = str(report)   # what `score` prints on invalid data
    assert f"the same problem on {n:,} rows" in text and len(text.splitlines()) == 3, text
    result = _invoke(["train", str(Path(__file__).resolve().parents[2] / "experiments" / "council_default.toml"),
                      "--set", f"data.path={data}", "--set", f"tracking_uri=sqlite:///{tmp_path}/mlflow.db"])
    assert result.exit_code == 1
    assert len([line for line in _problem_lines(result.output) if "(type)" in line]) == 1, result.output


def test_a_workbooks_folded_rows_name_the_excel_rows_and_a_files_bad_lines_their_lines():
    from retention_ml.validation import FAILURE_COLUMNS, group_failures

    n = SHOWN_ROWS + 2
    book = pd.DataFrame({"severity": "error", "table": "teams", "file": "teams.xlsx", "row": range(3, 3 + n),
                         "line": range(4, 4 + n), "column": "service", "rule": "allowed", "value": "x", "message": "m"})
    ragged = book.assign(file="teams.csv", row=pd.NA, column=None, rule="csv_format")[FAILURE_COLUMNS]
    councils = book.assign(file="absence.csv", row=pd.NA, line=pd.NA, column="council", rule="no_rows_for_council",
                           severity="warning", value=[f"C{i:03d}" for i in range(1, n + 1)])[FAILURE_COLUMNS]
    listing = group_failures(pd.concat([book[FAILURE_COLUMNS], ragged, councils], ignore_index=True))
    assert listing["count"].tolist() == [n, n, n]
    assert listing["message"].tolist() == [
        f"teams.xlsx column service: the same problem on {n} rows (rows 3, 4, 5, 6, 7 (Excel rows 4, 5, 6, 7, 8) and 2 more); the first: m",
        f"teams.csv: the same problem on {n} lines (lines 4, 5, 6, 7, 8 and 2 more); the first: m",
        f"absence.csv column council: the same problem on {n} records (C001, C002, C003, C004, C005 and 2 more); the first: m"]


def test_the_help_says_when_problems_are_folded():
    from retention_ml.commands.validate import HELP

    assert f"more than {SHOWN_ROWS} rows of one file and column" in " ".join(HELP.split())
