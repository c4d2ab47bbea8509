"""Absence and supervision families (optional tables: when absent, their features are NaN, never invented)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, months_between, snapshot_frame
from retention_ml.features._pit import MonthGrid, asof_last, count_before


class AbsenceFeatures(FeatureFamily):
    """Sickness absence from ``absence`` (monthly; month < as_of).

    Examples
    --------
    >>> AbsenceFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "absence"
    required_tables = ("absence",)
    specs = (
        FeatureSpec("absence_days_6m", "Sickness days in the last 6 complete months", "days", "work_life_balance"),
        FeatureSpec("absence_days_12m", "Sickness days in the last 12 complete months", "days", "work_life_balance"),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        g = MonthGrid(self.tables["absence"], by="worker_id", month="month", cols=["sickness_days"], queries=s)
        return pd.DataFrame({"absence_days_6m": g.rolling("sickness_days", 6, "sum"),
                             "absence_days_12m": g.rolling("sickness_days", 12, "sum")})


class SupervisionFeatures(FeatureFamily):
    """Supervision sessions from ``supervision`` (dated events; date < as_of).

    Examples
    --------
    >>> SupervisionFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "supervision"
    required_tables = ("supervision",)
    specs = (
        FeatureSpec("supervision_sessions_3m", "Supervision sessions in the last 3 months", "sessions",
                    "supervision_management"),
        FeatureSpec("months_since_supervision", "Months since the last supervision session (NaN if none yet)",
                    "months", "supervision_management"),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        sv = self.tables["supervision"]
        n_now = count_before(s, sv, by="worker_id", on="date", query_dates=s["as_of"])
        n_3 = count_before(s, sv, by="worker_id", on="date", query_dates=s["as_of"] - pd.DateOffset(months=3))
        last = asof_last(s, sv.assign(one=1.0), by="worker_id", on="date", cols=["one"])["date"]
        since = months_between(s["as_of"], last)
        return pd.DataFrame({"supervision_sessions_3m": n_now - n_3, "months_since_supervision": since})
