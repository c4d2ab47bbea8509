"""The validator: the broken-input corpus is caught exactly, valid data passes, all failures come at once."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from retention_ml.io import read_tables, write_table
from retention_ml.schema import load_schemas
from retention_ml.validation import (
    FAILURE_COLUMNS,
    DataValidationError,
    build_pandera_schema,
    read_validated,
    validate_dir,
    validate_frames,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"
CORPUS = ROOT / "tests" / "fixtures" / "broken"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.yaml").exists())
AS_OF = "2025-07-01"


def build_case(name: str, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of the example set with the case's files laid over it."""
    meta = yaml.safe_load((CORPUS / name / "case.yaml").read_text(encoding="utf-8"))
    data = tmp_path / name
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    for f in (CORPUS / name).iterdir():
        if f.name != "case.yaml":
            shutil.copyfile(f, data / f.name)
    for f in meta["remove"]:
        (data / f).unlink()
    return data, meta


def test_corpus_is_not_empty():
    assert len(CASES) >= 20


def test_example_set_is_valid():
    report = validate_dir(EXAMPLE, as_of=AS_OF)
    assert report.ok, str(report)
    assert report.failures.empty
    assert report.tables["workers"] == 14 and report.tables["caseload_history"] == 189
    assert set(report.tables) == set(load_schemas())


@pytest.mark.parametrize("name", CASES)
def test_each_broken_case_reports_exactly_its_problem(name, tmp_path):
    data, meta = build_case(name, tmp_path)
    report = validate_dir(data, as_of=meta["as_of"])
    got = report.errors[["file", "row", "column", "rule"]].astype(object).where(report.errors[["file", "row", "column", "rule"]].notna(), None)
    got = sorted(map(tuple, got.to_numpy().tolist()), key=str)
    want = sorted(((x["file"], x["row"], x["column"], x["rule"]) for x in meta["expect"]), key=str)
    assert got == want, report.failures.to_string()
    assert report.ok is meta["ok"]
    for want_msg, msg in zip(sorted(x["message"] for x in meta["expect"]), sorted(report.errors["message"])):
        assert want_msg in msg


def test_message_names_file_row_column_value_and_rule(tmp_path):
    data, _ = build_case("negative_count", tmp_path)
    rec = validate_dir(data, as_of=AS_OF).errors.iloc[0]
    assert rec["message"] == "caseload_history row 171: open_cases is -3; must be 0 or more"
    assert rec["value"] == "-3" and rec["line"] == 172


def test_not_utf8_message_names_the_encoding_problem_and_line(tmp_path):
    data, _ = build_case("not_utf8", tmp_path)
    msg = validate_dir(data, as_of=AS_OF).errors.iloc[0]["message"]
    assert "not valid UTF-8" in msg and "line 4" in msg and "Windows-1252" in msg


def test_unknown_column_is_a_warning_naming_it(tmp_path):
    data, _ = build_case("unknown_column_warns", tmp_path)
    report = validate_dir(data, as_of=AS_OF)
    assert report.ok
    assert report.warnings[["table", "column", "rule"]].values.tolist() == [["teams", "nickname", "unknown_column"]]


def test_all_failures_are_collected_in_one_pass(tmp_path):
    data = tmp_path / "many"
    shutil.copytree(EXAMPLE, data)
    for name in ("bad_date", "fk_unknown_area", "duplicate_key", "reason_outside_taxonomy"):
        for f in (CORPUS / name).glob("*.csv"):
            shutil.copyfile(f, data / f.name)
    workers = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    workers.loc[[0, 1], "fte"] = ["2.5", "-1"]  # two more faults in the same table and column
    workers.to_csv(data / "workers.csv", index=False)
    report = validate_dir(data, as_of=AS_OF)
    rules = report.errors.groupby(["table", "rule"]).size().to_dict()
    assert rules == {
        ("workers", "type"): 1,
        ("workers", "max"): 1,
        ("workers", "min"): 1,
        ("teams", "foreign_key"): 1,
        ("caseload_history", "duplicate_key"): 1,
        ("exit_interviews", "allowed"): 1,
    }
    assert list(report.failures.columns) == FAILURE_COLUMNS


