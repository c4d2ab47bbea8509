"""What real HR and case-management exports do to a CSV, and the message that tells the engineer the fix."""

from pathlib import Path

import pandas as pd

from retention_ml.validation import validate_dir


def _rename_header(data: Path, table: str, old: str, new: str) -> None:
    path = data / f"{table}.csv"
    head, _, rest = path.read_text(encoding="utf-8").partition("\n")
    path.write_text(",".join(new if h == old else h for h in head.split(",")) + "\n" + rest, encoding="utf-8")


def test_a_declared_column_named_twice_is_one_error_naming_both_fields(tmp_path, example_copy):
    # pandas renames the second 'role' to 'role.1': the engineer used to read "column role.1 is not in the schema".
    data = example_copy(tmp_path)
    _rename_header(data, "workers", "disability", "role")
    report = validate_dir(data)
    dup = report.errors[report.errors["rule"] == "duplicate_column"]
    assert dup[["file", "line", "column"]].values.tolist() == [["workers.csv", 1, "role"]]
    assert "fields 3, 17" in dup["message"].iat[0] and "only field 3 is read" in dup["message"].iat[0]
    assert "role.1" not in report.failures["column"].astype(str).tolist()
    assert "role.1" not in report.failures["message"].str.cat()


def test_an_undeclared_column_named_twice_is_a_warning(tmp_path, example_copy):
    data = example_copy(tmp_path)
    frame = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    frame["notes"], frame["notes2"] = "a", "b"
    frame.to_csv(data / "teams.csv", index=False)
    _rename_header(data, "teams", "notes2", "notes")
    report = validate_dir(data)
    assert report.ok
    assert report.warnings.loc[report.warnings["rule"] == "duplicate_column", "column"].tolist() == ["notes"]


def _edit(data: Path, table: str, column: str, rows: dict) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    for row, value in rows.items():
        frame.loc[row, column] = value
    frame.to_csv(data / f"{table}.csv", index=False)


def _messages(report, column: str) -> list[str]:
    errors = report.errors
    return errors.loc[errors["column"] == column, "message"].tolist()


