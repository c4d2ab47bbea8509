"""Messages that say what is wrong *and* how to fix it, and no false alarms built from values already reported.

Found by an analyst onboarding a small messy extract: UK dates, headers in another case,
a rehire under the same id, agency rows without a band, caseload months outside a worker's spell.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from retention_ml.schema import load_schemas
from retention_ml.validation import validate_dir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"
AS_OF = "2025-07-01"


@pytest.fixture
def data(tmp_path) -> Path:
    """A writable copy of the valid example set."""
    out = tmp_path / "data"
    shutil.copytree(EXAMPLE, out, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return out


def read(data: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, data: Path, table: str) -> None:
    frame.to_csv(data / f"{table}.csv", index=False)


def day_first(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.where(values != "")).dt.strftime("%d/%m/%Y").fillna("")


# --------------------------------------------------------------------------- F6: UK dates


def test_uk_month_column_gives_one_column_hint_and_no_false_duplicate_keys(data):
    caseload = read(data, "caseload_history")
    caseload["month"] = day_first(caseload["month"])  # what Excel writes when a UK user saves as CSV
    write(caseload, data, "caseload_history")
    report = validate_dir(data, as_of=AS_OF)
    counts = report.summary().set_index(["table", "rule"])["count"].to_dict()
    # Every value is still reported (one type record per cell) ...
    assert counts[("caseload_history", "type")] == len(caseload)
    # ... but the keys built from months that did not parse are not "duplicates" of each other.
    assert ("caseload_history", "duplicate_key") not in counts
    hint = report.failures[report.failures["rule"] == "date_format"]
    assert len(hint) == 1
    rec = hint.iloc[0]
    assert rec["column"] == "month" and pd.isna(rec["row"]) and rec["severity"] == "error"
    assert rec["message"].startswith(f"caseload_history.csv column month: {len(caseload)} of the {len(caseload)} values")
    assert "DD/MM/YYYY" in rec["message"] and "YYYY-MM-01" in rec["message"] and "yyyy-mm-dd" in rec["message"]
    example = rec["value"]
    assert example in set(caseload["month"])
    # A month column's days are all 1 or less than 13, so no value shows the order: the day-first reading is named,
    # beside the other one when it differs, never as the one meant.
    assert f"'{example}': " in rec["message"] and pd.to_datetime(example, dayfirst=True).date().isoformat() in rec["message"]


def test_uk_dates_in_workers_are_read_day_first_naming_the_value_that_shows_it(data):
    workers = read(data, "workers")
    for col in ("start_date", "end_date", "qualified_date"):
        workers[col] = day_first(workers[col])
    write(workers, data, "workers")
    report = validate_dir(data, as_of=AS_OF)
    assert report.ok, report.errors["message"].tolist()
    notes = report.warnings[report.warnings["rule"] == "date_format"].set_index("column")
    assert sorted(notes.index) == ["end_date", "qualified_date", "start_date"]
    # A day above 12 shows the order; the example and its reading are both there.
    day, month, year = (int(x) for x in notes.loc["start_date", "value"].split("/"))
    assert day > 12 and f"can only mean {year:04d}-{month:02d}-{day:02d}" in notes.loc["start_date", "message"]


def test_a_real_duplicate_is_still_reported_beside_unparsed_keys(data):
    caseload = read(data, "caseload_history")
    caseload.loc[:2, "month"] = ["01/01/2024", "01/02/2024", "01/03/2024"]  # same worker, unparsed months
    caseload = pd.concat([caseload, caseload.iloc[[10]]], ignore_index=True)  # a true repeat of row 11
    write(caseload, data, "caseload_history")
    dup = validate_dir(data, as_of=AS_OF).errors.query("rule == 'duplicate_key'")
    assert dup["row"].tolist() == [len(caseload)]
    assert "also on row 11;" in dup["message"].iloc[0]


def test_one_slip_in_a_date_column_gets_no_column_hint(data):
    pay = read(data, "pay_history")
    pay.loc[3, "effective_date"] = "01/04/2024"
    write(pay, data, "pay_history")
    report = validate_dir(data, as_of=AS_OF)
    assert report.errors["rule"].tolist() == ["type"]


# --------------------------------------------------------------------------- F12: header near misses


def test_a_header_spelled_another_way_is_read_as_the_column_and_named(data):
    workers = read(data, "workers").rename(columns={"worker_id": "Worker ID", "start_date": "Start_Date"})
    write(workers, data, "workers")
    report = validate_dir(data, as_of=AS_OF)
    assert report.ok, report.errors["message"].tolist()
    renamed = report.warnings.query("rule == 'column_name'")
    assert renamed["message"].tolist() == [
        "workers.csv: 2 header(s) read as the declared column they differ from only in case, spaces or punctuation: "
        "'Worker ID' as worker_id, 'Start_Date' as start_date; rename them in the export to make this warning go away"]


def test_missing_column_names_the_near_match_and_the_rename_when_two_headers_could_be_it(data):
    workers = read(data, "workers").rename(columns={"worker_id": "Worker ID"}).assign(WORKER_ID="x")
    write(workers, data, "workers")
    report = validate_dir(data, as_of=AS_OF)
    missing = report.errors.query("rule == 'missing_column'").set_index("column")["message"]
    assert missing["worker_id"] == ("workers.csv: required column worker_id is missing; found Worker ID: "
                                    "rename it to worker_id (names are case-sensitive and use underscores)")
    unknown = report.warnings.query("rule == 'unknown_column'").set_index("column")["message"]
    assert "did you mean worker_id?" in unknown["Worker ID"]


def test_an_unrelated_unknown_column_gets_no_rename_hint(data):
    teams = read(data, "teams").assign(nickname="x")
    write(teams, data, "teams")
    msg = validate_dir(data, as_of=AS_OF).warnings["message"].iloc[0]
    assert msg == "teams.csv: column nickname is not in the teams schema and will be ignored"


# --------------------------------------------------------------------------- F15: how to fix a duplicate or an empty band


def test_duplicate_worker_names_the_first_row_and_says_a_spell_needs_its_own_id(data):
    workers = read(data, "workers")
    rehire = workers.iloc[[3, 3]].assign(start_date="2025-01-06", end_date="", leaving_reason="")
    write(pd.concat([workers, rehire], ignore_index=True), data, "workers")
    dup = validate_dir(data, as_of=AS_OF).errors.query("rule == 'duplicate_key'")
    n = len(workers)
    assert dup["row"].tolist() == [n + 1, n + 2]
    first = dup["message"].iloc[0]
    assert first.startswith(f"workers row {n + 1}: duplicate primary key (worker_id) = W004, also on row 4 and 1 other row(s);")
    hint = load_schemas()["workers"].hints["duplicate_key"]
    assert " ".join(hint.split()) in first and "each employment spell needs its own worker_id" in first


def test_empty_pay_band_says_agency_rows_take_agency_from_the_schema(data):
    pay = read(data, "pay_history")
    agency = pay.index[pay["pay_band"] == "AGENCY"]
    pay.loc[agency, "pay_band"] = ""
    write(pay, data, "pay_history")
    errors = validate_dir(data, as_of=AS_OF).errors
    assert errors["rule"].tolist() == ["not_null"] * len(agency)
    declared = load_schemas()["pay_history"].column("pay_band").hints["not_null"]
    assert "AGENCY" in declared
    assert errors["message"].iloc[0] == f"pay_history row {agency[0] + 1}: pay_band is empty; a value is required; {declared}"


# --------------------------------------------------------------------------- F16: rows outside the worker's spell


def test_caseload_months_outside_the_spell_are_warnings_naming_worker_month_and_spell(data):
    caseload = read(data, "caseload_history")
    extra = pd.DataFrame([
        # W004 left 2024-09-30: its September row is fine, October is after the spell.
        dict(worker_id="W004", month="2024-10-01", open_cases="5", child_protection_cases="1", children_in_care_cases="0", court_cases="0", new_allocations="0"),
        # W011 started 2024-07-01: June 2024 is before the spell (its start month's row, already there, is inside).
        # A month within the table's months: a row years before them all would also be a month_gap error.
        dict(worker_id="W011", month="2024-06-01", open_cases="5", child_protection_cases="1", children_in_care_cases="0", court_cases="0", new_allocations="0"),
    ])
    write(pd.concat([caseload, extra], ignore_index=True), data, "caseload_history")
    report = validate_dir(data, as_of=AS_OF)
    assert report.ok  # warnings only
    out = report.warnings.query("rule == 'outside_spell'")
    n = len(caseload)
    assert out["row"].tolist() == [n + 1, n + 2] and set(out["table"]) == {"caseload_history"}
    assert out["message"].iloc[0].startswith(
        f"caseload_history row {n + 1}: month 2024-10 is outside the spell of worker W004 (2022-09-05 to 2024-09-30);")
    assert "month 2024-06 is outside the spell of worker W011 (2024-07-01 to in post)" in out["message"].iloc[1]


def test_supervision_after_the_leaving_month_is_a_warning_but_not_within_it(data):
    sup = read(data, "supervision")
    extra = pd.DataFrame([dict(worker_id="W004", date="2024-09-30", duration_minutes="60"),
                          dict(worker_id="W004", date="2024-11-04", duration_minutes="60")])
    sup = pd.concat([sup[~((sup.worker_id == "W004") & sup.date.isin(extra.date))], extra], ignore_index=True)
    write(sup, data, "supervision")
    out = validate_dir(data, as_of=AS_OF).warnings.query("rule == 'outside_spell'")
    assert out["value"].tolist() == ["2024-11-04"] and out["table"].tolist() == ["supervision"]


def test_every_declared_hint_names_a_rule():
    from retention_ml.validation import RULES

    for table in load_schemas().values():
        declared = list(table.hints) + [rule for c in table.columns for rule in c.hints]
        assert set(declared) <= set(RULES), (table.name, declared)
        assert table.within_spell is None or table.column(table.within_spell).type in ("date", "month")


def test_a_header_spelled_much_like_a_missing_column_is_named_as_the_likely_rename(data):
    # 'establishment' for establishment_fte: the optional column read as absent without an error (the team's
    # vacancy features silently dropped), and the header's warning said only "will be ignored".
    teams = read(data, "teams").rename(columns={"establishment_fte": "establishment",
                                                "target_turnover": "target_turnover_rate"})
    write(teams, data, "teams")
    report = validate_dir(data, as_of=AS_OF)
    missing = report.errors.query("rule == 'missing_column'").set_index("column")["message"]
    assert missing["target_turnover"].endswith("; found target_turnover_rate: if it holds target_turnover, "
                                               "rename it to target_turnover")
    unknown = report.warnings.query("rule == 'unknown_column'").set_index("column")["message"]
    assert "did you mean establishment_fte? if it holds that, rename it to establishment_fte (an optional column" \
        in unknown["establishment"]
    assert "did you mean target_turnover?" in unknown["target_turnover_rate"]


def test_a_row_repeated_whole_is_named_a_copy_to_delete_and_a_key_repeated_with_other_values_is_not(data):
    caseload = read(data, "caseload_history")
    differing = caseload.iloc[[1]].assign(open_cases="7")
    write(pd.concat([caseload, caseload.iloc[[0]], differing], ignore_index=True), data, "caseload_history")
    workers = read(data, "workers")
    write(pd.concat([workers, workers.iloc[[0]]], ignore_index=True), data, "workers")
    errors = validate_dir(data).errors.query("rule == 'duplicate_key'").set_index(["table", "row"])["message"]
    n = len(caseload)
    assert "every value repeats that row" in errors[("caseload_history", n + 1)]
    assert "every value repeats that row" not in errors[("caseload_history", n + 2)]
    whole = errors[("workers", len(workers) + 1)]
    assert "delete the repeated rows" in whole and "each employment spell needs its own worker_id" not in whole


@pytest.mark.parametrize("table, column, exported", [
    ("workers", "employment_type", "Contract Type"),
    ("workers", "end_date", "Leaving Date"),
    ("caseload_history", "open_cases", "caseload"),
])
def test_a_column_under_a_name_hr_systems_give_it_is_named_as_the_likely_rename(data, table, column, exported):
    frame = read(data, table).rename(columns={column: exported})
    write(frame, data, table)
    failures = pd.concat([validate_dir(data).errors, validate_dir(data).warnings])
    named = failures[(failures["table"] == table) & failures["message"].str.contains(f"rename it to {column}", regex=False)]
    assert not named.empty and named["message"].str.contains(exported, regex=False).all()


def test_a_repeated_key_with_a_value_left_empty_is_not_called_a_copy(data):
    pay = read(data, "pay_history")
    first = pay.index[pay["spinal_point"] != ""][0]
    write(pd.concat([pay, pay.loc[[first]].assign(spinal_point="")], ignore_index=True), data, "pay_history")
    errors = validate_dir(data).errors.query("rule == 'duplicate_key' and table == 'pay_history'")
    assert len(errors) == 1 and "every value repeats that row" not in errors["message"].iat[0]


def test_a_leaving_date_years_after_the_data_is_a_warning_and_one_within_notice_is_not(data):
    workers = read(data, "workers")
    in_post = workers.index[workers["end_date"] == ""]
    last = pd.to_datetime(read(data, "caseload_history")["month"]).max()
    workers.loc[in_post[0], ["end_date", "leaving_reason"]] = [(last + pd.DateOffset(years=8)).strftime("%Y-%m-%d"), "resignation"]
    workers.loc[in_post[1], ["end_date", "leaving_reason"]] = [(last + pd.DateOffset(months=3)).strftime("%Y-%m-%d"), "resignation"]
    write(workers, data, "workers")
    report = validate_dir(data)
    assert report.ok
    far = report.warnings.query("rule == 'leaving_far_ahead'")
    assert far["row"].tolist() == [in_post[0] + 1] and "mistyped year" in far["message"].iat[0]
