"""fte_history: the contracted hours in force at each date, not today's (hand-computed values).

tiny_data's team T1 has cap 10 and establishment 3.0; W1's open cases are 1..17 for 2023-01..2024-05. Here W1
worked 1.0 FTE from the start of the spell (2023-01-15) and 0.5 from 2023-10-01, so workers.fte (today's value)
is 0.5. W1's pay: 33,000 full-time + 3,500 supplements from 2023-09-01; rent in north 1000 + 10 a month from
2022-12 (1,090 for 2023-09, 1,120 for 2023-12); take-home is 0.75 of gross.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.features import CaseloadFeatures, HousingFeatures, TeamFeatures, build_features

D = pd.Timestamp


def _history(rows) -> pd.DataFrame:
    h = pd.DataFrame(rows, columns=["worker_id", "effective_date", "fte"])
    return h.astype({"worker_id": object, "effective_date": "datetime64[ns]", "fte": "float64"})


CUT = [("W1", D("2023-01-15"), 1.0), ("W1", D("2023-10-01"), 0.5)]


@pytest.fixture
def cut_tables(tiny_tables):
    """W1 at 0.5 FTE today (workers.fte) and in the history since 2023-10-01, 1.0 before."""
    w = tiny_tables["workers"].copy()
    w.loc[w["worker_id"] == "W1", "fte"] = 0.5
    return dict(tiny_tables, workers=w, fte_history=_history(CUT))


def _row(family, tables, as_of, worker="W1"):
    s = pd.DataFrame({"worker_id": [worker], "as_of": [D(as_of)]})
    return family(tables=tables).fit(s).transform(s).iloc[0]


def test_pro_rata_cap_uses_the_hours_in_force_before_and_after_the_change(cut_tables):
    before = _row(CaseloadFeatures, cut_tables, "2023-10-01")   # a change dated on as_of counts from the next one
    assert before["caseload_to_cap"] == pytest.approx(9 / 10)   # September's 9 cases against 10 x 1.0
    assert before["caseload_over_cap_months_12m"] == 0
    after = _row(CaseloadFeatures, cut_tables, "2023-10-02")
    assert after["caseload_to_cap"] == pytest.approx(9 / 5)     # the same 9 cases against 10 x 0.5
    assert after["caseload_over_cap_months_12m"] == 0           # September itself was worked at 1.0


def test_months_over_cap_count_each_month_at_its_own_hours(cut_tables):
    X = _row(CaseloadFeatures, cut_tables, "2024-01-01")
    assert X["caseload_to_cap"] == pytest.approx(12 / 5)
    # October to December (10, 11, 12 cases) are over 10 x 0.5; January to September never reached 10 x 1.0
    assert X["caseload_over_cap_months_12m"] == 3 and X["caseload_over_cap_months_6m"] == 3
    # without the history every month reads today's 0.5: June to December over 5
    old = _row(CaseloadFeatures, {k: v for k, v in cut_tables.items() if k != "fte_history"}, "2024-01-01")
    assert old["caseload_over_cap_months_12m"] == 7 and old["caseload_over_cap_months_6m"] == 6


def test_mid_month_change_counts_for_that_month(cut_tables):
    # a month's caseload row describes its end: a cut on 2023-09-20 is the hours September is measured at
    tables = dict(cut_tables, fte_history=_history([CUT[0], ("W1", D("2023-09-20"), 0.5)]))
    assert _row(CaseloadFeatures, tables, "2024-01-01")["caseload_over_cap_months_12m"] == 4


def test_rent_share_uses_the_pay_for_the_hours_in_force(cut_tables):
    before = _row(HousingFeatures, cut_tables, "2023-10-01")
    assert before["housing_rent_to_pay"] == pytest.approx(1090 / ((33000 * 1.0 + 3500) * 0.75 / 12))
    after = _row(HousingFeatures, cut_tables, "2024-01-01")
    assert after["housing_rent_to_pay"] == pytest.approx(1120 / ((33000 * 0.5 + 3500) * 0.75 / 12))
    assert after["housing_price_to_salary"] == pytest.approx(200000 / (33000 * 0.5 + 3500))


def test_team_in_post_fte_sums_each_colleagues_hours_in_force(cut_tables):
    # own staff in post at 2023-10-01: W1 (still 1.0), W2 (0.8) (W3 is agency); at 2024-01-01 W1 works 0.5
    assert _row(TeamFeatures, cut_tables, "2023-10-01")["team_vacancy_rate"] == pytest.approx(1 - 1.8 / 3.0)
    assert _row(TeamFeatures, cut_tables, "2024-01-01")["team_vacancy_rate"] == pytest.approx(1 - 1.3 / 3.0)


def test_team_fte_counts_a_change_only_inside_the_spell(cut_tables):
    # W3 (1.0 today, in post 2023-06-01 to 2024-02-29; made own staff here, as agency hours never count): 0.6
    # from a change dated before the spell, so from its start; a change after it ended (to 0.2) must not count
    h = _history(CUT + [("W3", D("2023-05-01"), 0.6), ("W3", D("2024-03-05"), 0.2), ("W3", D("2024-03-20"), 1.0)])
    w = cut_tables["workers"].copy()
    w.loc[w["worker_id"] == "W3", "employment_type"] = "fixed_term"
    tables = dict(cut_tables, workers=w, fte_history=h)
    assert _row(TeamFeatures, tables, "2023-06-01")["team_vacancy_rate"] == pytest.approx(1 - 1.8 / 3.0)  # W3 not yet
    assert _row(TeamFeatures, tables, "2023-07-01")["team_vacancy_rate"] == pytest.approx(1 - 2.4 / 3.0)
    assert _row(TeamFeatures, tables, "2024-03-01")["team_vacancy_rate"] == pytest.approx(1 - 1.3 / 3.0)  # W1, W2
    assert _row(TeamFeatures, tables, "2024-04-01")["team_vacancy_rate"] == pytest.approx(1 - 0.5 / 3.0)  # W1 only


def test_changes_on_or_after_as_of_do_not_change_any_feature_at_as_of(cut_tables):
    base = build_features(cut_tables, ["2023-12-01"])
    later = _history(CUT + [("W1", D("2023-12-01"), 0.2), ("W2", D("2024-01-10"), 0.3), ("W3", D("2023-12-01"), 0.4)])
    got = build_features(dict(cut_tables, fte_history=later), ["2023-12-01"])
    pd.testing.assert_frame_equal(base.X, got.X)
    # and the next snapshot does read them
    nxt = build_features(dict(cut_tables, fte_history=later), ["2023-12-02"]).X
    assert not nxt.equals(build_features(cut_tables, ["2023-12-02"]).X)


def test_without_history_every_feature_is_as_before(tiny_tables):
    # an empty fte_history, and one for a worker not in workers, change nothing
    dates = ["2023-10-01", "2024-01-01", "2024-02-15"]
    base = build_features(tiny_tables, dates)
    for h in (_history([]), _history([("W9", D("2023-01-01"), 0.5)])):
        got = build_features(dict(tiny_tables, fte_history=h), dates)
        pd.testing.assert_frame_equal(base.X, got.X)
        pd.testing.assert_frame_equal(base.keys, got.keys)


def _halved_midway(sim_tables) -> dict:
    """The simulated tables with a third of the spells going from full time to half time halfway through."""
    w = sim_tables["workers"].copy()
    start = pd.to_datetime(w["start_date"])
    end = pd.to_datetime(w["end_date"]).fillna(D("2023-01-01"))
    mid = (start + (end - start) / 2).dt.normalize()
    pick = (w.index % 3 == 0) & (end - start > pd.Timedelta(days=60))
    hist = pd.concat([pd.DataFrame({"worker_id": w.loc[pick, "worker_id"], "effective_date": start[pick], "fte": 1.0}),
                      pd.DataFrame({"worker_id": w.loc[pick, "worker_id"], "effective_date": mid[pick], "fte": 0.5})])
    w.loc[pick, "fte"] = 0.5
    return dict(sim_tables, workers=w, fte_history=_history(hist.to_numpy()))


def test_team_in_post_fte_equals_the_sum_of_each_colleagues_hours_in_force(sim_tables):
    # the running-total steps against the definition: per team, the FTE in force at t of every own staff spell
    # (not agency) in post at t
    from retention_ml.features._base import WorkerLookup
    from retention_ml.features.fte_history import FteValues

    tables = _halved_midway(sim_tables)
    w = tables["workers"]
    start = pd.to_datetime(w["start_date"])
    dates = [D("2020-03-01"), D("2021-06-01"), D("2022-09-01")]
    ds = build_features(tables, dates, families=["team"])
    est = ds.keys["team_id"].map(tables["teams"].set_index("team_id")["establishment_fte"]).to_numpy()
    got = (1 - ds.X["team_vacancy_rate"].to_numpy(dtype="float64")) * est
    fv = FteValues(tables, WorkerLookup(w, w["worker_id"]))
    expected = []
    for t in dates:
        fte_t = pd.Series(fv.at(fv.wl.codes, pd.Series([t] * len(w))), index=w.index)
        in_post = (start < t) & (pd.to_datetime(w["end_date"]).isna() | (pd.to_datetime(w["end_date"]) >= t))
        in_post &= w["employment_type"].astype(object) != "agency"
        expected.append(fte_t[in_post].groupby(w.loc[in_post, "team_id"]).sum())
    want = [expected[dates.index(t)].get(team, 0.0) for team, t in zip(ds.keys["team_id"], ds.keys["as_of"])]
    # the vacancy rate is at least 0, so it gives back the in-post FTE only up to the establishment: the history
    # made here puts some part-time posts at 1.0 FTE, which can take a team's own staff past it
    assert got == pytest.approx(np.minimum(want, est), abs=1e-4)
    assert (fv.at(fv.wl.codes, pd.Series([dates[1]] * len(w))) != w["fte"].to_numpy()).sum() > 20   # the test bites


def test_a_scoring_date_reads_the_caps_and_hours_of_its_own_windows_as_a_full_build_does(sim_tables):
    # one date computes each month's pro-rata cap only in the 12 months its over-cap windows read (MonthGrid.slots_read);
    # a full build computes every month: the two must give the same features, bit for bit, hours changing mid-history
    from retention_ml.features import build_dataset

    tables = _halved_midway(sim_tables)
    dates = pd.date_range("2019-02-01", "2022-12-01", freq="MS")
    full = build_dataset(tables, dates)
    cols = ["caseload_to_cap", "caseload_over_cap_months_6m", "caseload_over_cap_months_12m"]
    for t in (D("2021-06-01"), D("2022-12-01")):
        one = build_features(tables, [t], families=["caseload"])
        at = full.keys["as_of"].eq(t).to_numpy()
        mine = one.X[cols].set_axis(one.keys["worker_id"].to_numpy()).loc[full.keys.loc[at, "worker_id"]]
        np.testing.assert_array_equal(mine.to_numpy(dtype="float64"), full.X.loc[at, cols].to_numpy(dtype="float64"))
        assert one.X["caseload_over_cap_months_12m"].gt(0).sum() > 10   # the test bites: months over the cap counted
