"""team_history: the cap, establishment and manager in force at each date, not today's (hand-computed values).

tiny_data's team T1 has cap 10 and establishment 3.0 today (teams); W1's open cases are 1..17 for 2023-01..2024-05.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features import CaseloadFeatures, TeamFeatures, build_features

D = pd.Timestamp


def _history(rows) -> pd.DataFrame:
    h = pd.DataFrame(rows, columns=["team_id", "effective_date", "caseload_cap", "establishment_fte", "manager_id"])
    return h.astype({"team_id": object, "caseload_cap": "Int64", "establishment_fte": "float64", "manager_id": object})


def _caseload(tables, as_of, worker="W1"):
    s = pd.DataFrame({"worker_id": [worker], "as_of": [D(as_of)]})
    return CaseloadFeatures(tables=tables).fit(s).transform(s).iloc[0]


# cap 20 from 2023-01 (nobody over it: W1 holds at most 11 cases to November), cut to 5 from 2023-12-01
CUT = [("T1", D("2023-01-01"), 20, None, None), ("T1", D("2023-12-01"), 5, None, None)]


def test_cap_change_before_as_of_is_used_month_by_month(tiny_tables):
    X = _caseload(dict(tiny_tables, team_history=_history(CUT)), "2024-01-01")
    assert X["caseload_cap"] == 5
    assert X["caseload_to_cap"] == pytest.approx(12 / 5)           # December's 12 cases against the cap of 5
    # only December (12 > 5) was over the cap in force that month; with today's cap of 10 it was Nov and Dec
    assert X["caseload_over_cap_months_12m"] == 1 and X["caseload_over_cap_months_6m"] == 1
    without = _caseload(tiny_tables, "2024-01-01")
    assert without["caseload_cap"] == 10 and without["caseload_over_cap_months_12m"] == 2


def test_cap_change_on_or_after_as_of_does_not_change_features_at_as_of(tiny_tables):
    # a change dated on as_of counts from the next snapshot (effective_date < as_of, like every dated table)
    at_change = _caseload(dict(tiny_tables, team_history=_history(CUT)), "2023-12-01")
    assert at_change["caseload_cap"] == 20 and at_change["caseload_over_cap_months_12m"] == 0
    later = _history([("T1", D("2024-01-01"), 3, None, None), ("T1", D("2024-03-01"), 4, None, None)])
    a = _caseload(tiny_tables, "2024-01-01")
    b = _caseload(dict(tiny_tables, team_history=later), "2024-01-01")
    pd.testing.assert_series_equal(a, b)


def test_mid_month_change_counts_for_that_month(tiny_tables):
    # a month's caseload row describes its end: a cut on 2023-12-15 is the cap December is measured against
    X = _caseload(dict(tiny_tables, team_history=_history([("T1", D("2023-01-01"), 20, None, None),
                                                            ("T1", D("2023-12-15"), 5, None, None)])), "2024-01-01")
    assert X["caseload_over_cap_months_12m"] == 1 and X["caseload_cap"] == 5


def test_empty_cell_means_unchanged(tiny_tables):
    # a later manager-only row does not reset the cap to today's
    h = _history(CUT + [("T1", D("2023-12-20"), None, None, "W2")])
    X = _caseload(dict(tiny_tables, team_history=h), "2024-01-01")
    assert X["caseload_cap"] == 5 and X["caseload_over_cap_months_12m"] == 1


def test_vacancy_rate_uses_establishment_in_force(tiny_tables):
    # own staff in post at 2024-01-01: W1 (1.0), W2 (0.8) = 1.8 FTE (W3 is agency: the post it covers is vacant)
    s = pd.DataFrame({"worker_id": ["W1"], "as_of": [D("2024-01-01")]})
    today = TeamFeatures(tables=tiny_tables).fit(s).transform(s).iloc[0]
    assert today["team_vacancy_rate"] == pytest.approx(1 - 1.8 / 3.0)
    h = _history([("T1", D("2023-06-01"), None, 4.0, None), ("T1", D("2024-01-01"), None, 3.0, None)])
    then = TeamFeatures(tables=dict(tiny_tables, team_history=h)).fit(s).transform(s).iloc[0]
    assert then["team_vacancy_rate"] == pytest.approx(1 - 1.8 / 4.0)


def test_manager_change_moves_the_team_to_the_new_manager_on_the_right_date(tiny_tables):
    # M0 managed T1 until the change dated 2024-02-01 to M1 (today's manager in teams)
    h = _history([("T1", D("2023-01-01"), None, None, "M0"), ("T1", D("2024-02-01"), None, None, "M1")])
    tables = dict(tiny_tables, team_history=h)
    keys = build_features(tables, ["2024-01-01", "2024-02-01", "2024-02-02"], families=["team"]).keys
    by_date = keys.groupby("as_of")["manager_id"].agg(lambda s: sorted(set(s)))
    assert by_date[D("2024-01-01")] == ["M0"] and by_date[D("2024-02-01")] == ["M0"]
    assert by_date[D("2024-02-02")] == ["M1"]
    without = build_features(tiny_tables, ["2024-01-01"], families=["team"]).keys
    assert set(without["manager_id"]) == {"M1"}


def test_without_history_every_feature_is_as_before(tiny_tables):
    # an empty team_history and one holding only empty cells change nothing
    dates = ["2023-10-01", "2024-01-01", "2024-02-15"]
    base = build_features(tiny_tables, dates)
    for h in (_history([]), _history([("T1", D("2023-06-01"), None, None, None)])):
        got = build_features(dict(tiny_tables, team_history=h), dates)
        pd.testing.assert_frame_equal(base.X, got.X)
        pd.testing.assert_frame_equal(base.keys, got.keys)


def test_unknown_team_in_history_is_ignored(tiny_tables):
    h = _history([("T9", D("2023-01-01"), 1, 1.0, "M9")])
    got = build_features(dict(tiny_tables, team_history=h), ["2024-01-01"])
    base = build_features(tiny_tables, ["2024-01-01"])
    pd.testing.assert_frame_equal(base.X, got.X)
    assert not np.any(got.keys["manager_id"] == "M9")
