"""A split the data are too short for: the refusal names the data's span, the span needed and the settings that fit."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from retention_ml.cli import app
from retention_ml.split import SplitError, months_needed, out_of_time_split

REPO = Path(__file__).resolve().parents[2]


def dates_as_training_builds_them(first: str, end: str, horizon: int, freq: int = 3) -> pd.Series:
    """Snapshot dates as training.snapshot_dates makes them: 12 months after the first month to data end - horizon."""
    start = pd.Timestamp(first) + pd.DateOffset(months=12)
    return pd.Series(pd.date_range(start, pd.Timestamp(end) - pd.DateOffset(months=horizon), freq=f"{freq}MS"))


def test_months_needed_follows_the_gap_rule():
    assert months_needed(12, frequency_months=3) == 48          # 12 history + 12 + 12 + 12 label months
    assert months_needed(6, frequency_months=3) == 30
    assert months_needed(12, frequency_months=3, valid_periods=2, test_periods=2) == 54
    assert months_needed(4, frequency_months=3) == 12 + 2 * 6 + 4  # a gap of 4 months is 6 on a quarterly grid


def test_three_years_and_a_12_month_horizon_is_refused_with_the_span_and_a_setting_that_fits():
    span = ("2022-01-01", "2025-01-01")   # 36 months of caseload, as a small council's 3-year extract
    with pytest.raises(SplitError) as info:
        out_of_time_split(dates_as_training_builds_them(*span, 12), horizon_months=12, frequency_months=3, data_span=span)
    text = str(info.value)
    assert "The data span 36 months (2022-01 to 2024-12)" in text
    assert "needs 48 months" in text
    assert "--set label.horizon_months=6" in text and "out_of_time_split" not in text
    # The setting offered works on the same data.
    split = out_of_time_split(dates_as_training_builds_them(*span, 6), horizon_months=6, frequency_months=3, data_span=span)
    assert split.test.any() and split.train.any()


def test_data_too_short_for_any_horizon_says_a_longer_extract_is_needed():
    span = ("2024-01-01", "2025-07-01")   # 18 months
    with pytest.raises(SplitError, match="No supported horizon fits these data: a longer extract is needed"):
        out_of_time_split(pd.Series(pd.to_datetime(["2025-01-01", "2025-04-01"])), horizon_months=3,
                          frequency_months=3, data_span=span)


def test_train_prints_the_refusal_as_could_not_run_without_an_internal_name(mlflow_store):
    runner = CliRunner()
    data = mlflow_store / "small"
    made = runner.invoke(app, ["simulate", "--out", str(data), "--councils", "1", "--months", "36", "--start", "2022-01",
                               "--seed", "3"])
    assert made.exit_code == 0, made.output
    res = runner.invoke(app, ["train", str(REPO / "experiments" / "council_default.toml"), "--set", f"data.path='{data}'",
                              "--json"])
    assert res.exit_code == 2, res.output
    error = json.loads(res.stdout)["error"]
    assert "ValueError" not in error and "out_of_time_split" not in error
    assert "The data span 36 months" in error and "--set label.horizon_months=6" in error


def test_a_snapshot_start_before_the_data_begin_is_refused_naming_the_key():
    # Analyst review S12 F3: --set snapshots.start=2015-01-01 on data from 2019-01 trained on 8,639 rows instead of
    # 595: snapshots with no feature history, holding only people still in post in 2019 (none of whom left earlier).
    from retention_ml.training import snapshot_dates

    tables = {"caseload_history": pd.DataFrame({"month": pd.date_range("2019-01-01", "2022-12-01", freq="MS")})}
    exp = {"source": "my.toml", "label": {"horizon_months": 12}, "snapshots": {"frequency_months": 3}}
    assert snapshot_dates(tables, exp)[0] == pd.Timestamp("2020-01-01")   # the default: a year of history
    with pytest.raises(ValueError, match=r"my.toml: key 'snapshots.start' is 2015-01-01, before the data begin "
                                         r"\(2019-01-01.*start on or after 2019-01-01"):
        snapshot_dates(tables, {**exp, "snapshots": {"frequency_months": 3, "start": "2015-01-01"}})
    # the first month of the data is allowed (less history, the analyst's choice), and so is any day in it
    for start in ("2019-01-01", "2019-01-15"):
        assert snapshot_dates(tables, {**exp, "snapshots": {"frequency_months": 3, "start": start}})[0] == pd.Timestamp("2019-01-01")
