"""Point-in-time join helpers: the only place features look at time.

Every helper answers "what was known strictly before ``as_of``":

* monthly rows (``month`` = first day of the month they describe) are usable iff ``month < as_of``;
* dated events are usable iff ``date < as_of``.

All helpers are vectorised over every (key, as_of) pair at once (``merge_asof`` / cumulative sums on a
contiguous month grid); none loops over workers in Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ns(values) -> np.ndarray:
    """Datetimes as datetime64[ns] (pandas 3 may hand us other resolutions; merge_asof needs one)."""
    return pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[ns]")


def month_index(dates: pd.Series) -> np.ndarray:
    """Integer month number (year * 12 + month - 1) of each date; NaT -> a very small number."""
    d = pd.to_datetime(dates)
    out = (d.dt.year * 12 + d.dt.month - 1).to_numpy(dtype="float64")
    return out


def last_known_month(as_of: pd.Series) -> np.ndarray:
    """Index of the last month whose row is usable at ``as_of`` (month < as_of).

    For ``as_of`` on the 1st this is the previous month; for mid-month ``as_of`` the previous month
    too, because the current month's row is not complete until the next month starts.
    """
    return month_index(as_of) - 1


def asof_last(queries: pd.DataFrame, events: pd.DataFrame, *, by: str, on: str, cols: list[str],
              query_on: str = "as_of") -> pd.DataFrame:
    """Latest event strictly before each query date (``events[on] < queries[query_on]``).

    Returns a frame aligned to ``queries`` (same index) holding ``cols`` and ``<on>`` of the matched event
    (NaN / NaT when none).
    """
    q = pd.DataFrame({by: queries[by].to_numpy(), "_t": ns(queries[query_on]),
                      "_pos": np.arange(len(queries))})
    q = q[q["_t"].notna()].sort_values("_t", kind="stable")
    ev = events[[by, on, *cols]].dropna(subset=[on]).rename(columns={on: "_ev_t"})
    ev = ev.assign(_t=ns(ev["_ev_t"]), _ev_t=ns(ev["_ev_t"])).sort_values("_t", kind="stable")
    ev[by] = ev[by].astype(object)
    q[by] = q[by].astype(object)
    m = pd.merge_asof(q, ev, on="_t", by=by, allow_exact_matches=False, direction="backward")
    m = m.sort_values("_pos")
    out = pd.DataFrame({c: pd.Series(np.nan, index=queries.index, dtype="float64") for c in cols})
    out[on] = pd.Series(pd.NaT, index=queries.index, dtype="datetime64[ns]")
    idx = queries.index[m["_pos"].to_numpy()]
    for c in cols:
        out.loc[idx, c] = m[c].to_numpy(dtype="float64", na_value=np.nan)
    out.loc[idx, on] = m["_ev_t"].to_numpy()
    return out


def count_before(queries: pd.DataFrame, events: pd.DataFrame, *, by: str, on: str, query_dates: pd.Series,
                 weight: str | None = None) -> np.ndarray:
    """Number (or weighted sum) of events per ``by`` key dated strictly before each query date."""
    ev = events[[by, on] + ([weight] if weight else [])].dropna(subset=[on]).copy()
    ev["_w"] = ev[weight].astype("float64") if weight else 1.0
    ev = ev.sort_values([by, on], kind="stable")
    ev["_cum"] = ev.groupby(by, sort=False)["_w"].cumsum()
    ev = ev.rename(columns={on: "_t"})[[by, "_t", "_cum"]]
    ev["_t"] = ns(ev["_t"])
    ev = ev.sort_values("_t", kind="stable")
    q = pd.DataFrame({by: queries[by].to_numpy(), "_t": ns(query_dates),
                      "_pos": np.arange(len(queries))}).sort_values("_t", kind="stable")
    ev[by] = ev[by].astype(object)
    q[by] = q[by].astype(object)
    m = pd.merge_asof(q, ev, on="_t", by=by, allow_exact_matches=False, direction="backward")
    res = np.zeros(len(queries))
    res[m["_pos"].to_numpy()] = m["_cum"].fillna(0.0).to_numpy(dtype="float64")
    return res


class MonthGrid:
    """Monthly rows of one table laid on a contiguous per-key month grid, for rolling windows.

    The grid for a key runs from its first row's month to the later of its last row and the last month
    needed by the queries, so a fixed-size row window on the grid is exactly a calendar-month window.
    Months without a row are NaN (never invented). Windows end at the last month usable at as_of.
    """

    def __init__(self, rows: pd.DataFrame, *, by: str, month: str, cols: list[str], queries: pd.DataFrame):
        r = rows[[by, month, *cols]].dropna(subset=[month]).copy()
        r["_m"] = month_index(r[month]).astype("int64")
        r = r.drop(columns=[month]).drop_duplicates([by, "_m"], keep="last")
        q_last = pd.DataFrame({by: queries[by].to_numpy(), "_m": last_known_month(queries["as_of"])})
        first = r.groupby(by)["_m"].min()
        last = pd.concat([r.groupby(by)["_m"].max(), q_last.groupby(by)["_m"].max()], axis=1).max(axis=1)
        last = last.reindex(first.index).astype("int64")
        n = (last - first + 1).clip(lower=1).to_numpy()
        keys = np.repeat(first.index.to_numpy(dtype=object), n)
        starts = np.repeat(first.to_numpy(), n)
        offs = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        grid = pd.DataFrame({by: keys, "_m": starts + offs})
        r[by] = r[by].astype(object)
        self.grid = grid.merge(r, on=[by, "_m"], how="left")
        for c in cols:
            self.grid[c] = self.grid[c].astype("float64")
        self.by = by
        self._queries = q_last
        self._group_start = np.repeat(np.cumsum(n) - n, n)

    def _window_sum(self, v: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count of non-NaN values in the ``window`` grid rows ending at each row (same key only).

        Cumulative sums over the contiguous grid replace a per-key rolling loop.
        """
        idx = np.arange(len(v))
        lo = np.maximum(idx - window, self._group_start - 1) + 1   # first row index inside the window
        ok = ~np.isnan(v)
        cs = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
        cn = np.concatenate([[0], np.cumsum(ok)])
        return cs[idx + 1] - cs[lo], cn[idx + 1] - cn[lo]

    def rolling(self, col: str, window: int, how: str) -> np.ndarray:
        """Rolling ``how`` (mean/max/sum/slope/last) of ``col`` over the ``window`` months before as_of.

        Months without a row are skipped; a window with no row at all gives NaN.
        """
        v = self.grid[col].to_numpy(dtype="float64")
        if how == "last":
            vals = v
        elif how == "slope":
            vals = self._slope(v, window)
        elif how in ("sum", "mean"):
            s, n = self._window_sum(v, window)
            with np.errstate(invalid="ignore", divide="ignore"):
                vals = np.where(n > 0, s if how == "sum" else s / np.maximum(n, 1), np.nan)
        elif how == "max":
            vals = v.copy()
            idx = np.arange(len(v))
            for o in range(1, window):
                sh = np.full(len(v), np.nan)
                sh[o:] = v[:-o]
                sh[idx - o < self._group_start] = np.nan
                vals = np.fmax(vals, sh)
        else:
            raise ValueError(f"MonthGrid.rolling: unknown how={how!r}")
        return self._at_queries(vals)

    def rolling_shift(self, col: str, months: int) -> np.ndarray:
        """Value ``months`` months before the last usable month (NaN when that month has no row)."""
        v = self.grid[col].to_numpy(dtype="float64")
        sh = np.full(len(v), np.nan)
        sh[months:] = v[:-months]
        sh[np.arange(len(v)) - months < self._group_start] = np.nan
        return self._at_queries(sh)

    def _slope(self, y: np.ndarray, window: int) -> np.ndarray:
        # least-squares slope on x = grid position within the window; NaN months are skipped
        x = np.arange(len(y), dtype="float64") - self._group_start
        ok = ~np.isnan(y)
        n = self._window_sum(np.where(ok, 1.0, np.nan), window)[0]
        sx = self._window_sum(np.where(ok, x, np.nan), window)[0]
        sy = self._window_sum(y, window)[0]
        sxy = self._window_sum(x * y, window)[0]
        sxx = self._window_sum(np.where(ok, x * x, np.nan), window)[0]
        den = n * sxx - sx ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((n >= 2) & (den > 0), (n * sxy - sx * sy) / den, np.nan)

    def _at_queries(self, vals: np.ndarray) -> np.ndarray:
        # one integer key per (key, month) instead of a two-column object merge: much faster at national size
        if not hasattr(self, "_pos"):
            keys = pd.Index(pd.unique(self.grid[self.by].to_numpy()))
            g_code = keys.get_indexer(self.grid[self.by].to_numpy()).astype("int64")
            q_code = keys.get_indexer(self._queries[self.by].astype(object).to_numpy()).astype("int64")
            g_key = g_code * 100_000 + self.grid["_m"].to_numpy(dtype="int64")
            q_m = np.nan_to_num(self._queries["_m"].to_numpy(dtype="float64"), nan=-1).astype("int64")
            q_key = np.where((q_code >= 0) & (q_m >= 0), q_code * 100_000 + q_m, -1)
            self._pos = pd.Index(g_key).get_indexer(q_key)
        out = np.full(len(self._pos), np.nan)
        hit = self._pos >= 0
        out[hit] = vals[self._pos[hit]]
        return out
