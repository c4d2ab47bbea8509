"""Out-of-time split of snapshots into training, validation and test windows.

Rule (no label overlap between windows)
---------------------------------------
A snapshot at ``as_of`` carries the label window ``[as_of, as_of + h months)``.
Every training snapshot's label window ends on or before the first validation
``as_of``: ``train_as_of + h <= min(valid_as_of)``; likewise
``valid_as_of + h <= min(test_as_of)``. So there is a gap of at least ``h``
months between the last snapshot of one window and the first of the next, and
nothing the model is trained (or early-stopped/calibrated) on happened during
the period the test window reports on. Snapshot dates in the gaps are unused.

The test window is the last ``test_periods`` snapshot dates (of the labelled,
uncensored ones), the validation window the last ``valid_periods`` dates whose
label windows end by the first test date, and training everything whose label
windows end by the first validation date.

Example
-------
>>> dates = pd.Series(pd.date_range("2020-01-01", periods=49, freq="MS"))
>>> s = out_of_time_split(dates, horizon_months=12)
>>> s.windows["test"], s.windows["valid"], s.windows["train"]
(('2024-01-01', '2024-01-01'), ('2023-01-01', '2023-01-01'), ('2020-01-01', '2022-01-01'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TimeSplit", "out_of_time_split", "check_no_overlap"]


@dataclass(frozen=True)
class TimeSplit:
    """Boolean row masks per window and the inclusive ``as_of`` range of each (``YYYY-MM-DD``)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    windows: dict
    horizon_months: int

    def masks(self) -> dict[str, np.ndarray]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def _window(dates: np.ndarray) -> tuple[str, str]:
    return (pd.Timestamp(dates.min()).strftime("%Y-%m-%d"), pd.Timestamp(dates.max()).strftime("%Y-%m-%d"))


def out_of_time_split(as_of, *, horizon_months: int = 12, valid_periods: int = 1, test_periods: int = 1) -> TimeSplit:
    """Split rows by their snapshot date ``as_of`` following the module's rule.

    Parameters
    ----------
    as_of : Series or array of datetime64
        Snapshot date per row (censored rows should already be removed).
    horizon_months : int
        Label horizon ``h`` (months).
    valid_periods, test_periods : int
        Number of snapshot dates in the validation and test windows.

    Raises
    ------
    ValueError
        When the dates cannot hold three windows separated by ``h`` months (the
        message says how many months of snapshots are needed).
    """
    if horizon_months < 1 or valid_periods < 1 or test_periods < 1:
        raise ValueError("out_of_time_split: horizon_months, valid_periods and test_periods must be >= 1")
    dates = pd.to_datetime(pd.Series(as_of)).to_numpy()
    unique = np.unique(dates)
    h = pd.DateOffset(months=horizon_months)
    need = f"need snapshots spanning at least {2 * horizon_months} months plus the windows themselves"
    if len(unique) < test_periods + valid_periods + 1:
        raise ValueError(f"out_of_time_split: only {len(unique)} snapshot date(s); {need}")
    test_dates = unique[-test_periods:]
    valid_pool = unique[(pd.DatetimeIndex(unique) + h) <= test_dates.min()]
    if len(valid_pool) < valid_periods:
        raise ValueError(f"out_of_time_split: no room for a validation window {horizon_months} months before the test window; {need}")
    valid_dates = valid_pool[-valid_periods:]
    train_dates = unique[(pd.DatetimeIndex(unique) + h) <= valid_dates.min()]
    if len(train_dates) == 0:
        raise ValueError(f"out_of_time_split: no training snapshots {horizon_months} months before the validation window; {need}")
    split = TimeSplit(
        train=np.isin(dates, train_dates),
        valid=np.isin(dates, valid_dates),
        test=np.isin(dates, test_dates),
        windows={"train": _window(train_dates), "valid": _window(valid_dates), "test": _window(test_dates)},
        horizon_months=horizon_months,
    )
    check_no_overlap(dates, split)
    return split


def check_no_overlap(as_of, split: TimeSplit) -> None:
    """Raise ``AssertionError`` if any label window of an earlier split part reaches into a later one."""
    dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(as_of)).to_numpy())
    h = pd.DateOffset(months=split.horizon_months)
    for early, late in (("train", "valid"), ("valid", "test")):
        e, l = split.masks()[early], split.masks()[late]
        if e.any() and l.any() and (dates[e] + h).max() > dates[l].min():
            raise AssertionError(f"split: a {early} label window ends after the first {late} snapshot")