def test_missing_value_markers_are_named_with_the_fix(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _edit(data, "workers", "end_date", {0: "N/A"})
    _edit(data, "workers", "leaving_reason", {0: "-"})
    _edit(data, "workers", "fte", {1: "NULL"})
    _edit(data, "workers", "sex", {2: "Unknown"})
    report = validate_dir(data)
    assert len(report.errors) == 4   # still errors: nothing is guessed
    assert "'Unknown' is not read as missing: write 'not_known' when it is not recorded" in _messages(report, "sex")[0]
    assert "'N/A' is not read as missing: leave the cell empty" in _messages(report, "end_date")[0]
    assert "'-' is not read as missing: leave the cell empty" in _messages(report, "leaving_reason")[0]
    assert "'NULL' is not read as missing: this column needs a value in every row" in _messages(report, "fte")[0]


def test_excels_errors_in_text_columns_are_one_error_each_naming_the_cause(tmp_path, example_copy):
    # A CSV saved from Excel keeps '#N/A' as text: as a council it would pass as one more council (a warning at most),
    # as a team id it failed only as an unknown team with no hint of the failed lookup behind it.
    data = example_copy(tmp_path)
    _edit(data, "teams", "council_id", {0: "#N/A"})
    _edit(data, "workers", "team_id", {3: " #REF! "})
    report = validate_dir(data)
    errors = report.errors
    assert sorted(errors["rule"]) == ["excel_error", "excel_error"]      # one each: no not_null or foreign_key too
    council, team = _messages(report, "council_id"), _messages(report, "team_id")
    assert council == ["teams row 1: council_id is '#N/A', Excel's error for a formula that failed (usually a lookup "
                       "found no match): correct the formula or type the value in the spreadsheet, then export again"]
    assert team[0].startswith("workers row 4: team_id is '#REF!', Excel's error") and "cells since deleted" in team[0]
    assert not report.warnings["rule"].eq("path_characters").any()    # '#N/A' is no longer read as an id


def test_number_formats_get_the_number_as_it_must_be_written(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _edit(data, "pay_history", "annual_salary", {0: "55,000.00", 1: "£57750", 2: "57750,5"})
    messages = _messages(validate_dir(data), "annual_salary")
    assert len(messages) == 3
    assert messages[0].endswith("write numbers without thousands separators (55000.00)")
    assert messages[1].endswith("without a currency or % sign")
    assert messages[2].endswith("write decimals with a full stop (57750.5)")


def test_ids_in_another_case_name_the_id_meant(tmp_path, example_copy):
    # Codes of a closed list are read (tests/validation/test_first_extract.py); ids are never changed.
    data = example_copy(tmp_path)
    _edit(data, "workers", "team_id", {3: "t01"})
    report = validate_dir(data)
    assert "did you mean 'T01'?" in _messages(report, "team_id")[0]   # foreign keys: near a known id


def test_a_value_with_no_known_habit_gets_no_advice(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _edit(data, "workers", "employment_type", {0: "volunteer"})
    message = _messages(validate_dir(data), "employment_type")[0]
    assert message.endswith("must be one of: permanent, agency, fixed_term")


def test_a_row_of_empty_fields_is_one_record_not_one_per_required_column(tmp_path, example_copy):
    # Between data rows (empty rows after the last one are spreadsheet residue: tests/validation/test_first_extract.py).
    data = example_copy(tmp_path)
    path = data / "workers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:5] + ["," * 16] + lines[5:]) + "\n", encoding="utf-8")
    errors = validate_dir(data).errors
    assert errors[["row", "line", "rule"]].values.tolist() == [[5, 6, "empty_row"]]
    assert "every field is empty; delete the row" in errors["message"].iat[0]


def test_a_table_split_over_two_files_says_to_combine_them(tmp_path, example_copy):
    data = example_copy(tmp_path)
    caseload = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    (data / "caseload_history.csv").unlink()
    caseload.iloc[:100].to_csv(data / "caseload_history_2024.csv", index=False)
    caseload.iloc[100:].to_csv(data / "caseload_history_2025.csv", index=False)
    report = validate_dir(data)
    missing = report.errors.loc[report.errors["rule"] == "missing_table", "message"].iat[0]
    assert "found caseload_history_2024.csv, caseload_history_2025.csv" in missing and "combine them into one caseload_history.csv" in missing
    stray = report.warnings.loc[report.warnings["rule"] == "unknown_file", "message"].tolist()
    assert len(stray) == 2 and all("looks like part of table caseload_history" in m for m in stray)


def test_a_title_line_above_the_header_is_named_with_the_line_the_header_is_on(tmp_path, example_copy):
    # Report exports open with a title; every column used to read as missing, and the title (here with a
    # person's name) was copied into the report as an unknown column.
    data = example_copy(tmp_path)
    path = data / "teams.csv"
    path.write_text("Establishment report run 01/07/2025 by Jane Khan\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    report = validate_dir(data)
    teams = report.failures[report.failures["table"] == "teams"]
    assert teams[["severity", "line", "rule"]].values.tolist() == [["error", 1, "csv_format"]]
    assert "the header is on line 3, not line 1: delete the 2 line(s) above it" in teams["message"].iat[0]
    assert "Jane" not in report.failures["message"].str.cat()


def test_a_header_with_other_spelling_is_not_taken_for_a_title(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _rename_header(data, "teams", "team_id", "Team ID")
    report = validate_dir(data)
    assert report.ok, report.errors["message"].tolist()   # read as team_id, not a title line above the header
    renamed = report.warnings[report.warnings["rule"] == "column_name"]
    assert renamed["column"].tolist() == ["team_id"] and "'Team ID' as team_id" in renamed["message"].iat[0]


def test_codes_excel_turned_into_numbers_are_named(tmp_path, example_copy):
    data = example_copy(tmp_path)
    for table in ("teams", "workers", "team_history"):
        frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
        frame["team_id"] = frame["team_id"].replace({"T01": "007", "T02": "123456789012"})
        frame.to_csv(data / f"{table}.csv", index=False)
    _edit(data, "workers", "team_id", {0: "7", 1: "1.23457E+11"})   # W001 of team 007, W002 of team 123456789012
    messages = _messages(validate_dir(data), "team_id")
    assert len(messages) == 2
    assert "did you mean '007'? Excel drops leading zeros" in messages[0]
    assert "scientific notation: format the column as Text" in messages[1]


def test_a_table_file_named_with_a_capital_is_named_with_the_rename_that_fixes_it(tmp_path, example_copy):
    # 'Teams.csv' is how a spreadsheet user names a file (and Windows does not mind the case); the missing-table
    # error used to say only "expected teams.csv", though the file sat in the folder.
    data = example_copy(tmp_path)
    (data / "teams.csv").rename(data / "Teams.csv")
    report = validate_dir(data)
    missing = report.errors.loc[report.errors["rule"] == "missing_table", "message"].tolist()
    assert len(missing) == 1 and "found Teams.csv" in missing[0] and "rename Teams.csv to teams.csv" in missing[0]
    stray = report.warnings.loc[report.warnings["rule"] == "unknown_file", "message"].tolist()
    assert stray == [stray[0]] and "names are case-sensitive: rename it teams.csv" in stray[0]


def test_one_whole_table_under_a_dated_name_says_to_rename_it_not_to_combine_parts(tmp_path, example_copy):
    data = example_copy(tmp_path)
    (data / "workers.csv").rename(data / "workers_2025-07.csv")
    report = validate_dir(data)
    missing = report.errors.loc[report.errors["rule"] == "missing_table", "message"].iat[0]
    assert "found workers_2025-07.csv" in missing and "rename it workers.csv" in missing and "combine" not in missing
    stray = report.warnings.loc[report.warnings["rule"] == "unknown_file", "message"].tolist()
    assert len(stray) == 1 and "rename it workers.csv" in stray[0] and "combine" not in stray[0]
