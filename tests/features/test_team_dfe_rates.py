"""team_leavers_rate_12m and team_agency_share are the DfE's turnover and agency rates, per team.

Turnover: FTE of the council's own staff who left the council from the team in the 12 months before as_of, over
the own staff's FTE in post at as_of. Agency rate: agency FTE / (agency + own staff FTE) in post at as_of.

tiny_data's team T1: own staff W1 (permanent, 1.0 from 2023-01-15) and W2 (permanent, 0.8, 2020-03-01 to
2024-03-10, resignation); W3 is an agency worker (1.0, 2023-06-01 to 2024-02-29, end of contract).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features import TeamFeatures, build_features

D = pd.Timestamp


def _team(tables, as_of, worker="W1"):
    s = pd.DataFrame({"worker_id": [worker], "as_of": [D(as_of)]})
    return TeamFeatures(tables=tables).fit(s).transform(s).iloc[0]


def _turnover(tables, as_of):
    return _team(tables, as_of)["team_leavers_rate_12m"]


def _agency(tables, as_of):
    return _team(tables, as_of)["team_agency_share"]


def _workers(tables, **changes):
    """A copy of tables with workers' columns changed per worker: changes = {column: {worker_id: value}}."""
    w = tables["workers"].copy()
    for col, by_worker in changes.items():
        for worker, value in by_worker.items():
            w.loc[w["worker_id"] == worker, col] = value
    return dict(tables, workers=w)


def _fte_history(**rows):
    """fte_history rows: worker_id=(effective_date, fte)."""
    return pd.DataFrame({"worker_id": list(rows), "effective_date": [D(d) for d, _ in rows.values()],
                         "fte": [f for _, f in rows.values()]}).astype({"worker_id": object})


# -- turnover ---------------------------------------------------------------------------------------------------

def test_an_agency_contract_ending_is_not_team_turnover(tiny_tables):
    # W3 (agency) ended 2024-02-29: the old count of spells ended over mean headcount read 1 / 2 = 0.5
    assert _turnover(tiny_tables, "2024-03-01") == 0.0


def test_own_staff_leavers_count_by_fte_against_own_staff_in_post(tiny_tables):
    # W2 (0.8 FTE) resigned 2024-03-10; own staff in post at 2024-04-01: W1, 1.0 FTE -> 0.8 (the old reading:
    # two spells ended, W2 and the agency W3, over a mean headcount of (2 + 1) / 2 -> 1.33)
    assert _turnover(tiny_tables, "2024-04-01") == pytest.approx(0.8 / 1.0)


def test_a_move_to_another_team_of_the_council_is_not_turnover(tiny_tables):
    # the DfE's leavers left the council; an internal move is a loss to the team, not the council's turnover
    moved = _workers(tiny_tables, leaving_reason={"W2": "internal_move"})
    assert _turnover(moved, "2024-04-01") == 0.0
    dismissed = _workers(tiny_tables, leaving_reason={"W2": "dismissal"})      # every other reason counts
    assert _turnover(dismissed, "2024-04-01") == pytest.approx(0.8)


def test_a_leaver_counts_at_the_fte_of_their_last_day(tiny_tables):
    # W2 went to 0.5 FTE from 2023-09-01 and left at 0.5
    tables = dict(tiny_tables, fte_history=_fte_history(W2=("2023-09-01", 0.5)))
    assert _turnover(tables, "2024-04-01") == pytest.approx(0.5 / 1.0)


def test_fixed_term_staff_are_own_staff_in_turnover(tiny_tables):
    # W3 on a fixed-term contract is the council's own: its end is turnover, its FTE is in post before it
    tables = _workers(tiny_tables, employment_type={"W3": "fixed_term"})
    assert _turnover(tables, "2024-03-01") == pytest.approx(1.0 / 1.8)        # W3 left; W1 + W2 in post


def test_a_team_without_own_staff_in_post_has_no_turnover_rate(tiny_tables):
    # W1's spell ended too: nobody of the council's own in post on 2024-04-01, so no rate (not a division by 0)
    tables = _workers(tiny_tables, end_date={"W1": D("2024-03-20")}, leaving_reason={"W1": "resignation"})
    row = _team(tables, "2024-04-01", worker="W1")
    assert np.isnan(row["team_leavers_rate_12m"]) and np.isnan(row["team_agency_share"])


def test_turnover_changes_after_the_snapshot_date_do_not_move_it(tiny_tables, tiny_data):
    # W2 leaving on 2024-03-10 is not known on 2024-03-10 (in post on their end date) and counts from the next day
    assert _turnover(tiny_tables, "2024-03-10") == 0.0
    assert _turnover(tiny_tables, "2024-03-11") == pytest.approx(0.8 / 1.0)
    # a change of W2's hours dated on their last day is not in force on it (0.8 counts); one the day before is
    on_last = dict(tiny_tables, fte_history=_fte_history(W2=("2024-03-10", 0.5)))
    assert _turnover(on_last, "2024-04-01") == pytest.approx(0.8)
    before_last = dict(tiny_tables, fte_history=_fte_history(W2=("2024-03-09", 0.5)))
    assert _turnover(before_last, "2024-04-01") == pytest.approx(0.5)
    # an own hire starting on as_of is not in post yet; from the next day the denominator holds it
    hired = tiny_data.add_worker(tiny_tables, worker_id="W4", employment_type="permanent", fte=1.0,
                        start_date=D("2024-04-01"), end_date=pd.NaT, leaving_reason=None)
    assert _turnover(hired, "2024-04-01") == pytest.approx(0.8 / 1.0)
    assert _turnover(hired, "2024-04-02") == pytest.approx(0.8 / 2.0)
    # and a leaver drops out of the window 12 months after their end
    assert _turnover(tiny_tables, "2025-03-10") == pytest.approx(0.8)
    assert _turnover(tiny_tables, "2025-03-11") == 0.0


