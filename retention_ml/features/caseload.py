"""Caseload family: open cases, their history against the team's cap, mix and new allocations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, snapshot_frame
from retention_ml.features._pit import MonthGrid, last_known_month, month_index

D = "caseload_workload"


class CaseloadFeatures(FeatureFamily):
    """Caseload features from ``caseload_history`` (monthly; month < as_of) and ``teams.caseload_cap``.

    Examples
    --------
    >>> CaseloadFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "caseload"
    required_tables = ("caseload_history", "workers", "teams")
    specs = (
        FeatureSpec("caseload_current", "Open cases at the end of the last complete month", "cases", D),
        FeatureSpec("caseload_mean_3m", "Mean open cases over the last 3 complete months", "cases", D),
        FeatureSpec("caseload_mean_6m", "Mean open cases over the last 6 complete months", "cases", D),
        FeatureSpec("caseload_mean_12m", "Mean open cases over the last 12 complete months", "cases", D),
        FeatureSpec("caseload_max_12m", "Highest month-end open cases in the last 12 months", "cases", D),
        FeatureSpec("caseload_trend_6m", "Least-squares slope of open cases over the last 6 months", "cases/month", D),
        FeatureSpec("caseload_cap", "Caseload cap of the worker's team", "cases", D),
        FeatureSpec("caseload_over_cap_months_6m", "Months above the team cap in the last 6 months", "months", D),
        FeatureSpec("caseload_over_cap_months_12m", "Months above the team cap in the last 12 months", "months", D),
        FeatureSpec("caseload_cp_share", "Share of open cases on a child protection plan (last month)", "fraction", D),
        FeatureSpec("caseload_court_share", "Share of open cases in court proceedings (last month)", "fraction", D),
        FeatureSpec("caseload_new_allocations_3m", "New cases allocated in the last 3 months", "cases", D),
        FeatureSpec("caseload_vs_team_mean", "Open cases / mean open cases of the team's staff same month", "ratio", D),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        ch = self.tables["caseload_history"]
        workers, teams = self.tables["workers"], self.tables["teams"]
        team = s["worker_id"].map(workers.set_index("worker_id")["team_id"])
        cap = team.map(teams.set_index("team_id")["caseload_cap"]).astype("float64")
        rows = ch.copy()
        rows["cap"] = rows["worker_id"].map(workers.set_index("worker_id")["team_id"]).map(
            teams.set_index("team_id")["caseload_cap"]).astype("float64")
        rows["over"] = np.where(rows["open_cases"].notna(), (rows["open_cases"] > rows["cap"]).astype("float64"), np.nan)
        cols = ["open_cases", "child_protection_cases", "court_cases", "new_allocations", "over"]
        g = MonthGrid(rows, by="worker_id", month="month", cols=cols, queries=s)
        out = pd.DataFrame(index=s.index)
        cur = g.rolling("open_cases", 1, "last")
        out["caseload_current"] = cur
        for k in (3, 6, 12):
            out[f"caseload_mean_{k}m"] = g.rolling("open_cases", k, "mean")
        out["caseload_max_12m"] = g.rolling("open_cases", 12, "max")
        out["caseload_trend_6m"] = g.rolling("open_cases", 6, "slope")
        out["caseload_cap"] = cap.to_numpy()
        out["caseload_over_cap_months_6m"] = g.rolling("over", 6, "sum")
        out["caseload_over_cap_months_12m"] = g.rolling("over", 12, "sum")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["caseload_cp_share"] = np.where(cur > 0, g.rolling("child_protection_cases", 1, "last") / cur,
                                                np.where(cur == 0, 0.0, np.nan))
            out["caseload_court_share"] = np.where(cur > 0, g.rolling("court_cases", 1, "last") / cur,
                                                   np.where(cur == 0, 0.0, np.nan))
        out["caseload_new_allocations_3m"] = g.rolling("new_allocations", 3, "sum")
        out["caseload_vs_team_mean"] = self._vs_team(rows, team, s, cur)
        return out

    def _vs_team(self, rows, team, s, cur):
        # mean open cases of the team's rows in the same (last complete) month: known at as_of
        wt = self.tables["workers"].set_index("worker_id")["team_id"]
        r = pd.DataFrame({"team_id": rows["worker_id"].map(wt).astype(object).to_numpy(),
                          "_m": month_index(rows["month"]), "v": rows["open_cases"].astype("float64").to_numpy()})
        tm = r.groupby(["team_id", "_m"], sort=False)["v"].mean().rename("tm").reset_index()
        q = pd.DataFrame({"team_id": team.astype(object).to_numpy(), "_m": last_known_month(s["as_of"])})
        m = q.merge(tm, on=["team_id", "_m"], how="left")["tm"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(m > 0, cur / m, np.nan)
