"""Snapshots: one row per (worker, as_of) for every worker in post on that date."""

from __future__ import annotations

import numpy as np
import pandas as pd


def month_starts(start, end) -> pd.DatetimeIndex:
    """First days of every month from ``start`` to ``end`` inclusive (monthly snapshot dates)."""
    return pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), pd.Timestamp(end), freq="MS")


def make_snapshots(workers: pd.DataFrame, as_of_dates) -> pd.DataFrame:
    """Workers in post at each as_of: ``start_date < as_of`` and (``end_date`` null or ``end_date >= as_of``).

    Vectorised with ``searchsorted`` over the sorted dates (no worker x date cartesian product).

    Parameters
    ----------
    workers : DataFrame
        ``workers`` table (worker_id, team_id, start_date, end_date).
    as_of_dates : sequence of dates

    Returns
    -------
    DataFrame with columns worker_id, as_of, team_id, sorted by as_of then worker_id.

    Examples
    --------
    >>> make_snapshots(tables["workers"], month_starts("2022-01", "2022-12"))  # doctest: +SKIP
    """
    dates = np.unique(pd.to_datetime(pd.Index(as_of_dates)).to_numpy(dtype="datetime64[ns]"))
    if len(dates) and np.isnat(dates).any():
        raise ValueError("as_of_dates: contains a missing date (rule: every snapshot date must be a date)")
    start = pd.to_datetime(workers["start_date"]).to_numpy(dtype="datetime64[ns]")
    end = pd.to_datetime(workers["end_date"]).to_numpy(dtype="datetime64[ns]")
    first = np.searchsorted(dates, start, side="right")            # first date > start
    last = np.where(np.isnat(end), len(dates), np.searchsorted(dates, end, side="right"))  # dates <= end
    first = np.where(np.isnat(start), len(dates), first)
    n = np.clip(last - first, 0, None)
    rows = np.repeat(np.arange(len(workers)), n)
    offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    idx = np.repeat(first, n) + offs
    out = pd.DataFrame({
        "worker_id": workers["worker_id"].to_numpy(dtype=object)[rows],
        "as_of": dates[idx],
        "team_id": workers["team_id"].to_numpy(dtype=object)[rows],
    })
    return out.sort_values(["as_of", "worker_id"], kind="stable").reset_index(drop=True)
