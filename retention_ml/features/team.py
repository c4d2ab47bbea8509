"""Team context family: turnover, recent leavers, agency share, vacancy and size of the worker's team."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.features._base import FeatureFamily, FeatureSpec, WorkerLookup
from retention_ml.features._pit import EventIndex, encode, ns, sorted_keys
from retention_ml.features.fte_history import FteValues
from retention_ml.features.team_history import TeamValues
from retention_ml.schema import AGENCY

T = "team_instability"


class TeamFeatures(FeatureFamily):
    """Team features from ``workers`` (spells started / ended strictly before as_of) and ``teams``.

    The establishment is the one in force at as_of (``team_history`` when given, else ``teams``), and so is
    each colleague's FTE in the in-post FTE (``fte_history`` when given, else ``workers.fte``).

    The three rates are the DfE children's social work workforce statistics' own, per team, so a council's
    teams add up to the figures it returns to the DfE (and ``simulate --report`` compares with them):

    ``team_leavers_rate_12m`` is the DfE turnover rate: the FTE of the council's own staff (permanent, fixed
    term) whose spell in the team ended in the 12 months before as_of, over the own staff's FTE in post at
    as_of. A leaver is someone who left the council: a move to another of its teams (``internal_move``) is not
    turnover, as the DfE excludes it, and an agency contract ending is not either (agency workers are not the
    council's staff; the old count of every spell ended over the mean headcount called a team with locums
    coming and going "high turnover"). A leaver counts at the FTE in force on their last day. NaN without own
    staff in post.

    ``team_agency_share`` is the DfE agency rate: agency FTE in post / (agency + own staff FTE in post), so a
    0.5 FTE locum counts half (it was a headcount share).

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
        FeatureSpec("team_leavers_rate_12m", "The team's own staff turnover (the DfE turnover rate): FTE of own staff "
                    "who left the council from the team in the last 12 months / own staff FTE in post (agency contracts "
                    "ending and moves to another team of the council are not turnover)", "fraction/yr", T, direction=1),
        FeatureSpec("team_colleagues_left_3m", "Colleagues whose spell in the team ended in the last 3 months",
                    "people", T, direction=1),
        FeatureSpec("team_agency_share", "Share of the team's FTE in post held by agency workers (the DfE agency rate: "
                    "agency FTE / (agency + own staff FTE))", "fraction", T, direction=1),
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
        agency = (w["employment_type"].astype(object) == AGENCY).to_numpy(dtype="float64")
        own = 1.0 - agency                                      # the council's own staff: permanent, fixed term
        fte = w["fte"].to_numpy(dtype="float64", na_value=np.nan)
        start = ns(w["start_date"])
        end = ns(w["end_date"])
        fv = FteValues(self.tables_, wl)
        # the DfE's leavers: own staff leaving the council (not to another of its teams), at their last day's FTE
        reason = w["leaving_reason"].astype(object) if "leaving_reason" in w else pd.Series(None, index=w.index, dtype=object)
        left_fte = np.where(reason.to_numpy() == "internal_move", 0.0, own * fv.at(np.arange(len(w)), end))
        # ends are counted on the day after end_date: in post AT end_date, gone from end_date + 1 day
        gone = end + np.timedelta64(1, "D")
        by_start, by_gone, by_end = (EventIndex(w_team, start), EventIndex(w_team, gone), EventIndex(w_team, end))
        weights = {None: None, "own_fte": own * fte, "fte": fte, "own_left_fte": left_fte}
        cums = {}

        def count(ix, when, weight=None):
            key = (id(ix), weight)
            if key not in cums:
                cums[key] = ix.cumulative(weights[weight])
            return ix.count_before(p_team, when, cums[key])

        steps = _fte_steps(fv, w_team, start, end, gone, {"own_fte": own, "fte": np.ones(len(w))})

        def in_post(when, weight=None):
            n = count(by_start, when, weight) - count(by_gone, when + pd.Timedelta(days=1), weight)
            if weight in (steps or {}):                     # contract changes of those in post (fte_history)
                on, on_cum, off, off_cum = steps[weight]
                n = n + on.count_before(p_team, when, on_cum) - off.count_before(p_team, when + pd.Timedelta(days=1), off_cum)
            return n

        head = in_post(at)
        left3 = count(by_end, at) - count(by_end, at - pd.DateOffset(months=3))
        since = at - pd.DateOffset(months=12)
        # running totals carry float noise (1e-16 for a team whose own staff all left); FTE has two decimals
        own_fte, all_fte = np.round(in_post(at, "own_fte"), 6), np.round(in_post(at, "fte"), 6)
        own_left12 = np.round(count(by_end, at, "own_left_fte") - count(by_end, since, "own_left_fte"), 6)
        est = TeamValues(self.tables_, book).at("establishment_fte", p_team, at)   # in force at as_of
        pairs = pd.DataFrame(index=np.arange(len(pair_key)))
        with np.errstate(invalid="ignore", divide="ignore"):
            pairs["team_leavers_rate_12m"] = np.where(own_fte > 0, own_left12 / own_fte, np.nan)
            pairs["team_colleagues_left_3m"] = left3
            pairs["team_agency_share"] = np.where(all_fte > 0, 1 - own_fte / all_fte, np.nan)
            pairs["team_vacancy_rate"] = _vacancy_rate(own_fte, est)
            pairs["team_size"] = head
        mgr = (w["role"].astype(object) == "team_manager").to_numpy()
        by_mgr = EventIndex(np.where(mgr, w_team, -1), start)
        pairs["team_manager_change_12m"] = count(by_mgr, at) - count(by_mgr, at - pd.DateOffset(months=12))
        return pairs.iloc[inverse.ravel()].reset_index(drop=True)


def _vacancy_rate(own_fte: np.ndarray, est: np.ndarray) -> np.ndarray:
    """DfE's vacancy rate: vacant / (vacant + own FTE) with vacant = max(establishment - own FTE, 0), which is
    max(1 - own / establishment, 0); NaN without a positive establishment.

    ``own_fte`` comes rounded to six decimals (the caller's running totals carry float noise, 1e-16 below an
    establishment they fill exactly; FTE is recorded to two decimals), so a full team reads exactly 0.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(est > 0, np.maximum(1 - own_fte / est, 0.0), np.nan)


def _fte_steps(fv: FteValues, w_team, start, end, gone, weights: dict):
    """Contract changes as dated steps of the team's in-post FTE: per name in ``weights``, (step starts, their
    running totals, step ends, theirs), :class:`EventIndex` and ``cumulative`` pairs as the spells' own.

    A spell counts ``workers.fte`` while in post (start < t <= end); a change dated d adds its delta from
    max(start, d) while the spell lasts, and is taken off again when the spell ends, like the spell's own FTE.
    So the in-post FTE at t sums each colleague's FTE in force at t with the same running totals, no per-date
    loop. A change dated after the spell's end never counts. Each weight (per workers row) scales each change:
    ``own_fte`` 1 for the own staff, 0 for agency workers; ``fte`` 1 for everyone. None without ``fte_history``.
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
    delta = ch["delta"].to_numpy(dtype="float64")
    # both indexes sort the same steps by (team, time); each needs its running total in its own order
    return {name: (by_on, by_on.cumulative(delta * wt[row]), by_off, by_off.cumulative(delta * wt[row]))
            for name, wt in weights.items()}
