"""team_history's rules: every broken row reported by file, row, column and rule, in one pass."""

import shutil
from pathlib import Path

from retention_ml.validation import validate_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "data_schema" / "examples" / "council_small"


def test_broken_history_rows_are_named_by_file_row_column_and_rule(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    (data / "team_history.csv").write_text(
        "team_id,effective_date,caseload_cap,establishment_fte,manager_id\n"
        "T01,2024-01-01,22,5.0,W001\n"        # row 1: fine
        "T99,2024-02-01,20,,\n"               # row 2: no team T99
        "T02,2024-03-01,18,,\n"               # rows 3 and 4: the same team and date twice
        "T02,2024-03-01,,4.0,\n"
        "T03,2024-04-01,75,,\n"               # row 5: a cap above 60
        "T03,2024-05-01,,,W999\n"             # row 6: a manager who is not a worker
        "T01,2025-08-01,20,,\n",              # row 7: after the as-of date
        encoding="utf-8")
    report = validate_dir(data, as_of="2025-07-01")
    assert not report.ok
    got = {(r.file, r.row, r.column, r.rule) for r in report.errors.itertuples()}
    assert got == {("team_history.csv", 2, "team_id", "foreign_key"),
                   ("team_history.csv", 4, "team_id, effective_date", "duplicate_key"),
                   ("team_history.csv", 5, "caseload_cap", "max"),
                   ("team_history.csv", 6, "manager_id", "foreign_key"),
                   ("team_history.csv", 7, "effective_date", "not_after_as_of")}, report.errors.to_string()
    messages = " | ".join(report.errors["message"])
    assert "team_history row 2: team_id is 'T99'; no such team_id in teams" in messages
    assert "team_history row 5: caseload_cap is 75; must be 60 cases per FTE or less" in messages
    assert "duplicate primary key (team_id, effective_date) = T02, 2024-03-01, also on row 3" in messages


def test_the_example_history_is_valid_and_read():
    report = validate_dir(EXAMPLE, as_of="2025-07-01")
    assert report.ok and report.tables["team_history"] == 4


def test_history_that_disagrees_with_teams_or_starts_late_is_warned(tmp_path):
    # teams: T01 cap 22 / 5.0 FTE / W001, T02 cap 18 / 4.0 FTE / W002; caseload from 2024-01
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.py", "*.md"))
    (data / "team_history.csv").write_text(
        "team_id,effective_date,caseload_cap,establishment_fte,manager_id\n"
        "T01,2024-01-01,25,5.0,W001\n"
        "T01,2024-06-01,20,,\n"               # row 2: T01's latest cap is 20, teams says 22
        "T02,2024-03-01,18,5.0,W002\n"        # row 3: T02 starts in March; its latest FTE 5.0, teams says 4.0
        "T03,2024-01-01,18,4.0,W003\n", encoding="utf-8")
    report = validate_dir(data, as_of="2025-07-01")
    assert report.ok                           # warnings: the data can still be used
    got = {(r.row, r.column, r.rule) for r in report.warnings.itertuples()}
    assert got == {(2, "caseload_cap", "history_disagrees"), (3, "establishment_fte", "history_disagrees"),
                   (3, "effective_date", "history_starts_late")}, report.warnings.to_string()
    text = " | ".join(report.warnings["message"])
    assert "caseload_cap 20 from 2024-06-01 is team T01's latest change, but teams holds caseload_cap 22" in text
    assert ("team_history row 3: effective_date 2024-03-01 is team T02's first change of caseload_cap, establishment_fte, "
            "manager_id in team_history, after the first caseload month 2024-01") in text
