"""A council's first real extract: what Excel and HR systems do to a file that is still unambiguous is read,
and said; what is ambiguous stays an error naming the fix."""

from pathlib import Path

import pandas as pd
import pytest

from retention_ml.io import read_tables
from retention_ml.validation import DataValidationError, read_validated, validate_dir


def _set_header(data: Path, table: str, header: list[str]) -> None:
    path = data / f"{table}.csv"
    _, _, rest = path.read_text(encoding="utf-8").partition("\n")
    path.write_text(",".join(header) + "\n" + rest, encoding="utf-8")


def _reads_as(clean: Path, exported: Path, tables) -> None:
    """Both readers (validated and plain) give ``exported``'s ``tables`` exactly as they give the clean twin's."""
    for name in tables:
        expected = read_tables(clean)[name]
        pd.testing.assert_frame_equal(read_validated(exported)[name], expected)
        pd.testing.assert_frame_equal(read_tables(exported)[name], expected)


def test_headers_in_another_case_or_padded_are_read_as_the_declared_columns_and_reported(tmp_path, example_copy):
    data = example_copy(tmp_path)
    original = read_tables(data)["workers"]
    header = list(pd.read_csv(data / "workers.csv", nrows=0).columns)
    exported = [f" {h.replace('_', ' ').title()} " if i % 2 else h.upper() for i, h in enumerate(header)]
    _set_header(data, "workers", exported)
    report = validate_dir(data)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "column_name"]
    assert notes[["file", "line"]].values.tolist() == [["workers.csv", 1]]
    assert "'WORKER_ID' as worker_id" in notes["message"].iat[0] and "' Team Id ' as team_id" in notes["message"].iat[0]
    # Training and scoring read the same columns as from a clean header, whichever reader they use.
    pd.testing.assert_frame_equal(read_validated(data)["workers"], original)
    pd.testing.assert_frame_equal(read_tables(data)["workers"], original)


def test_two_headers_that_could_be_the_same_column_are_not_guessed(tmp_path, example_copy):
    data = example_copy(tmp_path)
    header = list(pd.read_csv(data / "teams.csv", nrows=0).columns)
    frame = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    frame.columns = ["Team ID" if h == "team_id" else h for h in header]
    frame["TEAM_ID"] = frame["Team ID"]
    frame.to_csv(data / "teams.csv", index=False)
    report = validate_dir(data)
    missing = report.errors[report.errors["rule"] == "missing_column"]
    assert missing["column"].tolist() == ["team_id"]
    assert "column_name" not in report.failures["rule"].tolist()


def _names_column(data: Path, names: list[str]) -> str:
    """workers.csv with a display_name column holding ``names`` (cycled), as text."""
    frame = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    frame["display_name"] = [names[i % len(names)] for i in range(len(frame))]
    return frame.to_csv(index=False)


def test_a_windows_1252_file_is_read_as_that_and_the_characters_it_gave_are_named(tmp_path, example_copy):
    # Excel's "CSV (Comma delimited)" on an English Windows: the first export most councils make.
    utf8, ansi = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    body = _names_column(utf8, ["Ren\u00e9e", "Si\u00e2n O\u2019Neill", "Sam"])
    (utf8 / "workers.csv").write_text(body, encoding="utf-8")
    (ansi / "workers.csv").write_bytes(body.encode("cp1252"))
    report = validate_dir(ansi)
    assert report.ok, report.errors["message"].tolist()
    note = report.warnings[report.warnings["rule"] == "encoding"]
    assert note[["file", "line", "value"]].values.tolist() == [["workers.csv", 2, "\u00e2 \u00e9 \u2019"]]
    assert "read as Windows-1252" in note["message"].iat[0] and "Ren" not in note["message"].iat[0]   # no names copied
    expected = read_tables(utf8)["workers"]
    pd.testing.assert_frame_equal(read_validated(ansi)["workers"], expected)
    pd.testing.assert_frame_equal(read_tables(ansi)["workers"], expected)


