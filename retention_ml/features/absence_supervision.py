"""Absence and supervision families (optional tables: when absent, their features are NaN, never invented)."""

from __future__ import annotations

import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup, months_between
from retention_ml.features._pit import EventIndex, MonthGrid, asof_take, ns


class AbsenceFeatures(FeatureFamily):
    """Sickness absence from ``absence`` (monthly; month < as_of).

    Examples
    --------
    >>> AbsenceFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "absence"
    required_tables = ("absence",)
    specs = (
        FeatureSpec("absence_days_6m", "Sickness days in the last 6 complete months", "days", "work_life_balance", direction=1),
        FeatureSpec("absence_days_12m", "Sickness days in the last 12 complete months", "days", "work_life_balance", direction=1),
    )

    def _compute(self, X):
        g = MonthGrid(self.tables_["absence"], by="worker_id", month="month", cols=["sickness_days"], queries=X)
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
                    "supervision_management", direction=-1),
        FeatureSpec("months_since_supervision", "Months since the last supervision session (NaN if none yet)",
                    "months", "supervision_management", direction=1),
    )

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        as_of = pd.Series(ns(X["as_of"]))
        sv = self.tables_["supervision"]
        ix = EventIndex(wl.event_codes(sv["worker_id"]), sv["date"])   # one index, three look-ups
        cum = ix.cumulative()
        n_now = ix.count_before(wl.codes, as_of, cum)
        n_3 = ix.count_before(wl.codes, as_of - pd.DateOffset(months=3), cum)
        last = asof_take(ix, sv, on="date", cols=[], q_codes=wl.codes, q_times=as_of)["date"]
        since = months_between(as_of, last)
        return pd.DataFrame({"supervision_sessions_3m": n_now - n_3, "months_since_supervision": since})
