"""Out-of-time split: no training label window reaches into validation, none of validation into test."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.split import TimeSplit, check_no_overlap, out_of_time_split


def snapshots(months: int, freq: int = 1, per_date: int = 3) -> pd.Series:
    dates = pd.date_range("2019-01-01", periods=months, freq=f"{freq}MS")
    return pd.Series(np.repeat(dates, per_date))


@pytest.mark.parametrize("horizon", [3, 6, 12])
@pytest.mark.parametrize("freq", [1, 3])
def test_gap_of_horizon_between_windows(horizon, freq):
    as_of = snapshots(60 // freq, freq)
    s = out_of_time_split(as_of, horizon_months=horizon, valid_periods=2, test_periods=2)
    d = pd.DatetimeIndex(as_of)
    h = pd.DateOffset(months=horizon)
    assert (d[s.train] + h).max() <= d[s.valid].min()
    assert (d[s.valid] + h).max() <= d[s.test].min()
    assert not (s.train & s.valid).any() and not (s.valid & s.test).any()
    assert d[s.test].nunique() == 2 and d[s.valid].nunique() == 2
    # The windows are as late as the rule allows: the next date after train would overlap validation.
    later = d[(d > d[s.train].max())].min()
    assert later + h > d[s.valid].min()


def test_windows_are_reported_inclusive():
    s = out_of_time_split(snapshots(49), horizon_months=12)
    assert s.windows == {"train": ("2019-01-01", "2021-01-01"), "valid": ("2022-01-01", "2022-01-01"), "test": ("2023-01-01", "2023-01-01")}


def test_too_short_history_is_an_error_that_says_what_is_needed():
    with pytest.raises(ValueError, match="24 months"):
        out_of_time_split(snapshots(20), horizon_months=12)


def test_overlap_checker_catches_a_bad_split():
    as_of = snapshots(30)
    d = pd.DatetimeIndex(as_of)
    bad = TimeSplit(train=np.asarray(d < "2020-06-01"), valid=np.asarray((d >= "2020-06-01") & (d < "2021-01-01")),
                    test=np.asarray(d >= "2021-06-01"), windows={}, horizon_months=12)
    with pytest.raises(AssertionError, match="train label window"):
        check_no_overlap(as_of, bad)