def test_a_file_mixing_utf8_and_windows_1252_is_not_guessed(tmp_path, example_copy):
    data = example_copy(tmp_path)
    head, _, rest = _names_column(data, ["Zo\u00eb", "Ren\u00e9e"]).partition("\n")
    first, _, others = rest.partition("\n")
    (data / "workers.csv").write_bytes((head + "\n" + first + "\n").encode("utf-8") + others.encode("cp1252"))
    errors = validate_dir(data).errors
    assert errors["rule"].tolist() == ["encoding"]
    assert "two encodings are mixed" in errors["message"].iat[0] and "line 2" in errors["message"].iat[0]


def _dates_as(data: Path, table: str, columns: list[str], fmt: str) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    for col in columns:
        frame[col] = pd.to_datetime(frame[col].replace("", None)).dt.strftime(fmt).fillna("")
    frame.to_csv(data / f"{table}.csv", index=False)


def test_uk_dates_are_read_day_first_when_a_day_above_12_shows_the_order_and_reported(tmp_path, example_copy):
    clean, uk = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    _dates_as(uk, "workers", ["start_date", "end_date", "qualified_date"], "%d/%m/%Y")
    _dates_as(uk, "pay_history", ["effective_date"], "%d/%m/%Y 00:00")   # Excel with a time, as some HR systems export
    report = validate_dir(uk)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "date_format"]
    assert sorted(notes["column"]) == ["effective_date", "end_date", "qualified_date", "start_date"]
    _reads_as(clean, uk, ("workers", "pay_history"))


def test_uk_dates_that_read_either_way_are_not_guessed(tmp_path, example_copy):
    data = example_copy(tmp_path)
    pay = pd.read_csv(data / "pay_history.csv", dtype=str, keep_default_na=False)
    pay["effective_date"] = "01/02/2024"   # 1 February or 2 January: no day above 12 to tell
    pay.to_csv(data / "pay_history.csv", index=False)
    report = validate_dir(data)
    assert not report.ok
    assert set(report.errors.loc[report.errors["column"] == "effective_date", "rule"]) == {"type", "date_format"}
    with pytest.raises(DataValidationError):
        read_validated(data)


def test_empty_rows_and_unnamed_empty_columns_after_the_data_are_left_out_and_reported(tmp_path, example_copy):
    # What Excel saves when cells below and right of the data were once formatted.
    clean, saved = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    lines = (saved / "teams.csv").read_text(encoding="utf-8").splitlines()
    width = lines[0].count(",") + 2
    (saved / "teams.csv").write_text("\n".join([f"{line},," for line in lines] + ["," * width] * 3) + "\n", encoding="utf-8")
    report = validate_dir(saved)
    assert report.ok, report.errors["message"].tolist()
    assert report.warnings[["file", "rule"]].values.tolist() == [["teams.csv", "spreadsheet_residue"]]
    assert "3 empty row(s) after the last data row and 2 empty column(s)" in report.warnings["message"].iat[0]
    expected = read_tables(clean)["teams"]
    pd.testing.assert_frame_equal(read_validated(saved)["teams"], expected)
    pd.testing.assert_frame_equal(read_tables(saved)["teams"], expected)


def test_labels_of_a_closed_code_list_are_read_as_the_codes_and_reported(tmp_path, example_copy):
    # HR systems export display labels: 'Permanent', 'Fixed Term', 'Female', 'Team Manager '.
    clean, labelled = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    frame = pd.read_csv(labelled / "workers.csv", dtype=str, keep_default_na=False)
    frame["employment_type"] = frame["employment_type"].str.replace("_", " ").str.title()
    frame["sex"] = frame["sex"].str.upper()
    frame["role"] = frame["role"].str.replace("_", "-") + " "
    frame.to_csv(labelled / "workers.csv", index=False)
    report = validate_dir(labelled)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "code_spelling"].set_index("column")["message"]
    assert sorted(notes.index) == ["employment_type", "role", "sex"]
    assert "'Permanent' as permanent (" in notes["employment_type"]
    expected = read_tables(clean)["workers"]
    pd.testing.assert_frame_equal(read_validated(labelled)["workers"], expected)
    pd.testing.assert_frame_equal(read_tables(labelled)["workers"], expected)


def test_a_label_that_is_no_code_is_still_an_error(tmp_path, example_copy):
    data = example_copy(tmp_path)
    frame = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "employment_type"] = "Perm"
    frame.to_csv(data / "workers.csv", index=False)
    errors = validate_dir(data).errors
    assert errors[["row", "column", "rule"]].values.tolist() == [[1, "employment_type", "allowed"]]


