"""Team context family: turnover, recent leavers, agency share, vacancy and size of the worker's team."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup
from retention_ml.features._pit import EventIndex, encode, ns, sorted_keys
from retention_ml.features.fte_history import FteValues
from retention_ml.features.team_history import TeamValues

T = "team_instability"


class TeamFeatures(FeatureFamily):
    """Team features from ``workers`` (spells started / ended strictly before as_of) and ``teams``.

    The establishment is the one in force at as_of (``team_history`` when given, else ``teams``), and so is
    each colleague's FTE in the in-post FTE (``fte_history`` when given, else ``workers.fte``).

    ``team_vacancy_rate`` is the DfE workforce statistics' vacancy rate for the team: vacant FTE / (vacant FTE
    + the council's own staff in post), the vacant FTE being the establishment less the own staff's FTE (none
    when they fill or exceed it), so 1 - own FTE / establishment, at least 0. Agency workers are not own
    staff: a post they cover is still vacant, and one they hold on top of the establishment fills nothing.
    Counting them in (as before session 15) made the rate negative wherever locums outnumbered the vacancies.

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
                    "fraction/yr", T, direction=1),
        FeatureSpec("team_colleagues_left_3m", "Colleagues whose spell in the team ended in the last 3 months",
                    "people", T, direction=1),
        FeatureSpec("team_agency_share", "Share of the team's in-post staff who are agency workers", "fraction", T, direction=1),
        FeatureSpec("team_vacancy_rate", "Share of the establishment FTE not filled by the team's own staff (the DfE "
                    "vacancy rate: a post covered by agency staff is vacant)", "fraction", T, direction=1),
        FeatureSpec("team_size", "Staff in post in the team", "people", T),
        FeatureSpec("team_manager_change_12m", "Team manager spells that started in the team in the last 12 months",
                    "count", "supervision_management"),
    )

    def _compute(self, X):
        wl = WorkerLookup(self.tables_["workers"], X["worker_id"])
        w = wl.W
        book = sorted_keys(w["team_id"])
        w_team = encode(w["team_id"], book)                     # team code of every workers row
        s_team = wl.at(w_team, -1)                              # ... of every snapshot
        # distinct (team, as_of) pairs: everything below is per pair, then indexed back per snapshot
        as_of = ns(X["as_of"])
        dates, d_code = np.unique(as_of, return_inverse=True)
        pair_key, inverse = np.unique(s_team * (len(dates) + 1) + d_code.ravel(), return_inverse=True)
        p_team = pair_key // (len(dates) + 1)
        at = pd.Series(dates[pair_key % (len(dates) + 1)])
        agency = (w["employment_type"].astype(object) == "agency").to_numpy(dtype="float64")
        own = 1.0 - agency                                      # the council's own staff: permanent, fixed term
        fte = w["fte"].to_numpy(dtype="float64", na_value=np.nan)
        start = ns(w["start_date"])
        end = ns(w["end_date"])
        # ends are counted on the day after end_date: in post AT end_date, gone from end_date + 1 day
        gone = end + np.timedelta64(1, "D")
        by_start, by_gone, by_end = (EventIndex(w_team, start), EventIndex(w_team, gone), EventIndex(w_team, end))
        cums = {}

        def count(ix, when, weight=None):
            key = (id(ix), weight)
            if key not in cums:
                cums[key] = ix.cumulative({None: None, "agency": agency, "own_fte": own * fte}[weight])
            return ix.count_before(p_team, when, cums[key])

        steps = _fte_steps(FteValues(self.tables_, wl), w_team, start, end, gone, own)

        def in_post(when, weight=None):
            n = count(by_start, when, weight) - count(by_gone, when + pd.Timedelta(days=1), weight)
            if weight == "own_fte" and steps is not None:   # contract changes of those in post (fte_history)
                on, on_cum, off, off_cum = steps
                n = n + on.count_before(p_team, when, on_cum) - off.count_before(p_team, when + pd.Timedelta(days=1), off_cum)
            return n

        head = in_post(at)
        head_12 = in_post(at - pd.DateOffset(months=12))
        left = lambda since: count(by_end, at) - count(by_end, since)  # noqa: E731
        left12 = left(at - pd.DateOffset(months=12))
        left3 = left(at - pd.DateOffset(months=3))
        mean_head = (head + head_12) / 2
        est = TeamValues(self.tables_, book).at("establishment_fte", p_team, at)   # in force at as_of
        pairs = pd.DataFrame(index=np.arange(len(pair_key)))
        with np.errstate(invalid="ignore", divide="ignore"):
            pairs["team_leavers_rate_12m"] = np.where(mean_head > 0, left12 / mean_head, np.nan)
            pairs["team_colleagues_left_3m"] = left3
            pairs["team_agency_share"] = np.where(head > 0, in_post(at, "agency") / head, np.nan)
            pairs["team_vacancy_rate"] = _vacancy_rate(in_post(at, "own_fte"), est)
            pairs["team_size"] = head
        mgr = (w["role"].astype(object) == "team_manager").to_numpy()
        by_mgr = EventIndex(np.where(mgr, w_team, -1), start)
        pairs["team_manager_change_12m"] = count(by_mgr, at) - count(by_mgr, at - pd.DateOffset(months=12))
        return pairs.iloc[inverse.ravel()].reset_index(drop=True)


def _vacancy_rate(own_fte: np.ndarray, est: np.ndarray) -> np.ndarray:
    """DfE's vacancy rate: vacant / (vacant + own FTE) with vacant = max(establishment - own FTE, 0), which is
    max(1 - own / establishment, 0); NaN without a positive establishment.

    The running totals the own FTE comes from carry float noise (1e-16 below an establishment they fill
    exactly); FTE is recorded to two decimals, so rounding to six keeps a full team at exactly 0.
    """
    own_fte = np.round(own_fte, 6)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(est > 0, np.maximum(1 - own_fte / est, 0.0), np.nan)


def _fte_steps(fv: FteValues, w_team, start, end, gone, weight):
    """Contract changes as dated steps of the team's in-post FTE: (step starts, their running totals, step ends,
    theirs), :class:`EventIndex` and ``cumulative`` pairs as the spells' own.

    A spell counts ``workers.fte`` while in post (start < t <= end); a change dated d adds its delta from
    max(start, d) while the spell lasts, and is taken off again when the spell ends, like the spell's own FTE.
    So the in-post FTE at t sums each colleague's FTE in force at t with the same running totals, no per-date
    loop. A change dated after the spell's end never counts. ``weight`` (per workers row) scales each change:
    1 for the own staff the vacancy rate counts, 0 for agency workers. None without ``fte_history``.
    """
    ch = fv.changes()
    if ch.empty:
        return None
    row = ch["row"].to_numpy()
    on = np.maximum(start[row], ch["date"].to_numpy(dtype="datetime64[ns]"))   # NaT start stays NaT (dropped)
    off = gone[row]
    ok = np.isnat(end[row]) | (on <= end[row])
    team = np.where(ok, w_team[row], -1)
    by_on, by_off = EventIndex(team, on), EventIndex(team, off)
    delta = ch["delta"].to_numpy(dtype="float64") * weight[row]
    # both indexes sort the same steps by (team, time); each needs its running total in its own order
    return by_on, by_on.cumulative(delta), by_off, by_off.cumulative(delta)
