"""team_vacancy_rate is the DfE's vacancy rate: vacant FTE / (vacant FTE + own staff's FTE in post).

tiny_data's team T1: establishment 3.0 FTE; own staff W1 (permanent, 1.0 from 2023-01-15) and W2 (permanent, 0.8,
2020-03-01 to 2024-03-10); W3 is an agency worker (1.0, 2023-06-01 to 2024-02-29). At 2024-01-01 the own staff
hold 1.8 FTE, so 1.2 FTE of the establishment is vacant (W3 covers one of those posts): 1.2 / (1.2 + 1.8) = 0.4.
Counting the agency worker as filling a post gave 1 - 2.8 / 3.0 = 0.067, and below 0 once locums outnumber the
vacancies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features import TeamFeatures, build_features

D = pd.Timestamp


def _rate(tables, as_of, worker="W1"):
    s = pd.DataFrame({"worker_id": [worker], "as_of": [D(as_of)]})
    return TeamFeatures(tables=tables).fit(s).transform(s).iloc[0]["team_vacancy_rate"]


def _dfe(vacant, own):
    return vacant / (vacant + own)


def _with_establishment(tables, est):
    return dict(tables, teams=tables["teams"].assign(establishment_fte=est))


def test_agency_cover_leaves_the_post_vacant(tiny_tables):
    assert _rate(tiny_tables, "2024-01-01") == pytest.approx(_dfe(1.2, 1.8))            # 0.4, not 0.067


def test_locums_on_top_of_the_establishment_never_make_it_negative(tiny_tables):
    # establishment 2.0: own staff 1.8, so 0.2 FTE vacant; W3 is engaged beyond it (old reading 1 - 2.8/2 = -0.4)
    assert _rate(_with_establishment(tiny_tables, 2.0), "2024-01-01") == pytest.approx(_dfe(0.2, 1.8))


def test_own_staff_over_the_establishment_leave_no_vacancy(tiny_tables):
    # establishment 1.5 and 1.8 FTE of own staff: the DfE counts no vacancy (0), never a negative one
    assert _rate(_with_establishment(tiny_tables, 1.5), "2024-01-01") == 0.0


def test_a_team_filled_exactly_reads_zero(tiny_tables):
    # own staff 1.8 = establishment 1.8; the running totals' float noise must not show as a tiny rate
    assert _rate(_with_establishment(tiny_tables, 1.8), "2024-01-01") == 0.0


def test_fixed_term_staff_are_own_staff(tiny_tables):
    w = tiny_tables["workers"].copy()
    w.loc[w["worker_id"] == "W3", "employment_type"] = "fixed_term"
    assert _rate(dict(tiny_tables, workers=w), "2024-01-01") == pytest.approx(_dfe(0.2, 2.8))


def test_agency_hours_changes_do_not_move_it(tiny_tables):
    # an fte_history row for the agency worker changes nothing; one for own staff does
    h = pd.DataFrame({"worker_id": ["W3"], "effective_date": [D("2023-09-01")], "fte": [0.5]}).astype({"worker_id": object})
    assert _rate(dict(tiny_tables, fte_history=h), "2024-01-01") == pytest.approx(_dfe(1.2, 1.8))
    h["worker_id"] = "W2"
    assert _rate(dict(tiny_tables, fte_history=h), "2024-01-01") == pytest.approx(_dfe(1.5, 1.5))   # W2 at 0.5: own 1.0 + 0.5


def test_changes_after_the_snapshot_date_do_not_move_it(tiny_tables, tiny_data):
    base = _rate(tiny_tables, "2024-01-01")
    # a permanent hire starting on as_of, the agency worker's leaving, an own worker's cut in hours dated on as_of
    # and an establishment change dated on as_of are all not yet known at 2024-01-01
    later = tiny_data.add_worker(tiny_tables, worker_id="W4", employment_type="permanent", fte=1.0,
                        start_date=D("2024-01-01"), end_date=pd.NaT)
    h = pd.DataFrame({"worker_id": ["W1"], "effective_date": [D("2024-01-01")], "fte": [0.5]}).astype({"worker_id": object})
    th = pd.DataFrame({"team_id": ["T1"], "effective_date": [D("2024-01-01")],
                       "caseload_cap": pd.array([None], dtype="Int64"), "establishment_fte": [5.0],
                       "manager_id": [None]}).astype({"team_id": object, "manager_id": object})
    tables = dict(later, fte_history=h, team_history=th)
    assert _rate(tables, "2024-01-01") == pytest.approx(base)
    # ... and they count from the next day: own staff W4 (1.0) + W1 (0.5) + W2 (0.8) = 2.3 against 5.0
    assert _rate(tables, "2024-01-02") == pytest.approx(_dfe(5.0 - 2.3, 2.3))
    # an own worker's leaving counts from the day after their end date, an agency worker's never
    assert _rate(tiny_tables, "2024-03-10") == pytest.approx(_dfe(1.2, 1.8))          # W2 in post on its end date
    assert _rate(tiny_tables, "2024-03-11") == pytest.approx(_dfe(2.0, 1.0))
    assert _rate(tiny_tables, "2024-03-01") == _rate(tiny_tables, "2024-02-29")        # W3 (agency) left 02-29


def test_the_feature_and_the_calibration_report_mean_the_same_vacancy_rate(sim_tables):
    # simulate --report compares council vacancy rates on 30 September with the DfE's; the teams' rates at
    # 1 October, weighted by establishment, must give the same council figure
    from retention_ml.simulate.calibration import council_year_stats

    stats = council_year_stats(sim_tables)
    year = int(stats["year"].max())
    ds = build_features(sim_tables, [D(f"{year}-10-01")], families=["team"])
    teams = sim_tables["teams"].set_index("team_id")
    per_team = pd.DataFrame({"team_id": ds.keys["team_id"], "rate": ds.X["team_vacancy_rate"].astype("float64")})
    per_team = per_team.drop_duplicates("team_id").set_index("team_id")
    per_team["est"] = teams["establishment_fte"]
    per_team["council"] = teams["council_id"]
    staffed = teams.index.isin(per_team.index)          # a team with nobody in post has no snapshot to read
    complete = teams.loc[staffed].groupby("council_id").size() == teams.groupby("council_id").size()
    got = (per_team["rate"] * per_team["est"]).groupby(per_team["council"]).sum() / per_team.groupby("council")["est"].sum()
    want = stats[stats["year"] == year].set_index("council_id")["vacancy"] / 100
    councils = complete[complete].index
    assert len(councils) >= 1 and (want[councils] > 0.05).all()     # the comparison bites: real vacancies
    np.testing.assert_allclose(got[councils].to_numpy(), want[councils].to_numpy(), atol=1e-4)
