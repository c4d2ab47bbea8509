"""Reading typed tables and writing files atomically."""

import pandas as pd
import pytest

from retention_ml.io import atomic_path, coerce_types, find_table_file, read_tables, write_table
from retention_ml.schema import load_schemas

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "data_schema" / "examples" / "council_small"


def test_read_tables_types_columns_per_schema():
    frames = read_tables(EXAMPLE)
    assert set(frames) == set(load_schemas())
    w = frames["workers"]
    assert w["start_date"].dtype == "datetime64[ns]" and w["end_date"].isna().any()
    assert w["asye"].dtype == "boolean" and w["fte"].dtype == "float64"
    c = frames["caseload_history"]
    assert c["open_cases"].dtype == "int64"
    assert (c["month"].dt.day == 1).all()
    assert frames["pay_history"]["spinal_point"].dtype == "Int64"  # nullable: agency rows have none


def test_months_written_as_year_month_are_normalised(tmp_path):
    frame = pd.DataFrame({"area": ["a", "a"], "period": ["2024-03", "2024-04-01"], "median_monthly_rent": ["900", "910"], "median_house_price": ["2e5", "201000"]})
    out = coerce_types(frame, load_schemas()["housing_costs"])
    assert out["period"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01")]
    assert out["median_house_price"].tolist() == [200000.0, 201000.0]


def test_csv_with_byte_order_mark_reads_the_first_column(tmp_path):
    body = (EXAMPLE / "teams.csv").read_bytes()
    (tmp_path / "teams.csv").write_bytes(b"\xef\xbb\xbf" + body)
    teams = read_tables(tmp_path, ["teams"])["teams"]
    assert teams.columns[0] == "team_id" and len(teams) == 3


def test_parquet_preferred_and_round_trips(tmp_path):
    frames = read_tables(EXAMPLE, ["workers"])
    write_table(frames["workers"], tmp_path / "workers.parquet")
    (tmp_path / "workers.csv").write_text("garbage", encoding="utf-8")
    assert find_table_file(tmp_path, "workers").suffix == ".parquet"
    back = read_tables(tmp_path, ["workers"])["workers"]
    pd.testing.assert_frame_equal(back, frames["workers"], check_dtype=False)


def test_missing_required_table_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="workers"):
        read_tables(tmp_path, ["workers"])
    assert read_tables(tmp_path, ["absence"]) == {}  # optional tables may be absent


def test_write_table_csv_writes_iso_dates(tmp_path):
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-01-05"]), "x": [1]})
    path = write_table(frame, tmp_path / "out" / "t.csv")
    assert path.read_text(encoding="utf-8") == "d,x\n2024-01-05,1\n"


def test_atomic_path_leaves_no_partial_file_on_error(tmp_path):
    target = tmp_path / "scores.csv"
    target.write_text("old complete content\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half writ", encoding="utf-8")
            raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old complete content\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_table_failure_keeps_previous_file(tmp_path):
    target = tmp_path / "t.parquet"
    write_table(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(Exception):
        write_table(pd.DataFrame({"a": [object()]}), target)  # pyarrow cannot store a bare object
    assert pd.read_parquet(target)["a"].tolist() == [1]
    assert list(tmp_path.iterdir()) == [target]


def test_to_float_parses_text_and_reports_or_coerces_bad_values():
    from retention_ml.io import to_float

    text = pd.Series(["1", "2.5", None, "1e3"], dtype="string")
    assert to_float(text).tolist()[:2] == [1.0, 2.5] and to_float(text).isna().tolist() == [False, False, True, False]
    bad = pd.Series(["1", "x"], dtype="string")
    with pytest.raises(ValueError):
        to_float(bad)
    assert to_float(bad, errors="coerce").isna().tolist() == [False, True]


def test_every_boolean_word_validation_accepts_is_read_not_lost(tmp_path):
    # Y/N and T/F once passed validation and were then read as missing, silently dropping labels.
    import shutil

    from retention_ml.validation import validate_dir

    shutil.copytree(EXAMPLE, tmp_path / "d", ignore=shutil.ignore_patterns("*.py", "*.md"))
    workers = pd.read_csv(tmp_path / "d" / "workers.csv", dtype=str, keep_default_na=False)
    words = ["Y", "N", "y", "n", "T", "F", "t", "f", "Yes", "NO", "TRUE", "false", "1", "0"]
    want = [True, False] * 7
    workers["asye"] = words
    workers.to_csv(tmp_path / "d" / "workers.csv", index=False)
    assert validate_dir(tmp_path / "d").ok
    got = read_tables(tmp_path / "d", ["workers"])["workers"]["asye"]
    assert got.tolist() == want


def test_a_boolean_word_outside_the_vocabulary_fails_validation(tmp_path):
    import shutil

    from retention_ml.validation import validate_dir

    shutil.copytree(EXAMPLE, tmp_path / "d", ignore=shutil.ignore_patterns("*.py", "*.md"))
    workers = pd.read_csv(tmp_path / "d" / "workers.csv", dtype=str, keep_default_na=False)
    workers.loc[2, "asye"] = "oui"
    workers.to_csv(tmp_path / "d" / "workers.csv", index=False)
    errors = validate_dir(tmp_path / "d").errors
    assert errors[["row", "column", "rule"]].values.tolist() == [[3, "asye", "type"]]


def test_written_files_get_the_permissions_of_a_plain_new_file(tmp_path):
    # mkstemp's private 0600 must not survive the move: lists are shared with the people who read them.
    import os

    from retention_ml.io import staged_files

    old = os.umask(0o022)   # a usual umask, so a plain new file (0644) differs from mkstemp's 0600
    try:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        with staged_files() as stage:
            stage.path(tmp_path / "s.json").write_text("{}")
    finally:
        os.umask(old)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o644


def test_parquet_dates_with_a_time_zone_are_read_as_their_local_dates(tmp_path):
    # Validation accepted them; reading crashed train and score ("Cannot use .astype ... timezone-aware").
    from retention_ml.validation import validate_dir

    workers = read_tables(EXAMPLE, ["workers"])["workers"]
    aware = workers.assign(**{c: workers[c].dt.tz_localize("Europe/London") for c in ("start_date", "end_date", "qualified_date")})
    data = tmp_path / "data"
    data.mkdir()
    for f in EXAMPLE.glob("*.csv"):
        (data / f.name).write_bytes(f.read_bytes())
    (data / "workers.csv").unlink()
    aware.to_parquet(data / "workers.parquet")
    assert validate_dir(data).ok
    back = read_tables(data, ["workers"])["workers"]
    assert back["start_date"].dtype == "datetime64[ns]"
    # Midnight in British Summer Time stays the same day (in UTC it would be the day before).
    pd.testing.assert_series_equal(back["start_date"], workers["start_date"])
