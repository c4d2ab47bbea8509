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

How much history that takes (:func:`months_needed`): with snapshots every ``f``
months, each gap is ``h`` rounded up to a multiple of ``f``, so the snapshot
dates must span ``2 * ceil(h / f) * f + (valid_periods + test_periods - 2) * f``
months; the data need the months of feature history before the first snapshot
(12 by default) and ``h`` label months after the last one on top. For the
default 12-month horizon with quarterly snapshots that is 12 + 24 + 12 = 48
months (four years); a 6-month horizon needs 12 + 12 + 6 = 30.

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

__all__ = ["TimeSplit", "SplitError", "out_of_time_split", "check_no_overlap", "months_needed"]

# Horizons the label supports (README "How the model works"), longest first: the refusal offers the
# longest that fits the data.
HORIZONS = (12, 6, 3)
DEFAULT_HISTORY_MONTHS = 12


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


class SplitError(ValueError):
    """The snapshot dates cannot hold the three windows; the message says how much data is needed."""


def months_needed(horizon_months: int, *, frequency_months: int = 1, valid_periods: int = 1, test_periods: int = 1,
                  history_months: int = DEFAULT_HISTORY_MONTHS) -> int:
    """Months of data (first caseload month to data end) the split needs (rule in the module docstring).

    >>> months_needed(12, frequency_months=3), months_needed(6, frequency_months=3)
    (48, 30)
    """
    f = max(int(frequency_months), 1)
    gap = -(-horizon_months // f) * f
    return history_months + 2 * gap + (valid_periods + test_periods - 2) * f + horizon_months


def _months(start, end) -> int:
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    return (end.year - start.year) * 12 + end.month - start.month


def _refusal(reason: str, dates: np.ndarray, horizon_months: int, valid_periods: int, test_periods: int,
             frequency_months: int | None, data_span) -> SplitError:
    """The refusal: what is missing, the data's span, the span this configuration needs, and settings that fit."""
    f = frequency_months or 1
    periods = {"valid_periods": valid_periods, "test_periods": test_periods}
    if data_span is None:  # only the snapshot dates are known: say what the snapshot dates must span
        need = months_needed(horizon_months, frequency_months=f, history_months=0, **periods) - horizon_months
        return SplitError(f"{reason}: the snapshot dates must span at least {need} months for a {horizon_months}-month "
                          f"horizon (train, then {horizon_months} months to validation, {horizon_months} more to test)")
    first, end = (pd.Timestamp(d) for d in data_span)
    have = _months(first, end)
    # Feature history before the first snapshot: 12 months by default, or whatever snapshots.start leaves.
    history = max(_months(first, pd.Timestamp(dates.min())), 0) if len(dates) else DEFAULT_HISTORY_MONTHS
    need = months_needed(horizon_months, frequency_months=f, history_months=history, **periods)
    fits = [f"--set label.horizon_months={h}" for h in HORIZONS
            if h < horizon_months and months_needed(h, frequency_months=f, history_months=history, **periods) <= have]
    if valid_periods + test_periods > 2 and months_needed(horizon_months, frequency_months=f, history_months=history) <= have:
        fits.insert(0, "--set split.valid_periods=1 --set split.test_periods=1")
    if f > 1 and months_needed(horizon_months, frequency_months=1, history_months=history, **periods) <= have:
        fits.insert(0, "--set snapshots.frequency_months=1")
    advice = (f"settings that fit these data: {' or '.join(fits)}" if fits else
              "no supported horizon fits these data: a longer extract is needed")
    return SplitError(
        f"{reason}. The data span {have} months ({first:%Y-%m} to {(end - pd.DateOffset(months=1)):%Y-%m}); a "
        f"{horizon_months}-month horizon with snapshots every {f} month(s) needs {need} months: {history} of feature "
        f"history, the training window, {horizon_months} months to the validation window, {horizon_months} more to the "
        f"test window, then {horizon_months} months for the test labels. {advice[0].upper()}{advice[1:]}.")


def _window(dates: np.ndarray) -> tuple[str, str]:
    return (pd.Timestamp(dates.min()).strftime("%Y-%m-%d"), pd.Timestamp(dates.max()).strftime("%Y-%m-%d"))


def out_of_time_split(as_of, *, horizon_months: int = 12, valid_periods: int = 1, test_periods: int = 1,
                      frequency_months: int | None = None, data_span=None) -> TimeSplit:
    """Split rows by their snapshot date ``as_of`` following the module's rule.

    Parameters
    ----------
    as_of : Series or array of datetime64
        Snapshot date per row (censored rows should already be removed).
    horizon_months : int
        Label horizon ``h`` (months).
    valid_periods, test_periods : int
        Number of snapshot dates in the validation and test windows.
    frequency_months, data_span : optional
        Months between snapshot dates, and ``(first month, data end)`` of the data the
        snapshots were taken from; used only to word a refusal (the data's span, the span
        needed, the ``--set`` options that fit).

    Raises
    ------
    SplitError
        (a ``ValueError``) When the dates cannot hold three windows separated by ``h``
        months; the message says how many months are needed and which settings fit.
    """
    if horizon_months < 1 or valid_periods < 1 or test_periods < 1:
        raise SplitError("out-of-time split: horizon_months, valid_periods and test_periods must be >= 1")
    dates = pd.to_datetime(pd.Series(as_of)).to_numpy()
    unique = np.unique(dates)
    h = pd.DateOffset(months=horizon_months)
    refuse = lambda reason: _refusal(reason, unique, horizon_months, valid_periods, test_periods, frequency_months, data_span)  # noqa: E731
    if len(unique) < test_periods + valid_periods + 1:
        raise refuse(f"only {len(unique)} snapshot date(s), too few for a training, a validation and a test window")
    test_dates = unique[-test_periods:]
    valid_pool = unique[(pd.DatetimeIndex(unique) + h) <= test_dates.min()]
    if len(valid_pool) < valid_periods:
        raise refuse(f"no room for a validation window {horizon_months} months before the test window")
    valid_dates = valid_pool[-valid_periods:]
    train_dates = unique[(pd.DatetimeIndex(unique) + h) <= valid_dates.min()]
    if len(train_dates) == 0:
        raise refuse(f"no training snapshots {horizon_months} months before the validation window")
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
