"""fte_history's rules: every broken row reported by file, row, column and rule, in one pass; warnings when the
history and workers.fte disagree or the history starts after the spell (or the data) does."""

from retention_ml.validation import validate_dir

# The example's workers: W005 0.8 FTE since 2019-04-01, W013 0.6 since 2022-01-10, W011 1.0 since 2024-07-01,
# W004 1.0 2022-09-05 to 2024-09-30; caseload_history from 2024-01.


def test_broken_history_rows_are_named_by_file_row_column_and_rule(tmp_path, example_copy):
    data = example_copy(tmp_path)
    (data / "fte_history.csv").write_text(
        "worker_id,effective_date,fte\n"
        "W005,2019-04-01,1.0\n"        # row 1: fine
        "W005,2024-03-01,0.8\n"        # row 2: fine (W005's hours today)
        "W999,2024-02-01,0.5\n"        # row 3: no worker W999
        "W013,2022-01-10,0.6\n"        # rows 4 and 5: the same worker and date twice
        "W013,2022-01-10,0.5\n"
        "W011,2024-07-01,1.5\n"        # row 6: more than full time
        "W011,2024-08-01,0\n"          # row 7: no hours
        "W013,2025-08-01,0.6\n"        # row 8: after the as-of date
        "W004,2024-10-15,1.0\n",       # row 9: after the spell ended (warning)
        encoding="utf-8")
    report = validate_dir(data, as_of="2025-07-01")
    assert not report.ok
    got = {(r.file, r.row, r.column, r.rule) for r in report.errors.itertuples()}
    assert got == {("fte_history.csv", 3, "worker_id", "foreign_key"),
                   ("fte_history.csv", 5, "worker_id, effective_date", "duplicate_key"),
                   ("fte_history.csv", 6, "fte", "max"),
                   ("fte_history.csv", 7, "fte", "min"),
                   ("fte_history.csv", 8, "effective_date", "not_after_as_of")}, report.errors.to_string()
    assert ("fte_history.csv", 9, "effective_date", "outside_spell") in {
        (r.file, r.row, r.column, r.rule) for r in report.warnings.itertuples()}
    messages = " | ".join(report.errors["message"])
    assert "fte_history row 3: worker_id is 'W999'; no such worker_id in workers" in messages
    assert "fte_history row 6: fte is 1.5; must be 1 FTE or less" in messages
    assert "duplicate primary key (worker_id, effective_date) = W013, 2022-01-10, also on row 4" in messages


def test_history_that_disagrees_with_workers_or_starts_late_is_warned(tmp_path, example_copy):
    data = example_copy(tmp_path)
    (data / "fte_history.csv").write_text(
        "worker_id,effective_date,fte\n"
        "W005,2019-04-01,1.0\n"
        "W005,2024-03-01,0.6\n"        # row 2: W005's latest hours 0.6, workers says 0.8
        "W013,2024-05-01,0.6\n"        # row 3: W013 (since 2022) starts after the first caseload month
        "W011,2024-09-01,1.0\n"        # row 4: W011 (since 2024-07-01) starts after the spell
        "W001,2024-01-01,1.0\n",       # row 5: on the first caseload month: fine
        encoding="utf-8")
    report = validate_dir(data, as_of="2025-07-01")
    assert report.ok                           # warnings: the data can still be used
    got = {(r.row, r.column, r.rule) for r in report.warnings.itertuples() if r.file == "fte_history.csv"}
    assert got == {(2, "fte", "history_disagrees"), (3, "effective_date", "history_starts_late"),
                   (4, "effective_date", "history_starts_late")}, report.warnings.to_string()
    text = " | ".join(report.warnings["message"])
    assert "fte_history row 2: fte 0.6 from 2024-03-01 is worker W005's latest change, but workers holds fte 0.8" in text
    assert ("fte_history row 3: effective_date 2024-05-01 is worker W013's first change in fte_history, after the first "
            "caseload month's day 2024-01-01: snapshots before it read workers.fte") in text
    assert ("fte_history row 4: effective_date 2024-09-01 is worker W011's first change in fte_history, after the start "
            "of the spell 2024-07-01: snapshots before it read workers.fte, today's hours; add a row dated 2024-07-01 with "
            "the hours in force then") in text
