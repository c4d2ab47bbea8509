"""Team context family: turnover, recent leavers, agency share, vacancy and size of the worker's team."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, snapshot_frame
from retention_ml.features._pit import count_before

T = "team_instability"


class TeamFeatures(FeatureFamily):
    """Team features from ``workers`` (spells started / ended strictly before as_of) and ``teams``.

    A spell counts in post at as_of when it started before as_of and had not ended before as_of; only end
    dates already past (end_date < as_of) are used, so nobody's future leaving is seen.

    Examples
    --------
    >>> TeamFeatures(tables=tables).fit(snaps).transform(snaps)  # doctest: +SKIP
    """

    family = "team"
    required_tables = ("workers", "teams")
    specs = (
        FeatureSpec("team_leavers_rate_12m", "Spells ended in the team in the last 12 months / mean headcount",
                    "fraction/yr", T),
        FeatureSpec("team_colleagues_left_3m", "Colleagues whose spell in the team ended in the last 3 months",
                    "people", T),
        FeatureSpec("team_agency_share", "Share of the team's in-post staff who are agency workers", "fraction", T),
        FeatureSpec("team_vacancy_rate", "1 - in-post FTE / establishment FTE", "fraction", T),
        FeatureSpec("team_size", "Staff in post in the team", "people", T),
        FeatureSpec("team_manager_change_12m", "Team manager spells that started in the team in the last 12 months",
                    "count", "supervision_management"),
    )

    def _compute(self, X):
        s = snapshot_frame(X)
        w = self.tables["workers"].drop_duplicates("worker_id")
        teams = self.tables["teams"].drop_duplicates("team_id").set_index("team_id")
        s["team_id"] = s["worker_id"].map(w.set_index("worker_id")["team_id"]).astype(object)
        pairs = s[["team_id", "as_of"]].drop_duplicates().reset_index(drop=True)
        ww = w.assign(agency=(w["employment_type"].astype(object) == "agency").astype("float64"),
                      fte_=w["fte"].astype("float64"))
        # ends are counted on the day after end_date: in post AT end_date, gone from end_date + 1 day
        ww["gone"] = pd.to_datetime(ww["end_date"]) + pd.Timedelta(days=1)

        def in_post(at, weight=None):
            started = count_before(pairs, ww, by="team_id", on="start_date", query_dates=at, weight=weight)
            gone = count_before(pairs, ww, by="team_id", on="gone", query_dates=at + pd.Timedelta(days=1),
                                weight=weight)
            return started - gone

        at = pairs["as_of"]
        head = in_post(at)
        head_12 = in_post(at - pd.DateOffset(months=12))
        left = lambda since: (count_before(pairs, ww, by="team_id", on="end_date", query_dates=at)  # noqa: E731
                              - count_before(pairs, ww, by="team_id", on="end_date", query_dates=since))
        left12 = left(at - pd.DateOffset(months=12))
        left3 = left(at - pd.DateOffset(months=3))
        mean_head = (head + head_12) / 2
        est = pairs["team_id"].map(teams["establishment_fte"]).astype("float64").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            pairs["team_leavers_rate_12m"] = np.where(mean_head > 0, left12 / mean_head, np.nan)
            pairs["team_colleagues_left_3m"] = left3
            pairs["team_agency_share"] = np.where(head > 0, in_post(at, "agency") / head, np.nan)
            pairs["team_vacancy_rate"] = np.where(est > 0, 1 - in_post(at, "fte_") / est, np.nan)
            pairs["team_size"] = head
        mgr = ww.loc[(ww["role"].astype(object) == "team_manager").to_numpy()]
        pairs["team_manager_change_12m"] = (
            count_before(pairs, mgr, by="team_id", on="start_date", query_dates=at)
            - count_before(pairs, mgr, by="team_id", on="start_date", query_dates=at - pd.DateOffset(months=12)))
        return s[["team_id", "as_of"]].merge(pairs, on=["team_id", "as_of"], how="left")