# -- agency rate ------------------------------------------------------------------------------------------------

def test_agency_share_is_agency_fte_over_all_fte_in_post(tiny_tables):
    # 2024-01-01: agency W3 1.0, own W1 1.0 + W2 0.8 -> 1.0 / 2.8 (the headcount share read 1 / 3)
    assert _agency(tiny_tables, "2024-01-01") == pytest.approx(1.0 / 2.8)


def test_a_part_time_agency_worker_counts_by_fte(tiny_tables):
    half = _workers(tiny_tables, fte={"W3": 0.5})
    assert _agency(half, "2024-01-01") == pytest.approx(0.5 / 2.3)
    # ... and at the hours in force: W3 cut to 0.5 from 2023-09-01 (fte_history), or W2 to 0.5
    assert _agency(dict(tiny_tables, fte_history=_fte_history(W3=("2023-09-01", 0.5))), "2024-01-01") == pytest.approx(0.5 / 2.3)
    assert _agency(dict(tiny_tables, fte_history=_fte_history(W2=("2023-09-01", 0.5))), "2024-01-01") == pytest.approx(1.0 / 2.5)


def test_agency_changes_after_the_snapshot_date_do_not_move_it(tiny_tables, tiny_data):
    base = _agency(tiny_tables, "2024-01-01")
    # an agency hire starting on as_of and an agency worker's change of hours dated on as_of are not known yet
    later = tiny_data.add_worker(tiny_tables, worker_id="W4", employment_type="agency", fte=0.6,
                        start_date=D("2024-01-01"), end_date=pd.NaT, leaving_reason=None)
    tables = dict(later, fte_history=_fte_history(W3=("2024-01-01", 0.5)))
    assert _agency(tables, "2024-01-01") == pytest.approx(base)
    # ... and count from the next day: agency W3 0.5 + W4 0.6 against own 1.8
    assert _agency(tables, "2024-01-02") == pytest.approx(1.1 / 2.9)
    # the agency worker ending on 2024-02-29 is in post that day and gone the next
    assert _agency(tiny_tables, "2024-02-29") == pytest.approx(1.0 / 2.8)
    assert _agency(tiny_tables, "2024-03-01") == 0.0


# -- the same figures as simulate --report -------------------------------------------------------------------

def _council_rate(sim_tables, feature, weight_of):
    """Council rates from the teams' feature values at 1 October, each team weighted by ``weight_of(in_post)``
    (the FTE its rate is a share of, from the workers in post on 30 September), against simulate --report's."""
    from retention_ml.simulate.calibration import council_year_stats

    stats = council_year_stats(sim_tables)
    year = int(stats["year"].max())
    day = D(f"{year}-09-30")
    ds = build_features(sim_tables, [day + pd.Timedelta(days=1)], families=["team"])
    teams = sim_tables["teams"].set_index("team_id")
    w = sim_tables["workers"]
    in_post = w[(w["start_date"] <= day) & (w["end_date"].isna() | (w["end_date"] > day))]
    per_team = pd.DataFrame({"team_id": ds.keys["team_id"], "rate": ds.X[feature].astype("float64")})
    per_team = per_team.drop_duplicates("team_id").set_index("team_id")
    per_team["weight"] = weight_of(in_post).reindex(per_team.index).fillna(0.0)
    per_team["council"] = teams["council_id"]
    # a council whose every team has someone in post and a rate to read (a team without own staff has none)
    readable = per_team["rate"].notna().groupby(per_team["council"]).sum() == teams.groupby("council_id").size()
    councils = readable[readable].index
    got = (per_team["rate"] * per_team["weight"]).groupby(per_team["council"]).sum() / per_team.groupby("council")["weight"].sum()
    return got[councils], stats[stats["year"] == year].set_index("council_id"), councils


def test_the_feature_and_the_calibration_report_mean_the_same_turnover(sim_tables):
    own_fte = lambda p: p[p["employment_type"] != "agency"].groupby("team_id")["fte"].sum()  # noqa: E731
    got, stats, councils = _council_rate(sim_tables, "team_leavers_rate_12m", own_fte)
    want = stats.loc[councils, "turnover"] / 100
    assert len(councils) >= 1 and (want > 0.05).all()           # the comparison bites: real leavers
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-4)


def test_the_feature_and_the_calibration_report_mean_the_same_agency_rate(sim_tables):
    all_fte = lambda p: p.groupby("team_id")["fte"].sum()  # noqa: E731
    got, stats, councils = _council_rate(sim_tables, "team_agency_share", all_fte)
    want = stats.loc[councils, "agency"] / 100
    assert len(councils) >= 1 and (want > 0.02).all()           # the comparison bites: agency staff in post
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=1e-4)
