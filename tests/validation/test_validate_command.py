"""`retention-ml validate`: exit codes 0/1/2, a readable table, JSON for machines, nothing written into the folder."""

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from retention_ml.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"
CORPUS = ROOT / "tests" / "fixtures" / "broken"
runner = CliRunner()


def invoke(args, **kwargs):
    """Run the CLI; a crash (any exception but the command's own exit) fails the test instead of passing as exit 1."""
    result = runner.invoke(app, args, **kwargs)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed: {result.exception!r}\n{result.output}"
    )
    return result


def broken_copy(tmp_path: Path, case: str) -> Path:
    data = tmp_path / case
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    for f in (CORPUS / case).glob("*.csv"):
        shutil.copyfile(f, data / f.name)
    return data


def test_valid_example_exits_0_and_lists_tables_read():
    result = invoke(["validate", str(EXAMPLE), "--as-of", "2025-07-01"])
    assert result.exit_code == 0, result.output
    assert "caseload_history" in result.output and "189" in result.output
    assert "valid: 0 error(s)" in result.output


def test_problems_exit_1_and_the_message_is_shown(tmp_path):
    data = broken_copy(tmp_path, "negative_count")
    result = invoke(["validate", str(data)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "caseload_history row 171: open_cases is -3; must be 0 or more" in result.output


def test_json_output_is_machine_readable(tmp_path):
    data = broken_copy(tmp_path, "fk_unknown_worker")
    result = invoke(["validate", str(data), "--json", "--as-of", "2025-07-01"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["as_of"] == "2025-07-01"
    assert [(f["table"], f["row"], f["column"], f["rule"], f["value"]) for f in payload["failures"]] == [
        ("caseload_history", 66, "worker_id", "foreign_key", "W999")
    ]


def test_missing_folder_exits_2(tmp_path):
    result = invoke(["validate", str(tmp_path / "absent")])
    assert result.exit_code == 2
    result = invoke(["validate", str(tmp_path / "absent"), "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["ok"] is False


def test_folder_without_any_table_file_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("not data", encoding="utf-8")
    result = invoke(["validate", str(tmp_path)])
    assert result.exit_code == 2
    (tmp_path / "workers.csv").write_bytes("worker_id\nRen\u00e9e\n".encode("cp1252"))  # present but unreadable: a problem found
    assert invoke(["validate", str(tmp_path)]).exit_code == 1


def test_bad_as_of_exits_2():
    assert invoke(["validate", str(EXAMPLE), "--as-of", "July"]).exit_code == 2


def test_max_errors_limits_the_listing(tmp_path):
    result = invoke(["validate", str(EXAMPLE), "--as-of", "2024-06-01", "--json", "--max-errors", "3"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and len(payload["failures"]) == 3 and payload["truncated"] is True


def test_never_writes_into_the_data_folder(tmp_path):
    data = broken_copy(tmp_path, "duplicate_key")
    before = {p: p.stat().st_mtime_ns for p in data.iterdir()}
    invoke(["validate", str(data)])
    invoke(["validate", str(data), "--json"])
    assert {p: p.stat().st_mtime_ns for p in data.iterdir()} == before


def test_help_teaches_with_examples():
    result = invoke(["validate", "--help"])
    assert result.exit_code == 0
    assert "retention-ml validate data_schema/examples/council_small" in result.output
    assert "--as-of" in result.output and "--json" in result.output


def test_file_and_column_problems_are_listed_without_a_crash(tmp_path):
    # File- and column-level records have no row; the text table must show them with an empty row cell.
    data = broken_copy(tmp_path, "missing_required_column")
    (data / "absence.csv").write_bytes(b"")
    (data / "supervision.csv").unlink()
    (data / "pay_history.csv").unlink()
    result = invoke(["validate", str(data)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    assert "workers.csv: required column fte is missing" in result.output
    assert "absence.csv is empty" in result.output
    assert "required table pay_history is missing" in result.output


def test_warnings_only_folder_exits_0_in_text_and_json(tmp_path):
    data = broken_copy(tmp_path, "unknown_column_warns")
    text = invoke(["validate", str(data)], env={"COLUMNS": "250"})
    assert text.exit_code == 0, text.output
    assert "unknown_column" in text.output and "warning" in text.output
    assert invoke(["validate", str(data), "--json"]).exit_code == 0


def test_folder_with_only_misnamed_table_files_says_what_was_found(tmp_path):
    (tmp_path / "Workers.CSV").write_text("worker_id\nW1\n", encoding="utf-8")
    (tmp_path / "teams.xls").write_bytes(b"\xd0\xcf\x11\xe0")   # Excel 97-2003: save it as .xlsx
    result = invoke(["validate", str(tmp_path), "--json"])
    assert result.exit_code == 2
    assert "found Workers.CSV, teams.xls, but only <table>.csv" in json.loads(result.stdout)["error"]


def test_on_an_80_column_terminal_each_problem_is_one_readable_message_then_where_to_look(tmp_path):
    # The seven-column table folded each message into a column 8 letters wide: 130 lines for 6 problems.
    data = broken_copy(tmp_path, "value_not_allowed")
    result = invoke(["validate", str(data)], env={"COLUMNS": "80"})
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "error (allowed) workers row 5: role is 'family support worker'; must be one of: social_worker," in text
    assert "What each column must hold: retention-ml schema show workers;" in text
    assert "'Writing the files' in " in text and "data_schema/README.md" in text


def test_a_valid_folder_ends_with_the_command_that_uses_it():
    result = invoke(["validate", str(EXAMPLE)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert f"Next: retention-ml train experiments/council_default.toml --set data.path={EXAMPLE}" in " ".join(result.output.split())


def test_the_next_command_is_one_line_that_pastes_when_piped():
    # piped or logged, rich's width is 80: the command broke after "--set" and no longer pasted
    result = invoke(["validate", str(EXAMPLE)], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert any(line.startswith(f"Next: retention-ml train experiments/council_default.toml --set data.path={EXAMPLE} ")
               for line in result.output.splitlines()), result.output


def test_a_workbooks_problems_show_the_excel_row_beside_the_data_row_in_the_table_and_the_json(tmp_path, example_copy):
    import importlib.util

    import pandas as pd

    spec = importlib.util.spec_from_file_location("workbook_files", Path(__file__).with_name("workbook_files.py"))
    workbook_files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(workbook_files)
    data = example_copy(tmp_path, "csv")
    teams = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    teams.loc[2, "service"] = "fostering_and_more"          # data row 3, Excel row 4
    teams.to_csv(data / "teams.csv", index=False)
    xlsx = workbook_files.as_workbooks(data, tmp_path / "xlsx")
    result = invoke(["validate", str(xlsx)], env={"COLUMNS": "250"})
    assert result.exit_code == 1
    row_cells = [line.split("│")[3].strip() for line in result.output.splitlines() if "teams.xlsx" in line and "│" in line]
    assert row_cells == ["3 (Excel row 4)"]
    payload = json.loads(invoke(["validate", str(xlsx), "--json"]).stdout)
    [record] = [f for f in payload["failures"] if f["file"] == "teams.xlsx"]
    assert (record["row"], record["excel_row"], record["column"]) == (3, 4, "service")
    # a CSV's records have no Excel row: its line is a line of text
    csv = json.loads(invoke(["validate", str(data), "--json"]).stdout)
    assert [(f["row"], f["excel_row"]) for f in csv["failures"] if f["file"] == "teams.csv"] == [(3, None)]


def test_optional_tables_not_given_are_named_after_the_tables_read(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md", "supervision.csv", "commute.csv"))
    result = invoke(["validate", str(data)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Optional tables not given:"))
    assert line.startswith("Optional tables not given: commute, supervision.") and "not measured" in line
    assert "Optional tables not given" not in invoke(["validate", str(EXAMPLE)]).output   # the example gives every table