def test_no_two_codes_of_a_list_read_alike():
    # read_codes maps a label to the one code it reduces to; two codes reducing alike would make that a guess.
    from retention_ml.io import code_key
    from retention_ml.schema import load_schemas

    for schema in load_schemas().values():
        for spec in schema.columns:
            if spec.allowed_values():
                keys = code_key(pd.Series(list(spec.allowed_values())))
                assert not keys.duplicated().any(), (schema.name, spec.name)


def test_pounds_and_thousands_separators_are_read_as_numbers_when_the_column_is_plainly_written_so(tmp_path, example_copy):
    clean, exported = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    pay = pd.read_csv(exported / "pay_history.csv", dtype=str, keep_default_na=False)
    pay["annual_salary"] = pay["annual_salary"].astype(float).map("£{:,.2f}".format)
    pay.to_csv(exported / "pay_history.csv", index=False)
    housing = pd.read_csv(exported / "housing_costs.csv", dtype=str, keep_default_na=False)
    housing["median_house_price"] = housing["median_house_price"].astype(float).map("{:,.0f}".format)
    housing.to_csv(exported / "housing_costs.csv", index=False)
    report = validate_dir(exported)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "number_format"].set_index("column")["message"]
    assert sorted(notes.index) == ["annual_salary", "median_house_price"]
    assert "'£55,000.00' as 55000.00" in notes["annual_salary"]
    _reads_as(clean, exported, ("pay_history", "housing_costs"))


def test_a_decimal_comma_in_the_column_leaves_every_comma_value_an_error(tmp_path, example_copy):
    data = example_copy(tmp_path)
    pay = pd.read_csv(data / "pay_history.csv", dtype=str, keep_default_na=False)
    pay.loc[0, "annual_salary"], pay.loc[1, "annual_salary"] = "55,000", "57750,5"   # 55,000 could be 55.000 here
    pay.to_csv(data / "pay_history.csv", index=False)
    errors = validate_dir(data).errors
    assert errors[["row", "column", "rule"]].values.tolist() == [[1, "annual_salary", "type"], [2, "annual_salary", "type"]]


def test_ids_padded_with_spaces_are_read_without_them_in_every_table_and_reported(tmp_path, example_copy):
    # A database's fixed-width text column pads its values; before, every caseload, absence and supervision row of
    # a padded workers.csv was a foreign-key error whose hint was to add the spaces there.
    clean, exported = example_copy(tmp_path, "clean"), example_copy(tmp_path, "exported")
    workers = pd.read_csv(exported / "workers.csv", dtype=str, keep_default_na=False)
    workers["worker_id"] = workers["worker_id"] + "   "
    workers["team_id"] = " " + workers["team_id"]
    workers.to_csv(exported / "workers.csv", index=False)
    supervision = pd.read_csv(exported / "supervision.csv", dtype=str, keep_default_na=False)
    supervision.loc[::2, "worker_id"] = supervision.loc[::2, "worker_id"] + " "
    supervision.to_csv(exported / "supervision.csv", index=False)

    report = validate_dir(exported)
    assert report.ok
    spaces = report.warnings[report.warnings["rule"] == "id_spaces"]
    assert sorted(zip(spaces["table"], spaces["column"])) == [("supervision", "worker_id"), ("workers", "team_id"),
                                                               ("workers", "worker_id")]
    _reads_as(clean, exported, ["workers", "supervision", "caseload_history"])


def test_ids_alike_but_for_spaces_are_one_id(tmp_path, example_copy):
    data = example_copy(tmp_path)
    workers = pd.read_csv(data / "workers.csv", dtype=str, keep_default_na=False)
    twin = workers.iloc[[0]].assign(worker_id=workers["worker_id"].iat[0] + " ")
    pd.concat([workers, twin]).to_csv(data / "workers.csv", index=False)
    errors = validate_dir(data).errors
    assert "duplicate_key" in set(errors["rule"])