def test_unparseable_value_in_required_column_is_not_also_reported_as_empty(tmp_path):
    data, _ = build_case("bad_date", tmp_path)
    errors = validate_dir(data, as_of=AS_OF).errors
    assert errors["rule"].tolist() == ["type"]


def test_as_of_is_optional_and_catches_late_dates_only_when_given(tmp_path):
    data, _ = build_case("date_after_as_of", tmp_path)
    assert validate_dir(data).ok
    assert not validate_dir(data, as_of="2026-01-01").ok


def test_parquet_input_is_checked_the_same_way(tmp_path):
    data = tmp_path / "pq"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md", "caseload_history.csv"))
    frame = read_tables(EXAMPLE, ["caseload_history"])["caseload_history"]
    frame.loc[10, "open_cases"] = 500
    write_table(frame, data / "caseload_history.parquet")
    errors = validate_dir(data, as_of=AS_OF).errors
    assert errors[["file", "row", "column", "rule"]].values.tolist() == [["caseload_history.parquet", 11, "open_cases", "max"]]
    assert errors["line"].isna().all()


def test_validate_frames_accepts_read_tables_output_and_finds_faults():
    frames = read_tables(EXAMPLE)
    assert validate_frames(frames, as_of=AS_OF).ok
    frames["workers"].loc[2, "employment_type"] = "contractor"
    report = validate_frames(frames, as_of=AS_OF)
    assert report.errors[["table", "row", "column", "rule"]].values.tolist() == [["workers", 3, "employment_type", "allowed"]]


def test_report_json_round_trips_and_raises_for_errors(tmp_path):
    data, _ = build_case("fk_missing_team", tmp_path)
    report = validate_dir(data, as_of=AS_OF)
    payload = json.loads(report.to_json())
    assert payload["ok"] is False and payload["n_errors"] == 1
    assert payload["failures"][0]["value"] == "T99" and payload["failures"][0]["row"] == 6
    assert report.summary().to_dict("records") == [{"table": "workers", "rule": "foreign_key", "severity": "error", "count": 1}]
    with pytest.raises(DataValidationError) as err:
        report.raise_for_errors()
    assert err.value.report is report and "NOT valid" in str(err.value)


def test_max_errors_truncates_the_list_but_says_so(tmp_path):
    data = tmp_path / "late"
    shutil.copytree(EXAMPLE, data)
    report = validate_dir(data, as_of="2024-06-01", max_errors=5)
    assert len(report.failures) == 5 and report.truncated and not report.ok
    # The cut shortens the listing only: counts, totals and the headline cover everything found.
    full = validate_dir(data, as_of="2024-06-01")
    assert len(full.failures) > 5 and report.totals() == full.totals()
    pd.testing.assert_frame_equal(report.summary(), full.summary())
    assert f"{full.totals()[0]} error(s)" in report.headline() and "first 5 listed" in report.headline()
    assert report.to_dict()["n_errors"] == full.totals()[0] and report.to_dict()["n_listed"] == 5


def test_missing_folder_raises():
    with pytest.raises(FileNotFoundError):
        validate_dir(ROOT / "no-such-folder")


def test_pandera_schema_is_built_from_the_declarations():
    schema = build_pandera_schema(load_schemas()["caseload_history"], as_of=pd.Timestamp(AS_OF))
    assert schema.unique == ["worker_id", "month"]
    errors = {c.error for c in schema.columns["month"].checks} | {c.error for c in schema.columns["open_cases"].checks}
    assert errors == {"not_after_as_of", "min", "max"}
    assert not schema.columns["open_cases"].nullable


