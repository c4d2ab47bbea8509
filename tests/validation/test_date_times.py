"""A date written with a time of day ('2021-03-31 23:30', as HR systems export date-time fields) is read as the
day written, in every date and month column of every table, by both readers: a time never moves a date to
another day, month or snapshot. A time other than midnight is a warning naming file, column, count and first row."""

from pathlib import Path

import pandas as pd
import pytest

from retention_ml.io import read_tables
from retention_ml.schema import load_schemas
from retention_ml.validation import FORGIVING_RULES, read_validated, read_validated_readings, validate_dir

DATED = [(t.name, c.name) for t in load_schemas().values() for c in t.columns if c.type in ("date", "month")]


def _rewrite(data: Path, table: str, column: str, how) -> pd.Series:
    """``table``.csv with ``column``'s values given through ``how`` (text in, text out); the values as they were."""
    path = data / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    before = frame[column].copy()
    given = frame[column] != ""
    frame.loc[given, column] = how(frame.loc[given, column])
    frame.to_csv(path, index=False)
    return before


def _same_reading(clean: Path, timed: Path) -> None:
    expected, validated, read = read_tables(clean), read_validated(timed), read_tables(timed)
    assert set(validated) == set(read) == set(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(validated[name], frame, obj=name)
        pd.testing.assert_frame_equal(read[name], frame, obj=name)


def test_a_start_at_half_past_eleven_at_night_is_read_as_that_day(tmp_path, example_copy):
    clean, timed = example_copy(tmp_path, "clean"), example_copy(tmp_path, "timed")
    for data, written in ((clean, "2021-03-31"), (timed, "2021-03-31 23:30")):
        _rewrite(data, "workers", "start_date", lambda s, w=written: s.where(s.index != 2, w))
    assert read_tables(timed)["workers"]["start_date"].iat[2] == pd.Timestamp("2021-03-31")
    _same_reading(clean, timed)
    report = validate_dir(timed)
    assert report.ok
    notes = report.warnings[report.warnings["rule"] == "date_time"]
    assert len(notes) == 1 and notes["column"].iat[0] == "start_date" and notes["file"].iat[0] == "workers.csv"
    message = notes["message"].iat[0]
    assert "workers.csv column start_date: 1 date(s)" in message and "first on row 3" in message
    assert "'2021-03-31 23:30'" in message and "read as 2021-03-31" in message


@pytest.mark.parametrize("clock", [" 09:15", "T23:30:00", " 23:59:59.5", "T23:30:00Z", "T00:30:00+01:00"])
def test_every_date_and_month_column_reads_the_day_written_whatever_time_follows(tmp_path, example_copy, clock):
    clean, timed = example_copy(tmp_path, "clean"), example_copy(tmp_path, "timed")
    given = []
    for table, column in DATED:
        if (timed / f"{table}.csv").exists():
            before = _rewrite(timed, table, column, lambda s: s + clock)
            if (before != "").any():
                given.append((f"{table}.csv", column, int((before != "").idxmax()) + 1, int((before != "").sum())))
    assert len(given) >= 12   # every table's date and month columns the example fills
    _same_reading(clean, timed)
    report = validate_dir(timed)
    assert report.ok, report.errors["message"].tolist()[:3]
    notes = report.warnings[report.warnings["rule"] == "date_time"]
    assert sorted(notes[["file", "column"]].itertuples(index=False, name=None)) == sorted((f, c) for f, c, _, _ in given)
    for file, column, first, n in given:
        message = notes.loc[notes["column"].eq(column) & notes["file"].eq(file), "message"].iat[0]
        assert f"{file} column {column}: {n:,} date(s)" in message and f"first on row {first:,}:" in message


def test_a_midnight_time_is_the_date_itself_and_says_nothing(tmp_path, example_copy):
    clean, timed = example_copy(tmp_path, "clean"), example_copy(tmp_path, "timed")
    _rewrite(timed, "workers", "start_date", lambda s: s + " 00:00:00")
    _rewrite(timed, "caseload_history", "month", lambda s: s + "T00:00")
    _same_reading(clean, timed)
    assert validate_dir(timed).failures.empty


def test_parquet_timestamps_with_a_time_are_read_as_their_day_and_kept_in_the_readings(tmp_path, example_copy):
    clean, timed = example_copy(tmp_path, "clean"), example_copy(tmp_path, "timed")
    for data, hours in ((clean, 0), (timed, 23)):
        frame = read_tables(data)["workers"]
        frame["end_date"] = frame["end_date"] + pd.Timedelta(hours=hours, minutes=30 if hours else 0)
        frame.to_parquet(data / "workers.parquet", index=False)
        (data / "workers.csv").unlink()
    pd.testing.assert_frame_equal(read_validated(timed)["workers"], read_validated(clean)["workers"])
    pd.testing.assert_frame_equal(read_tables(timed)["workers"], read_tables(clean)["workers"])
    n_ended = int(read_tables(clean)["workers"]["end_date"].notna().sum())
    _, readings = read_validated_readings(timed)
    kept = [r for r in readings["workers.parquet"] if r["rule"] == "date_time"]
    assert "date_time" in FORGIVING_RULES and len(kept) == 1
    assert f"workers.parquet column end_date: {n_ended:,} date(s)" in kept[0]["message"]
    assert read_validated_readings(clean)[1] == {}