@pytest.mark.parametrize("table, column, written, fix", [
    ("teams", "target_turnover", "12%", "write 12% as 0.12"),
    ("teams", "target_turnover", "12", "write 12% as 0.12"),
    ("workers", "fte", "60%", "write 60%"),
    ("workers", "fte", "60", "write 60% as 0.6"),
    ("workers", "fte", "0.6 FTE", "\"0.6 FTE\" as 0.6"),
])
def test_a_share_written_as_a_percentage_is_an_error_saying_how_to_write_it(tmp_path, example_copy, table, column, written, fix):
    data = example_copy(tmp_path)
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    frame.loc[0, column] = written
    frame.to_csv(data / f"{table}.csv", index=False)
    errors = validate_dir(data).errors
    named = errors[(errors["table"] == table) & (errors["column"] == column) & (errors["row"] == 1)]
    assert len(named) == 1 and fix in named["message"].iat[0]


def _set_column(data: Path, table: str, column: str, values) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    frame[column] = values(frame[column]) if callable(values) else values
    frame.to_csv(data / f"{table}.csv", index=False)


@pytest.mark.parametrize("table, column, written", [
    ("workers", "start_date", "January 2024"),
    ("workers", "qualified_date", "May 2021"),          # a date without its day
])
def test_a_date_holding_a_year_is_not_called_an_excel_day_number(tmp_path, example_copy, table, column, written):
    # The year's four digits inside the value were read as Excel's day number 2021 or 2024 (a date in 1905).
    data = example_copy(tmp_path)
    _set_column(data, table, column, lambda c: c.where(c == "", written))
    report = validate_dir(data)
    found = report.errors[(report.errors["rule"] == "type") & (report.errors["column"] == column)]
    assert len(found) and not found["message"].str.contains("how Excel stores").any(), found["message"].iat[0]


