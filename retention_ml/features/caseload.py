"""Caseload family: open cases, their history against the team's cap, mix and new allocations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup
from retention_ml.features._pit import MonthGrid, encode, last_known_month, month_index, sorted_keys
from retention_ml.features.fte_history import FteValues
from retention_ml.features.team_history import TeamValues, month_after

D = "caseload_workload"


class CaseloadFeatures(FeatureFamily):
    """Caseload features from ``caseload_history`` (monthly; month < as_of) and ``teams.caseload_cap``.

    The cap is the one in force at the time (``team_history`` when given): at as_of for ``caseload_cap`` and
    ``caseload_to_cap``, at the end of each month for the months over the cap. So are the contracted hours that
    pro-rate it (``fte_history`` when given, else ``workers.fte``).

    Examples
    --------
    >>> CaseloadFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "caseload"
    required_tables = ("caseload_history", "workers", "teams")
    specs = (
        FeatureSpec("caseload_current", "Open cases at the end of the last complete month", "cases", D, direction=1),
        FeatureSpec("caseload_mean_3m", "Mean open cases over the last 3 complete months", "cases", D, direction=1),
        FeatureSpec("caseload_mean_6m", "Mean open cases over the last 6 complete months", "cases", D, direction=1),
        FeatureSpec("caseload_mean_12m", "Mean open cases over the last 12 complete months", "cases", D, direction=1),
        FeatureSpec("caseload_max_12m", "Highest month-end open cases in the last 12 months", "cases", D, direction=1),
        # Only a rising caseload may raise risk. Undirected, a falling one did too, worded as a caseload reason with
        # the lever "reallocate cases"; and in real extracts cases fall when they are handed over in a notice
        # period, so the model would learn to find people who have already resigned.
        FeatureSpec("caseload_trend_6m", "Least-squares slope of open cases over the last 6 months", "cases/month", D,
                    direction=1),
        FeatureSpec("caseload_cap", "Caseload cap of the worker's team (per full-time worker)", "cases", D),
        FeatureSpec("caseload_to_cap", "Open cases at the end of the last complete month / (team cap x FTE)", "ratio", D, direction=1),
        FeatureSpec("caseload_over_cap_months_6m", "Months above the pro-rata cap (team cap x FTE) in the last 6 months",
                    "months", D, direction=1),
        FeatureSpec("caseload_over_cap_months_12m", "Months above the pro-rata cap (team cap x FTE) in the last 12 months",
                    "months", D, direction=1),
        FeatureSpec("caseload_cp_share", "Share of open cases on a child protection plan (last month)", "fraction", D),
        FeatureSpec("caseload_court_share", "Share of open cases in court proceedings (last month)", "fraction", D),
        FeatureSpec("caseload_new_allocations_3m", "New cases allocated in the last 3 months", "cases", D),
        FeatureSpec("caseload_vs_team_mean", "Open cases / mean open cases of the team's staff same month", "ratio", D,
                    direction=1),
    )

    def _compute(self, X):
        ch = self.tables_["caseload_history"]
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        team_book = sorted_keys(wl.W["team_id"])
        team_of_worker = encode(wl.W["team_id"], team_book)                    # per workers row
        tv = TeamValues(self.tables_, team_book)
        team = wl.at(team_of_worker, -1)
        cap = tv.at("caseload_cap", team, X["as_of"])                          # the cap in force at as_of
        cols = ["open_cases", "child_protection_cases", "court_cases", "new_allocations"]
        g = MonthGrid(ch, by="worker_id", month="month", cols=cols, queries=X)
        # months over the pro-rata cap, on the grid: a cap is per full-time post, so a 0.6 FTE worker
        # with a team cap of 20 is over it above 12 cases
        # with the cap in force in each month (team_history), not today's
        key_rows = _w_rows(wl, g.keys)
        key_team = _take(np.append(team_of_worker, -1), key_rows)
        # only in the months the over-cap windows read (12 before each query; every month for a training build):
        # a scoring date's 12 months per person, not each person's whole history
        read = g.slots_read(12)
        slots = slice(None) if read is None else read
        slot_code = g.key_code[slots]
        slot_team = key_team[slot_code]
        slot_cap = tv.at("caseload_cap", slot_team, lambda: month_after(g.slot_months()[slots]))
        # ... and the hours in force in each month (fte_history): a cut from 1.0 to 0.6 lowers only later months' cap
        fv = FteValues(self.tables_, wl)
        slot_cap = slot_cap * fv.at(key_rows[slot_code], lambda: month_after(g.slot_months()[slots]))
        open_g = g.grid["open_cases"][slots]
        over = np.full(len(g.key_code), np.nan)
        with np.errstate(invalid="ignore"):
            over[slots] = np.where(~np.isnan(open_g), (open_g > slot_cap).astype("float64"), np.nan)
        g.grid["over"] = over
        out = pd.DataFrame(index=np.arange(len(X)))
        cur = g.rolling("open_cases", 1, "last")
        out["caseload_current"] = cur
        for k in (3, 6, 12):
            out[f"caseload_mean_{k}m"] = g.rolling("open_cases", k, "mean")
        out["caseload_max_12m"] = g.rolling("open_cases", 12, "max")
        out["caseload_trend_6m"] = g.rolling("open_cases", 6, "slope")
        out["caseload_cap"] = cap
        with np.errstate(invalid="ignore", divide="ignore"):
            pro_rata = cap * fv.at(wl.codes, X["as_of"])                   # the hours in force at as_of
            out["caseload_to_cap"] = np.where(pro_rata > 0, cur / pro_rata, np.nan)
        out["caseload_over_cap_months_6m"] = g.rolling("over", 6, "sum")
        out["caseload_over_cap_months_12m"] = g.rolling("over", 12, "sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["caseload_cp_share"] = np.where(cur > 0, g.rolling("child_protection_cases", 1, "last") / cur,
                                                np.where(cur == 0, 0.0, np.nan))
            out["caseload_court_share"] = np.where(cur > 0, g.rolling("court_cases", 1, "last") / cur,
                                                   np.where(cur == 0, 0.0, np.nan))
        out["caseload_new_allocations_3m"] = g.rolling("new_allocations", 3, "sum")
        row_team = _take(key_team, g.row_code)          # team of every caseload row, through its grid key
        out["caseload_vs_team_mean"] = self._vs_team(ch, row_team, team, X["as_of"], cur)
        return out

    @staticmethod
    def _vs_team(rows, row_team, team, as_of, cur):
        # mean open cases of the team's rows in the same (last complete) month: known at as_of.
        # (team code, month) as one integer key; the groupby sees rows in the same order as before.
        m = month_index(rows["month"])
        ok = (row_team >= 0) & ~np.isnan(m)
        key = row_team[ok] * _MONTHS + m[ok].astype("int64")
        tm = pd.Series(rows["open_cases"].to_numpy(dtype="float64")[ok]).groupby(key, sort=False).mean()
        qm = last_known_month(as_of)
        qok = (team >= 0) & ~np.isnan(qm)
        qkey = np.where(qok, team * _MONTHS + np.nan_to_num(qm).astype("int64"), -1)
        pos = tm.index.get_indexer(qkey)
        mean = np.where(pos >= 0, tm.to_numpy()[np.maximum(pos, 0)], np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(mean > 0, cur / mean, np.nan)


_MONTHS = 1_000_000   # > any month index (year * 12 + month), so team * _MONTHS + month is unique


def _take(per_code: np.ndarray, codes: np.ndarray):
    """per_code[codes] with -1 -> NaN (float) or -1 (int)."""
    fill = -1 if per_code.dtype.kind in "iu" else np.nan
    out = per_code[np.maximum(codes, 0)]
    return np.where(codes >= 0, out, fill)


def _w_rows(wl: WorkerLookup, ids) -> np.ndarray:
    """workers-table row of each id (-1 when absent, i.e. the appended -1 slot)."""
    c = wl.event_codes(ids)
    return np.where((c >= 0) & (c < wl.n_workers), c, -1)
