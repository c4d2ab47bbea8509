"""A table given but holding no rows for a council: its features would be silently empty there, so it is a warning."""

import shutil
from pathlib import Path

import pandas as pd

from retention_ml.io import read_tables
from retention_ml.validation import coverage_gaps, validate_dir

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data_schema" / "examples" / "council_small"
T03_WORKERS = {"W003", "W010", "W013", "W014"}


def _two_councils(tmp_path: Path) -> Path:
    """The example with team T03 moved to a second council, "otherton", given its own agency rates."""
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    teams = pd.read_csv(data / "teams.csv", dtype=str, keep_default_na=False)
    teams.loc[teams["team_id"] == "T03", "council_id"] = "otherton"
    teams.to_csv(data / "teams.csv", index=False)
    rates = pd.read_csv(data / "agency_rates.csv", dtype=str, keep_default_na=False)
    pd.concat([rates, rates.assign(council_id="otherton")]).to_csv(data / "agency_rates.csv", index=False)
    return data


def _drop_rows(data: Path, table: str, workers: set[str]) -> None:
    frame = pd.read_csv(data / f"{table}.csv", dtype=str, keep_default_na=False)
    frame[~frame["worker_id"].isin(workers)].to_csv(data / f"{table}.csv", index=False)


def _gaps(report) -> list[tuple]:
    w = report.warnings
    w = w[w["rule"] == "no_rows_for_council"]
    return sorted(zip(w["table"], w["value"], w["column"]))


def test_two_councils_each_with_rows_everywhere_give_no_warning(tmp_path):
    report = validate_dir(_two_councils(tmp_path), as_of="2025-07-01")
    assert report.ok and _gaps(report) == []


def test_a_table_without_rows_for_one_council_is_a_warning_naming_table_council_and_features(tmp_path):
    data = _two_councils(tmp_path)
    _drop_rows(data, "supervision", T03_WORKERS)
    report = validate_dir(data)
    assert report.ok   # a warning: the data is well formed, only thin
    assert _gaps(report) == [("supervision", "otherton", "worker_id")]
    message = report.warnings.loc[report.warnings["rule"] == "no_rows_for_council", "message"].iat[0]
    for part in ("supervision", "otherton", "months_since_supervision", "supervision_sessions_3m", "supervision.csv", "4 worker"):
        assert part in message, message


def test_a_council_table_without_the_council_is_a_warning(tmp_path):
    data = _two_councils(tmp_path)
    rates = pd.read_csv(data / "agency_rates.csv", dtype=str, keep_default_na=False)
    rates[rates["council_id"] != "otherton"].to_csv(data / "agency_rates.csv", index=False)
    report = validate_dir(data)
    assert _gaps(report) == [("agency_rates", "otherton", "council_id")]
    assert "pay_agency_gap" in report.warnings["message"].str.cat()


def test_a_header_only_table_is_a_gap_for_every_council(tmp_path):
    data = _two_councils(tmp_path)
    (data / "absence.csv").write_text("worker_id,month,sickness_days\n", encoding="utf-8")
    report = validate_dir(data)
    assert _gaps(report) == [("absence", "examplebury", "worker_id"), ("absence", "otherton", "worker_id")]


def test_with_as_of_only_earlier_rows_and_people_in_post_count(tmp_path):
    data = _two_councils(tmp_path)
    sup = pd.read_csv(data / "supervision.csv", dtype=str, keep_default_na=False)
    theirs = sup["worker_id"].isin(T03_WORKERS)
    first_late = sup.loc[theirs, "date"].min()
    # otherton's sessions all start on the same later day: none is known at an earlier as-of.
    sup.loc[theirs, "date"] = sup.loc[theirs, "date"].where(sup.loc[theirs, "date"] > "2024-06-30", None)
    sup = sup.dropna(subset=["date"])
    sup.to_csv(data / "supervision.csv", index=False)
    assert first_late < "2024-06-30"
    assert _gaps(validate_dir(data)) == []
    early = [g for g in _gaps(validate_dir(data, as_of="2024-06-01")) if g[0] == "supervision"]
    assert early == [("supervision", "otherton", "worker_id")]
    # Before anyone of otherton started, nobody there is in post (nobody scored), so there is nothing to warn about.
    assert [g for g in _gaps(validate_dir(data, as_of="2016-06-01")) if g[1] == "otherton"] == []


def test_coverage_gaps_on_read_tables_gives_the_same_records_as_validate(tmp_path):
    # The function score and train can call on the tables they read.
    data = _two_councils(tmp_path)
    _drop_rows(data, "absence", T03_WORKERS)
    from_validate = validate_dir(data, as_of="2025-07-01").warnings
    from_validate = from_validate[from_validate["rule"] == "no_rows_for_council"]
    direct = coverage_gaps(read_tables(data), as_of="2025-07-01", files={"absence": "absence.csv"})
    assert direct["message"].tolist() == from_validate["message"].tolist()
    assert direct["value"].tolist() == ["otherton"]


def test_tables_no_feature_reads_are_not_checked(tmp_path):
    data = _two_councils(tmp_path)
    _drop_rows(data, "exit_interviews", T03_WORKERS)
    assert _gaps(validate_dir(data)) == []


def _stale(report) -> list[tuple]:
    w = report.warnings
    w = w[w["rule"] == "no_recent_rows"]
    return sorted(zip(w["table"], w["value"], w["value"].index.map(lambda i: w.loc[i, "message"])))


def test_a_monthly_table_not_refreshed_for_a_council_is_a_warning_at_an_as_of_date(tmp_path):
    data = _two_councils(tmp_path)
    caseload = pd.read_csv(data / "caseload_history.csv", dtype=str, keep_default_na=False)
    old = caseload["worker_id"].isin(T03_WORKERS) & (caseload["month"] > "2024-09-01")
    caseload[~old].to_csv(data / "caseload_history.csv", index=False)
    assert _stale(validate_dir(data)) == []   # no as-of date: nothing to be stale against
    found = _stale(validate_dir(data, as_of="2025-07-01"))
    assert [(t, v) for t, v, _ in found] == [("caseload_history", "2024-09")]
    message = found[0][2]
    for part in ("otherton", "2024-09", "10 months before 2025-07-01", "caseload_current", "caseload_history.csv"):
        assert part in message, message
    # Within STALE_MONTHS of the as-of date the council's last month may simply be late: no warning.
    assert _stale(validate_dir(data, as_of="2024-12-01")) == []
