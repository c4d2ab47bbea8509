"""Tables given as Excel workbooks (DIR/<table>.xlsx): read as the analyst typed them, validated exactly as their
CSV twin (same problems, same row and line numbers), and typed to the same tables."""

import importlib.util
import json
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from retention_ml.io import read_tables
from retention_ml.schema import load_schemas
from retention_ml.validation import read_validated, read_validated_readings, validate_dir

_spec = importlib.util.spec_from_file_location("workbook_files", Path(__file__).with_name("workbook_files.py"))
_workbooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_workbooks)
as_workbooks = _workbooks.as_workbooks


def _edit(data: Path, table: str, edit) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(data / f"{table}.csv", index=False)


def test_a_folder_as_workbooks_reads_as_the_same_tables(tmp_path, example_copy):
    csv = example_copy(tmp_path, "csv")
    xlsx = as_workbooks(csv, tmp_path / "xlsx")
    assert validate_dir(xlsx).failures.empty
    expected = read_tables(csv)
    for name, frame in read_tables(xlsx).items():
        pd.testing.assert_frame_equal(frame, expected[name])
    for name, frame in read_validated(xlsx).items():
        pd.testing.assert_frame_equal(frame, expected[name])


def _comparable(failures: pd.DataFrame) -> pd.DataFrame:
    out = failures.copy()
    out["file"] = out["file"].str.replace(".xlsx", ".csv", regex=False)
    out["message"] = out["message"].str.replace(".xlsx", ".csv", regex=False).str.replace(r" \(Excel row [\d,]+\):", ":", regex=True)
    return out.sort_values(["severity", "table", "row", "column", "rule"], ignore_index=True)


def test_a_workbook_twin_has_the_same_problems_with_the_same_rows_and_lines(tmp_path, example_copy):
    csv = example_copy(tmp_path, "csv")

    def workers(f):
        f.loc[2, "start_date"] = "2021-02-30"          # no such day
        f.loc[4, "employment_type"] = "Fixed Term"     # a label read as its code (warning)
        f.loc[5, "employment_type"] = "perm"           # no code
        f.loc[6, "team_id"] = "T99"                    # no such team
        f.loc[7, "fte"] = "full"                       # not a number

    def pay(f):
        f.loc[3, "annual_salary"] = ""                 # required
        f.loc[8, "effective_date"] = "soon"

    _edit(csv, "workers", workers)
    _edit(csv, "pay_history", pay)
    csv_headers = {"teams": {"team_id": "Team ID"}}
    frame = pd.read_csv(csv / "teams.csv", dtype=str, keep_default_na=False).rename(columns=csv_headers["teams"])
    frame.to_csv(csv / "teams.csv", index=False)
    expected = validate_dir(csv).failures
    assert {"type", "allowed", "foreign_key", "not_null", "code_spelling", "column_name"} <= set(expected["rule"])
    assert expected["line"].notna().any()
    got = validate_dir(as_workbooks(csv, tmp_path / "xlsx")).failures
    assert set(got["file"]) <= {f"{t}.xlsx" for t in load_schemas()}
    # the row an analyst sees at the sheet's edge is named too: data row 3 is Excel row 4
    start = got[(got["rule"] == "type") & (got["column"] == "start_date")]
    assert start["message"].iat[0].startswith("workers row 3 (Excel row 4): start_date is '2021-02-30'")
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected))


def _one_sheet(path: Path, rows: list[list], title: str = "Sheet1") -> Path:
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _teams_rows(data: Path) -> list[list]:
    frame = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    return [list(frame.columns)] + frame.replace("", None).values.tolist()