def test_stray_and_doubled_files_are_warnings(tmp_path):
    data = tmp_path / "extra"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    (data / "staff_list.csv").write_text("a\n1\n", encoding="utf-8")
    write_table(read_tables(EXAMPLE, ["teams"])["teams"], data / "teams.parquet")
    report = validate_dir(data, as_of=AS_OF)
    assert report.ok
    assert sorted(report.warnings[["file", "rule"]].values.tolist()) == [["staff_list.csv", "unknown_file"], ["teams.csv", "duplicate_file"]]


def test_read_validated_returns_typed_tables_or_raises(tmp_path):
    frames = read_validated(EXAMPLE, as_of=AS_OF)
    assert frames["workers"]["start_date"].dtype == "datetime64[ns]"
    data, _ = build_case("end_before_start", tmp_path)
    with pytest.raises(DataValidationError) as err:
        read_validated(data, as_of=AS_OF)
    assert err.value.report.errors["rule"].tolist() == ["row_check"]


def test_corrupt_parquet_is_reported_not_raised(tmp_path):
    data = tmp_path / "pq"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md", "teams.csv"))
    (data / "teams.parquet").write_bytes(b"PAR1 this is not parquet")
    errors = validate_dir(data, as_of=AS_OF).errors
    assert errors[["file", "rule"]].values.tolist() == [["teams.parquet", "parquet_format"]]