def test_an_excel_day_number_is_still_named_as_one(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _set_column(data, "workers", "start_date", "44319")
    found = validate_dir(data).errors
    found = found[(found["rule"] == "type") & (found["column"] == "start_date")]
    assert "44319 is how Excel stores the date 2021-05-03" in found["message"].iat[0]


def test_dates_with_spaces_around_them_are_read_as_the_dates_and_blank_cells_as_empty(tmp_path, example_copy):
    # A fixed-width database export pads its dates and writes an empty date as spaces.
    clean, padded = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    _set_column(padded, "workers", "start_date", lambda c: " " + c + "  ")
    _set_column(padded, "workers", "end_date", lambda c: c.where(c != "", "   ") + " ")
    _set_column(padded, "caseload_history", "month", lambda c: c + " ")
    report = validate_dir(padded)
    assert report.ok, report.errors["message"].tolist()[:3]
    _reads_as(clean, padded, ("workers", "caseload_history"))


@pytest.mark.parametrize("as_written", [
    lambda header: header,                          # two exports pasted together
    lambda header: "\ufeff" + header,              # two Excel 'CSV UTF-8' files joined (copy /b a.csv+b.csv)
    lambda header: header.upper().replace("_", " "),
])
def test_a_header_repeated_between_data_rows_is_one_error_naming_it_not_one_per_column(tmp_path, example_copy, as_written):
    data = example_copy(tmp_path)
    path = data / "pay_history.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(4, as_written(lines[0]))            # line 5: data row 4
    path.write_text("".join(lines), encoding="utf-8")
    errors = validate_dir(data).errors
    assert errors[["table", "row", "line", "rule"]].values.tolist() == [["pay_history", 4, 5, "repeated_header"]]
    assert "repeats the header" in errors["message"].iat[0]
    with pytest.raises(DataValidationError):
        read_validated(data)


@pytest.mark.parametrize("label", ["Total", "Grand total:", "SUM"])
def test_a_totals_row_under_a_csvs_data_is_one_error_naming_it_not_one_per_column(tmp_path, example_copy, label):
    # A report's sums saved as the last line: before, one error per column it broke (the sum over the salary
    # maximum, the empty required values, 'Total' as a worker no table holds), none naming the cause, where the
    # same row in a workbook is one error.
    data = example_copy(tmp_path)
    path = data / "pay_history.csv"
    frame = pd.read_csv(path, dtype=str)
    totals = [label] + [""] * (frame.shape[1] - 1)
    salary = list(frame.columns).index("annual_salary")
    totals[salary] = str(int(frame["annual_salary"].astype(float).sum()))
    path.write_text(path.read_text(encoding="utf-8") + ",".join(totals) + "\n", encoding="utf-8")
    errors = validate_dir(data).errors
    row = len(frame) + 1
    assert errors[["table", "row", "line", "rule"]].values.tolist() == [["pay_history", row, row + 1, "totals_row"]]
    assert f"'{label}'" in errors["message"].iat[0] and "delete it" in errors["message"].iat[0]


def test_a_row_with_one_value_equal_to_its_column_name_is_no_repeated_header(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _set_column(data, "workers", "role", lambda c: c.where(c.index != 0, "role"))
    errors = validate_dir(data).errors
    assert errors[["row", "column", "rule"]].values.tolist() == [[1, "role", "allowed"]]


def test_dates_that_read_either_way_are_named_with_both_readings_not_one(tmp_path, example_copy):
    # No day above 12: the message must not pick a meaning the validator itself refuses to guess.
    data = example_copy(tmp_path)
    _set_column(data, "pay_history", "effective_date", "09/10/2021")
    errors = validate_dir(data).errors
    note = errors[errors["rule"] == "date_format"]["message"]
    assert len(note) == 1
    assert "2021-10-09 or 2021-09-10" in note.iat[0] and "meaning" not in note.iat[0]


def test_a_column_mixing_day_first_and_month_first_dates_is_named_as_mixed(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _set_column(data, "pay_history", "effective_date", lambda c: pd.Series(["23/01/2021", "01/23/2021"] * len(c)).iloc[: len(c)].to_numpy())
    errors = validate_dir(data).errors
    note = errors[errors["rule"] == "date_format"]["message"]
    assert len(note) == 1 and "both orders" in note.iat[0] and "meaning" not in note.iat[0]


@pytest.mark.parametrize("table, column, fmt", [
    ("workers", "start_date", "%d-%b-%Y"),           # Oracle's and many HR systems' DD-MON-YYYY
    ("workers", "start_date", "%d %B %Y"),
    ("caseload_history", "month", "%b %Y"),           # a month column formatted mmm yyyy in Excel
    ("caseload_history", "month", "%b-%Y"),
])
def test_dates_written_with_the_month_name_and_a_four_digit_year_are_read_and_reported(tmp_path, example_copy, table, column, fmt):
    clean, named = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    _dates_as(named, table, [column], fmt)
    report = validate_dir(named)
    assert report.ok, report.errors["message"].tolist()[:3]
    note = report.warnings[report.warnings["rule"] == "date_format"]
    assert note["column"].tolist() == [column] and "month's name" in note["message"].iat[0]
    _reads_as(clean, named, (table,))


@pytest.mark.parametrize("column, fmt", [
    ("start_date", "%d-%b-%y"),     # two-digit year: 1921 or 2021
    ("start_date", "%b %Y"),        # a date without its day
])
def test_month_name_dates_missing_the_century_or_the_day_are_refused_saying_how_to_export_them(tmp_path, example_copy, column, fmt):
    data = example_copy(tmp_path)
    _dates_as(data, "workers", [column], fmt)
    errors = validate_dir(data).errors
    found = errors[(errors["column"] == column) & (errors["rule"] == "type")]
    assert len(found) and "yyyy-mm-dd" in found["message"].iat[0]


def test_uk_dates_written_with_dashes_are_read_day_first_as_with_slashes(tmp_path, example_copy):
    # 13-05-2015 shows its order as 13/05/2015 does; the refusal named the meaning and still refused it.
    clean, uk = example_copy(tmp_path / "a"), example_copy(tmp_path / "b")
    _dates_as(uk, "workers", ["start_date", "end_date", "qualified_date"], "%d-%m-%Y")
    report = validate_dir(uk)
    assert report.ok, report.errors["message"].tolist()[:3]
    notes = report.warnings[report.warnings["rule"] == "date_format"]
    assert sorted(notes["column"]) == ["end_date", "qualified_date", "start_date"]
    _reads_as(clean, uk, ("workers",))


def test_dashed_dates_that_read_either_way_are_not_guessed(tmp_path, example_copy):
    data = example_copy(tmp_path)
    _set_column(data, "pay_history", "effective_date", "01-02-2024")
    errors = validate_dir(data).errors
    assert set(errors.loc[errors["column"] == "effective_date", "rule"]) == {"type", "date_format"}