def test_text_cells_keep_leading_zeros_and_a_date_cell_in_an_id_column_names_the_cell(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    rows[1][0] = "007"                        # a text cell: the id as typed
    rows[3][0] = datetime(2024, 3, 1)         # Excel turned '1-3' (or 'Mar-24') into a date
    _one_sheet(data / "teams.xlsx", rows)
    report = validate_dir(data)
    cell = report.errors[report.errors["rule"] == "xlsx_cell"]
    assert cell[["file", "row", "line", "column", "value"]].values.tolist() == [["teams.xlsx", 3, 4, "team_id", "A4"]]
    assert "teams.xlsx cell A4 (column team_id) is an Excel date (2024-03-01)" in cell["message"].iat[0]
    (data / "teams.xlsx").unlink()
    rows[3][0] = rows[2][0] + "b"
    _one_sheet(data / "teams.xlsx", rows)
    assert read_tables(data)["teams"]["team_id"].iat[0] == "007"


def _with_cached_value(path: Path, cell: str, value: str | None) -> None:
    """Save the formula in ``cell`` with ``value`` as Excel's cached result (None: without one, as openpyxl saves it)."""
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    text = parts[sheet].decode("utf-8")
    found = re.search(rf'<c r="{cell}"[^>]*>(<f>.*?</f>)<v\s*/>', text)
    assert found, text[:400]
    cached = f"<v>{value}</v>" if value is not None else "<v />"
    parts[sheet] = text.replace(found.group(0), found.group(0).replace("<v />", cached).replace("<v/>", cached)).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_formulas_are_read_by_their_saved_value_and_one_without_a_value_names_the_cell(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    cap = rows[0].index("caseload_cap")
    wanted = rows[2][cap]
    rows[2][cap] = f"={wanted}+0"
    rows[3][cap] = "=18+0"
    path = _one_sheet(data / "teams.xlsx", rows)
    cap_cell = openpyxl.utils.get_column_letter(cap + 1)
    _with_cached_value(path, f"{cap_cell}3", wanted)
    report = validate_dir(data)
    problem = report.errors[report.errors["rule"] == "xlsx_formula"]
    assert problem[["file", "row", "line", "column", "value"]].values.tolist() == [["teams.xlsx", 3, 4, "caseload_cap", f"{cap_cell}4"]]
    assert "(=18+0) saved without its value" in problem["message"].iat[0]
    # one record for the cell: not also "caseload_cap is empty; a value is required"
    assert report.errors[report.errors["table"] == "teams"]["rule"].tolist() == ["xlsx_formula"]
    assert not report.errors["row"].eq(2).any()   # the formula with a saved value is read as that value
    with pytest.raises(ValueError, match=f"cell {cap_cell}4"):
        read_tables(data)


def _digit_team_ids(data: Path) -> None:
    """The example's team ids as a council whose ids are digits with leading zeros ('T01' -> '00001')."""
    for path in data.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "team_id" in frame:
            frame["team_id"] = frame["team_id"].str.replace("T", "000", regex=False)
            frame.to_csv(path, index=False)


def _teams_with_number_ids(data: Path, formats: dict[int, str], values: dict[int, float] | None = None) -> Path:
    """teams.xlsx with each team id a number cell (Excel row -> number format; ``values``: Excel row -> number)."""
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    for r in range(1, len(rows)):
        rows[r][0] = int(rows[r][0])
    path = _one_sheet(data / "teams.xlsx", rows)
    book = openpyxl.load_workbook(path)
    for excel_row, fmt in formats.items():
        book.active.cell(excel_row, 1).number_format = fmt
        if values and excel_row in values:
            book.active.cell(excel_row, 1).value = values[excel_row]
    book.save(path)
    return path


def test_a_number_id_formatted_with_zeros_is_read_as_excel_shows_it_and_the_reading_is_recorded(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    _digit_team_ids(data)
    expected = read_tables(data)
    _teams_with_number_ids(data, {2: "00000", 3: "00000", 4: "00000"})   # Excel shows 00001; the cell holds 1
    tables, readings = read_validated_readings(data)
    for name, frame in read_tables(data).items():
        pd.testing.assert_frame_equal(frame, expected[name])
        pd.testing.assert_frame_equal(tables[name], expected[name])
    assert tables["teams"]["team_id"].tolist()[:2] == ["00001", "00002"]
    assert list(readings) == ["teams.xlsx"]
    [reading] = readings["teams.xlsx"]
    assert (reading["rule"], reading["column"], reading["value"]) == ("leading_zeros", "team_id", "A2")
    assert "3 number cell(s) of column team_id shown with leading zeros by a number format of zeros ('00000')" in reading["message"]
    assert "(A2: 1 as '00001')" in reading["message"]


def test_a_number_id_excel_shows_as_other_text_is_an_error_naming_the_cell(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    _digit_team_ids(data)
    # row 2: shown as T0001 (literal text in the format); row 3: 2.6 shown rounded as 00003; row 4 shown as 00003
    _teams_with_number_ids(data, {2: '"T"0000', 3: "00000", 4: "00000"}, values={3: 2.6})
    report = validate_dir(data)
    teams = report.errors[report.errors["table"] == "teams"]
    assert teams[["rule", "row", "line", "column", "value"]].values.tolist() == [
        ["xlsx_cell", 1, 2, "team_id", "A2"], ["xlsx_cell", 2, 3, "team_id", "A3"]]
    assert "teams.xlsx cell A2 (column team_id) holds the number 1 with the number format '\"T\"0000'" in teams["message"].iat[0]
    assert "holds the number 2.6 with the number format '00000', which shows it rounded" in teams["message"].iat[1]
    # a number column's format only displays the number: caseload_cap 018 is 18, and no problem
    assert not report.failures["column"].eq("caseload_cap").any()


def test_several_sheets_are_refused_naming_them_unless_one_is_named_after_the_table(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    book = openpyxl.Workbook()
    book.active.title = "Export 2025-07"
    for row in rows:
        book.active.append(row)
    book.create_sheet("Notes").append(["pulled by HR on 1 July"])
    book.create_sheet("Empty")
    book.save(data / "teams.xlsx")
    errors = validate_dir(data).errors
    sheet = errors[errors["rule"] == "xlsx_format"]
    assert sheet["file"].tolist() == ["teams.xlsx"]
    assert "2 sheets holding values ('Export 2025-07', 'Notes') and none named teams" in sheet["message"].iat[0]
    book["Notes"].sheet_state = "hidden"           # not among the tabs the analyst sees: say so, and how to find it
    book.save(data / "teams.xlsx")
    message = validate_dir(data).errors.query("rule == 'xlsx_format'")["message"].iat[0]
    assert "('Export 2025-07', 'Notes' (hidden))" in message and "right-click any sheet tab > Unhide" in message
    book["Export 2025-07"].title = "Teams"
    book.save(data / "teams.xlsx")
    assert validate_dir(data).ok
    assert len(read_tables(data)["teams"]) == len(rows) - 1


def test_a_table_given_as_a_workbook_and_as_csv_is_refused_naming_both(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    as_workbooks(data, tmp_path / "xlsx")
    shutil.copy(tmp_path / "xlsx" / "teams.xlsx", data / "teams.xlsx")
    errors = validate_dir(data).errors
    both = errors[errors["rule"] == "duplicate_file"]
    assert both["file"].tolist() == ["teams.csv and teams.xlsx"]
    assert "teams is given as teams.csv and teams.xlsx" in both["message"].iat[0]
    with pytest.raises(ValueError, match="teams.csv and teams.xlsx"):
        read_tables(data)


def test_an_unreadable_workbook_is_an_error_naming_the_file(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    (data / "teams.csv").unlink()
    (data / "teams.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 a password-protected workbook is an OLE file")
    errors = validate_dir(data).errors
    assert errors.loc[errors["rule"] == "xlsx_format", "file"].tolist() == ["teams.xlsx"]


def test_a_runs_data_fingerprint_covers_the_workbooks(tmp_path, example_copy):
    from retention_ml.training import data_fingerprint

    xlsx = as_workbooks(example_copy(tmp_path, "csv"), tmp_path / "xlsx")
    before = data_fingerprint(xlsx)
    book = openpyxl.load_workbook(xlsx / "teams.xlsx")
    book.active["B2"] = "changed"
    book.save(xlsx / "teams.xlsx")
    assert data_fingerprint(xlsx) != before


# --------------------------------------------------------------------------- training and scoring on workbooks


@pytest.fixture(scope="module")
def sim_workbooks(sim_dir, tmp_path_factory):
    """``sim_dir`` as workbooks, with workers' headers as an HR export writes them (a reading: column_name)."""
    return as_workbooks(sim_dir, tmp_path_factory.mktemp("sim_xlsx") / "data",
                        headers={"workers": {"worker_id": "Worker ID", "start_date": "Start Date"}})


def test_training_on_workbooks_gives_the_same_model_and_records_what_was_read_another_way(
        sim_model, sim_workbooks, tmp_path, train_in_store, scratch_store):
    from retention_ml import artifacts, tracking
    from retention_ml.commands.demo import EXPERIMENT

    csv_result, _ = sim_model
    fast = ["evaluation.n_boot=20", "model.n_bootstrap=4", "evaluation.explain=false"]   # conftest's SIM_MODEL_OVERRIDES
    run = train_in_store(tmp_path, EXPERIMENT, [f"data.path={sim_workbooks}", *fast], simulated=True)
    assert run.result.metrics["models"] == csv_result.metrics["models"]
    pd.testing.assert_frame_equal(run.result.predictions, csv_result.predictions)
    with scratch_store(run.root):
        readings = tracking.load_json_artifact(run.result.run_id, artifacts.DATA_READINGS)
    assert list(readings) == ["workers.xlsx"]
    assert [r["rule"] for r in readings["workers.xlsx"]] == ["column_name"]
    assert "'Worker ID' as worker_id" in readings["workers.xlsx"][0]["message"]
    # the CSV run read every value as written: its record says so, rather than saying nothing
    assert tracking.load_json_artifact(csv_result.run_id, artifacts.DATA_READINGS) == {}


def test_scoring_workbooks_gives_the_same_scores_and_records_what_was_read_another_way(sim_model, sim_dir,
                                                                                      sim_workbooks, tmp_path):
    from retention_ml.artifacts import DATA_READINGS_KEY
    from retention_ml.scoring import score

    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    from_csv = score(ref, sim_dir, "2022-07-01", tmp_path / "csv", find_previous_scoring=False)
    from_xlsx = score(ref, sim_workbooks, "2022-07-01", tmp_path / "xlsx", find_previous_scoring=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "xlsx" / "scores.parquet"),
                                  pd.read_parquet(tmp_path / "csv" / "scores.parquet"))
    assert (tmp_path / "xlsx" / "scores.csv").read_bytes() == (tmp_path / "csv" / "scores.csv").read_bytes()
    meta = json.loads((tmp_path / "xlsx" / "score_meta.json").read_text())
    assert [r["column"] for r in meta[DATA_READINGS_KEY]["workers.xlsx"]] == ["worker_id, start_date"]
    assert from_csv.meta[DATA_READINGS_KEY] == {} and from_xlsx.meta[DATA_READINGS_KEY] == meta[DATA_READINGS_KEY]


def test_a_title_above_the_header_is_one_error_naming_the_header_row(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    _one_sheet(data / "teams.xlsx", [["Teams extract run 01/07/2025"], [], *rows])
    # and the owner file Excel keeps beside a workbook open in it is no table, and no unknown file either
    shutil.copy(data / "teams.xlsx", data / "~$teams.xlsx")
    report = validate_dir(data)
    teams = report.failures[report.failures["file"].str.contains("teams")]
    assert teams[["file", "rule", "line"]].values.tolist() == [["teams.xlsx", "xlsx_format", 1]]
    assert "the header is on Excel row 3, not row 1: delete the 2 row(s) above it" in teams["message"].iat[0]


def test_a_cell_formatted_in_excels_last_column_does_not_make_every_row_that_wide(tmp_path, example_copy):
    import tracemalloc

    from retention_ml.io import read_workbook

    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    rows += [[f"X{i:04d}", *rows[1][1:]] for i in range(300)]
    path = _one_sheet(tmp_path / "teams.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book.active.cell(1, 16384).number_format = "@"   # XFD1: the sheet now declares itself 16,384 columns wide
    book.save(path)
    tracemalloc.start()
    try:
        read = read_workbook(path, "teams", load_schemas()["teams"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read.frame.shape == (len(rows) - 1, len(rows[0]))
    # 300 rows of 16,384 cells would be 39 MB of references alone; the rows as they hold values are well under 1 MB
    assert peak < 20e6, f"{peak / 1e6:.0f} MB traced"


def test_a_date_column_showing_excels_day_numbers_names_the_date_each_one_is(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    frame = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    first = frame["start_date"].iat[0]
    days = (pd.to_datetime(frame["start_date"]) - pd.Timestamp("1899-12-30")).dt.days
    frame["start_date"] = days.astype(str)                  # a CSV exported from the column formatted as Text
    frame.to_csv(data / "workers.csv", index=False)
    from_csv = validate_dir(data).errors
    xlsx = as_workbooks(data, tmp_path / "xlsx")            # and number cells in the workbook (General)
    book = openpyxl.load_workbook(xlsx / "workers.xlsx")
    column = list(frame.columns).index("start_date") + 1
    for row in range(2, len(frame) + 2):
        book.active.cell(row, column).value = int(book.active.cell(row, column).value)
    book.save(xlsx / "workers.xlsx")
    for errors in (from_csv, validate_dir(xlsx).errors):
        start = errors[errors["column"] == "start_date"]
        assert start["rule"].tolist() == ["type"] * len(frame)
        assert f"{days.iat[0]} is how Excel stores the date {first} (a day number" in start["message"].iat[0]


def test_merged_cells_are_one_error_in_the_header_and_one_per_empty_cell_below_it(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    path = _one_sheet(data / "teams.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book.active.merge_cells("A1:B1")             # 'team_id' shown over team_id and council_id
    book.save(path)
    teams = validate_dir(data).failures.query("file == 'teams.xlsx'")
    assert teams[["rule", "line", "value"]].values.tolist() == [["xlsx_format", 1, "A1:B1"]]
    assert "header cells A1:B1 are merged" in teams["message"].iat[0]
    with pytest.raises(ValueError, match="header cells A1:B1 are merged"):
        read_tables(data)
    book.active.unmerge_cells("A1:B1")
    book.active["B1"] = "council_id"
    book.active.merge_cells("B2:B4")             # one council shown down three teams' rows
    book.save(path)
    teams = validate_dir(data).failures.query("file == 'teams.xlsx'")
    assert teams[["rule", "row", "column", "value"]].values.tolist() == [
        ["xlsx_cell", 2, "council_id", "B3"], ["xlsx_cell", 3, "council_id", "B4"]]
    assert "cell B3 (column council_id) is part of the merged cells B2:B4: Excel shows B2's value" in teams["message"].iat[0]


def test_a_totals_row_under_the_data_is_one_error_naming_its_row(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    cap = rows[0].index("caseload_cap")
    totals = [None] * len(rows[0])
    totals[0], totals[cap] = "Total", sum(int(r[cap]) for r in rows[1:])   # a table's Total Row, as Excel saves it
    _one_sheet(data / "teams.xlsx", [*rows, totals])
    report = validate_dir(data)
    teams = report.failures.query("file == 'teams.xlsx'")
    assert teams[["rule", "row", "line", "value"]].values.tolist() == [["xlsx_format", len(rows), len(rows) + 1, f"A{len(rows) + 1}"]]
    assert f"teams.xlsx Excel row {len(rows) + 1} is a totals row ('Total' in A{len(rows) + 1})" in teams["message"].iat[0]
    assert report.tables["teams"] == len(rows) - 1


def test_a_cell_showing_an_excel_error_is_one_error_naming_the_cell_not_a_value(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    rows = _teams_rows(data)
    (data / "teams.csv").unlink()
    council = rows[0].index("council_id")
    rows[2][council] = "#N/A"          # a lookup with no match: read as text it would be one more council
    path = _one_sheet(data / "teams.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book.active.cell(3, council + 1).data_type = "e"   # an error cell, as Excel saves a failed formula's value
    book.save(path)
    report = validate_dir(data)
    teams = report.failures.query("file == 'teams.xlsx'")
    cell = f"{openpyxl.utils.get_column_letter(council + 1)}3"
    assert teams[["rule", "row", "column", "value"]].values.tolist() == [["xlsx_cell", 2, "council_id", cell]]
    assert f"cell {cell} (column council_id) shows Excel's error #N/A (a formula that failed: usually a lookup found no match)" in teams["message"].iat[0]


@pytest.mark.parametrize("suffix, kind", [(".xls", "the older Excel format"), (".xlsm", "a macro-enabled workbook")])
def test_a_workbook_saved_in_another_excel_format_says_how_to_save_it_as_xlsx(tmp_path, example_copy, suffix, kind):
    data = example_copy(tmp_path, "csv")
    as_workbooks(data, tmp_path / "xlsx")
    (data / "teams.csv").unlink()
    shutil.copy(tmp_path / "xlsx" / "teams.xlsx", data / f"teams{suffix}")
    missing = validate_dir(data).errors.query("rule == 'missing_table'")
    assert missing["table"].tolist() == ["teams"]
    assert (f"teams{suffix} is {kind}" in missing["message"].iat[0]
            and "File > Save As > 'Excel Workbook (*.xlsx)' as teams.xlsx" in missing["message"].iat[0])


def _as_sheet(data: Path, table: str) -> tuple[Path, pd.DataFrame]:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    (data / f"{table}.csv").unlink()
    rows = [list(frame.columns)] + frame.replace("", None).values.tolist()
    return _one_sheet(data / f"{table}.xlsx", rows, title=table), frame


def test_rows_hidden_by_a_filter_are_read_with_one_warning_naming_them_kept_with_the_readings(tmp_path, example_copy):
    """An analyst filters the sheet to one worker and saves: the other rows are hidden, not gone. They are read (the
    file is the data), and one warning per sheet names the hidden Excel rows, kept in the run's data_readings."""
    data = example_copy(tmp_path, "csv")
    expected = read_tables(data)
    path, frame = _as_sheet(data, "caseload_history")
    shown = frame["worker_id"].iat[0]
    hidden = [i + 2 for i, w in enumerate(frame["worker_id"]) if w != shown]
    book = openpyxl.load_workbook(path)
    ws = book.active
    ws.auto_filter.ref = ws.dimensions
    ws.auto_filter.add_filter_column(frame.columns.get_loc("worker_id"), [shown])
    for r in [*hidden, len(frame) + 5]:   # and an empty row below the data, hidden: nothing to say about it
        ws.row_dimensions[r].hidden = True
    book.save(path)
    tables, readings = read_validated_readings(data)
    pd.testing.assert_frame_equal(tables["caseload_history"], expected["caseload_history"])   # every row read
    [reading] = readings["caseload_history.xlsx"]
    assert reading["rule"] == "hidden_rows" and len(hidden) > 10
    message = reading["message"]
    assert message.startswith(f"caseload_history.xlsx sheet caseload_history: {len(hidden)} data row(s) hidden in "
                              "Excel by the sheet's filter or by hand were read like every other row")
    assert f"Excel row(s) {', '.join(map(str, hidden[:10]))} and {len(hidden) - 10} more:" in message


def test_columns_hidden_in_excel_are_read_with_one_warning_naming_those_read(tmp_path, example_copy):
    """An analyst hides the protected characteristics' columns before sharing the sheet: they are read all the same
    (the file is the data; the fairness audit needs them), and one warning names the hidden columns that are read.
    A hidden column no schema reads says nothing."""
    data = example_copy(tmp_path, "csv")
    expected = read_tables(data)
    path, frame = _as_sheet(data, "workers")
    book = openpyxl.load_workbook(path)
    ws = book.active
    ws.cell(row=1, column=len(frame.columns) + 1, value="notes")   # not in the schema: not read
    letters = {name: openpyxl.utils.get_column_letter(i + 1) for i, name in enumerate([*frame.columns, "notes"])}
    for name in ("sex", "age_band", "notes"):
        ws.column_dimensions[letters[name]].hidden = True
    book.save(path)
    tables, readings = read_validated_readings(data)
    pd.testing.assert_frame_equal(tables["workers"][expected["workers"].columns], expected["workers"])   # read as before
    [reading] = readings["workers.xlsx"]
    assert reading["rule"] == "hidden_columns"
    assert reading["message"].startswith(
        f"workers.xlsx sheet workers: 2 column(s) hidden in Excel were read like every other column: "
        f"sex (Excel column {letters['sex']}), age_band (Excel column {letters['age_band']}); hiding a column does not "
        "leave it out of the file.")


def test_a_row_hidden_by_hand_is_named_once_as_a_warning(tmp_path, example_copy):
    data = example_copy(tmp_path, "csv")
    path, _ = _as_sheet(data, "teams")
    book = openpyxl.load_workbook(path)
    book.active.row_dimensions[3].hidden = True
    book.save(path)
    report = validate_dir(data)
    assert report.errors.empty
    found = report.warnings[report.warnings["rule"] == "hidden_rows"]
    assert found["message"].tolist() == [
        "teams.xlsx sheet teams: 1 data row(s) hidden in Excel by hand or in a collapsed group (no filter is set) were read like every other "
        "row, Excel row(s) 3: hiding or filtering a row does not leave it out of the file. If they should not be read, "
        "delete them (select the rows > right-click > Delete) and save; otherwise show them (Data > Clear, or select "
        "all > right-click a row number > Unhide) to make this warning go away"]