def _example_copy(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return data


def _edit(data: Path, table: str, cells: dict) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    for (row, column), value in cells.items():
        frame.loc[row, column] = value
    frame.to_csv(data / f"{table}.csv", index=False)


def test_out_of_range_dates_and_huge_integers_are_error_records_not_crashes(tmp_path):
    # 9999-12-31 / 0001-01-01 / 2262-04-12 overflowed datetime64[ns] and 1e20 the Int64 cast: validation raised.
    data = _example_copy(tmp_path)
    _edit(data, "workers", {(0, "end_date"): "9999-12-31", (1, "start_date"): "0001-01-01", (2, "qualified_date"): "2262-04-12"})
    _edit(data, "caseload_history", {(3, "open_cases"): "1e20", (4, "open_cases"): "twelve"})
    report = validate_dir(data)
    got = report.errors[["file", "row", "column", "rule"]].values.tolist()
    assert got == [
        ["caseload_history.csv", 4, "open_cases", "type"],
        ["caseload_history.csv", 5, "open_cases", "type"],
        ["workers.csv", 1, "end_date", "date_range"],
        ["workers.csv", 2, "start_date", "date_range"],
        ["workers.csv", 3, "qualified_date", "date_range"],
    ]
    assert "end_date is '9999-12-31'; must be a date from 1900-01-01 to 2100-12-31" in report.errors["message"].iloc[2]
    with pytest.raises(DataValidationError) as caught:
        read_validated(data)
    assert len(caught.value.report.errors) == 5


def test_out_of_range_dates_in_parquet_are_reported(tmp_path):
    data = _example_copy(tmp_path)
    workers = read_tables(data, ["workers"])["workers"]
    workers["end_date"] = workers["end_date"].astype("datetime64[us]")
    workers.loc[0, "end_date"] = pd.Timestamp("9999-12-31")
    workers.to_parquet(data / "workers.parquet", index=False)
    (data / "workers.csv").unlink()
    report = validate_dir(data)
    assert report.errors[["file", "row", "column", "rule", "value"]].values.tolist() == [["workers.parquet", 1, "end_date", "date_range", "9999-12-31"]]


def test_every_ragged_line_is_reported_not_only_the_first(tmp_path):
    data = _example_copy(tmp_path)
    _edit(data, "caseload_history", {(20, "open_cases"): "-3"})  # data record 21, file line 22
    lines = (data / "caseload_history.csv").read_text(encoding="utf-8").split("\n")
    for k in (5, 9, 30):  # file lines 6, 10, 31
        lines[k] += ",extra,stuff"
    (data / "caseload_history.csv").write_text("\n".join(lines), encoding="utf-8")
    errors = validate_dir(data).errors
    got = errors[["file", "row", "line", "rule"]].astype(object).where(errors[["file", "row", "line", "rule"]].notna(), None)
    assert got.values.tolist() == [["caseload_history.csv", None, n, "csv_format"] for n in (6, 10, 31)] + [
        ["caseload_history.csv", 21, 22, "min"]]  # the other rows are still checked, numbered as in the file
    assert "caseload_history.csv line 10 has" in errors["message"].iloc[1]
    assert errors["message"].iloc[3] == "caseload_history row 21: open_cases is -3; must be 0 or more"


def test_ragged_parent_rows_do_not_make_false_foreign_key_errors(tmp_path):
    data = _example_copy(tmp_path)
    lines = (data / "workers.csv").read_text(encoding="utf-8").split("\n")
    lines[3] += ",extra"
    (data / "workers.csv").write_text("\n".join(lines), encoding="utf-8")
    errors = validate_dir(data).errors
    assert errors[["file", "line", "rule"]].values.tolist() == [["workers.csv", 4, "csv_format"]]


def test_an_unreadable_file_is_a_record_and_the_other_tables_are_still_checked(tmp_path, monkeypatch):
    data = _example_copy(tmp_path)
    (data / "workers.csv").unlink()
    (data / "workers.csv").mkdir()  # a folder named like a table
    _edit(data, "teams", {(0, "caseload_cap"): "-1"})
    real = Path.read_bytes

    def deny(self):
        if self.name == "absence.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)  # chmod 000 does not stop root, so deny through the reader
    report = validate_dir(data)
    got = report.errors[["file", "row", "column", "rule"]].astype(object).where(report.errors[["file", "row", "column", "rule"]].notna(), None)
    assert sorted(map(tuple, got.values.tolist()), key=str) == sorted(
        [("absence.csv", None, None, "unreadable"), ("workers.csv", None, None, "unreadable"), ("teams.csv", 1, "caseload_cap", "min")], key=str)
    assert "absence.csv cannot be read: Permission denied" in report.errors["message"].tolist()


def test_line_is_given_only_when_it_is_the_true_file_line(tmp_path):
    # A blank line or a line break inside a quoted value shifts the file's lines against its rows.
    data = _example_copy(tmp_path)
    _edit(data, "caseload_history", {(9, "open_cases"): "-5"})
    _edit(data, "exit_interviews", {(1, "comment"): "line one\nline two", (3, "primary_reason"): "money"})
    lines = (data / "caseload_history.csv").read_text(encoding="utf-8").split("\n")
    (data / "caseload_history.csv").write_text("\n".join(lines[:3] + ["", ""] + lines[3:]), encoding="utf-8")
    errors = validate_dir(data).errors.set_index("file")
    assert errors.loc["caseload_history.csv", "row"] == 10 and pd.isna(errors.loc["caseload_history.csv", "line"])
    assert errors.loc["exit_interviews.csv", "row"] == 4 and pd.isna(errors.loc["exit_interviews.csv", "line"])
    clean = _example_copy(tmp_path / "clean")
    _edit(clean, "caseload_history", {(9, "open_cases"): "-5"})
    rec = validate_dir(clean).errors.iloc[0]
    assert (rec["row"], rec["line"]) == (10, 11)


def test_semicolon_file_and_excel_file_get_a_hint(tmp_path):
    data = _example_copy(tmp_path)
    teams = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    teams.to_csv(data / "teams.csv", index=False, sep=";")
    (data / "workers.csv").rename(data / "workers.xls")   # Excel 97-2003 (.xlsx is read)
    errors = validate_dir(data).errors.set_index("file")
    assert errors.loc["teams.csv", "rule"] == "csv_format"
    assert "teams.csv looks ';'-separated" in errors.loc["teams.csv", "message"]
    assert errors.loc["workers.csv", "rule"] == "missing_table"
    assert ("found workers.xls, but only workers.csv (UTF-8, comma-separated), workers.xlsx (Excel workbook) or "
            "workers.parquet are read") in errors.loc["workers.csv", "message"]


def test_a_line_with_too_few_fields_is_a_format_error_not_missing_values(tmp_path):
    # pandas pads a short row with missing values silently: a ';' line in a ',' file read as four empty columns.
    data = _example_copy(tmp_path)
    _edit(data, "caseload_history", {(20, "open_cases"): "-3"})  # data record 21, file line 22
    lines = (data / "caseload_history.csv").read_text(encoding="utf-8").split("\n")
    lines[11] = ",".join(lines[11].split(",")[:5])  # file line 12 cut short
    lines[24] = lines[24].replace(",", ";")  # file line 25, one field
    lines[29] += ",extra"  # file line 30, one field too many
    (data / "caseload_history.csv").write_text("\n".join(lines), encoding="utf-8")
    errors = validate_dir(data).errors
    got = errors[["file", "row", "line", "rule"]].astype(object).where(errors[["file", "row", "line", "rule"]].notna(), None)
    assert got.values.tolist() == [["caseload_history.csv", None, n, "csv_format"] for n in (12, 25, 30)] + [
        ["caseload_history.csv", 21, 22, "min"]]
    assert errors["message"].iloc[0] == ("caseload_history.csv line 12 has 5 fields but the header has 7; "
                                         "check for a missing comma or a row split over two lines")
    assert errors["message"].iloc[1].startswith("caseload_history.csv line 25 has 1 fields but the header has 7")
    assert errors["message"].iloc[2].endswith("has 8 fields but the header has 7; check for an unquoted comma")


def test_commas_and_quotes_inside_quoted_values_are_not_counted_as_fields(tmp_path):
    data = _example_copy(tmp_path)
    _edit(data, "exit_interviews", {(0, "comment"): 'Caseload, travel and "no time", mostly', (1, "comment"): ""})
    assert '"Caseload, travel and ""no time"", mostly"' in (data / "exit_interviews.csv").read_text(encoding="utf-8")
    assert validate_dir(data).errors.empty
    # A short line is still found when its quoted value holds commas (4 fields, not 6).
    with open(data / "exit_interviews.csv", "a", encoding="utf-8") as fh:
        fh.write('W006,2024-12-18,pay,"Money, travel, hours"\n')
    errors = validate_dir(data).errors
    assert errors[["line", "rule"]].values.tolist() == [[6, "csv_format"]]
    assert errors["message"].iloc[0].startswith("exit_interviews.csv line 6 has 4 fields but the header has 5")


def test_a_councils_own_pay_bands_need_a_pay_bands_table(tmp_path):
    # PO1..PO7 have no rank on the default ladder: pay_band_rank would be empty for everyone, so it is an error.
    data = _example_copy(tmp_path)
    (data / "pay_bands.csv").unlink()
    pay = pd.read_csv(data / "pay_history.csv", dtype=str, keep_default_na=False)
    pay["pay_band"] = pay["pay_band"].replace({"SW1": "PO1", "TM": "PO7"})
    pay.to_csv(data / "pay_history.csv", index=False)
    errors = validate_dir(data).errors
    assert set(errors["rule"]) == {"foreign_key"} and set(errors["column"]) == {"pay_band"}
    assert len(errors) == int(pay["pay_band"].isin(["PO1", "PO7"]).sum())
    assert errors["message"].str.contains(
        "pay_band is 'PO1'; no such pay_band in pay_bands (pay_bands.csv is not given, so its default applies: "
        "PA, SW1, SW2, SW3, SP, AP, TM, AGENCY); add pay_bands.csv", regex=False).any()
    pd.DataFrame({"pay_band": ["PA", "PO1", "SP", "AP", "PO7", "AGENCY"], "rank": ["1", "2", "5", "6", "7", ""]}).to_csv(
        data / "pay_bands.csv", index=False)
    assert validate_dir(data).ok
    assert read_tables(data)["pay_bands"]["rank"].tolist()[:2] == [1, 2]
