"""Workforce dynamics: protected characteristics stay out of the hazard, ASYE, pay, housing, contagion."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.flat import AGE_BAND_EDGES, band_labels
from retention_ml.simulate.hazard import HAZARD_DRIVERS, contributions
from retention_ml.simulate.truth import read_truth


@pytest.fixture(scope="module")
def joined(sim_dir, sim_tables):
    wm = read_truth(sim_dir)["worker_months"]
    w = sim_tables["workers"].merge(sim_tables["teams"][["team_id", "council_id"]], on="team_id")
    return wm.merge(w, on="worker_id")


def test_base_logit_depends_only_on_council_month_and_employment_type(joined):
    # so no protected characteristic (or anything personal) enters the baseline
    assert joined.groupby(["council_id", "month", "employment_type"])["base_logit"].nunique().max() == 1


def test_contributions_need_no_protected_characteristics():
    n = 4
    state = dict(load_ratio=np.full(n, 1.2), over_cap_12m=np.arange(n), absence_3m=np.zeros(n), agency_gap=np.full(n, 0.8),
                 tenure=np.array([3, 30, 3, 30]), asye=np.array([True, False, False, False]), since_progression=np.zeros(n),
                 since_supervision=np.ones(n), commute=np.full(n, 30.0), rent_share=np.full(n, 0.4), rent_growth=np.zeros(n),
                 team_left_3m=np.zeros(n), team_agency=np.zeros(n), frailty=np.zeros(n), life_event=np.zeros(n, bool),
                 agency=np.zeros(n, bool))
    c = pd.DataFrame(contributions(state), columns=HAZARD_DRIVERS)
    assert c["caseload_workload"].is_monotonic_increasing          # months over cap accumulate
    assert c.loc[0, "career_progression"] > c.loc[2, "career_progression"] > c.loc[1, "career_progression"]  # NQSW > new > settled


def test_protected_characteristics_realistic(sim_tables):
    w = sim_tables["workers"]
    assert 0.75 < (w["sex"] == "female").mean() < 0.92
    assert 0.55 < (w["ethnicity_group"] == "white").mean() < 0.85
    assert set(w["age_band"]) <= set(band_labels(AGE_BAND_EDGES))  # the schema's bands (schema.age_band_edges)
    assert (w["disability"] == "yes").mean() < 0.15


def test_asye_workers_are_newly_qualified_permanent_social_workers(sim_tables):
    w = sim_tables["workers"]
    nq = w[w["asye"]]
    assert len(nq) > 10
    assert (nq["role"] == "social_worker").all()
    assert (nq["employment_type"] != "agency").all()
    assert ((nq["start_date"] - nq["qualified_date"]).dt.days.between(0, 366)).all()


def test_agency_pay_50_to_100_percent_above_permanent(sim_tables):
    pay = sim_tables["pay_history"]
    agency = pay[pay["pay_band"] == "AGENCY"]["annual_salary"].median()
    perm = pay[pay["pay_band"] == "SW1"]["annual_salary"].median()
    assert 1.4 < agency / perm < 2.1


def test_housing_growth_at_most_17_percent_a_year(sim_tables):
    h = sim_tables["housing_costs"].sort_values(["area", "period"])
    growth = h.groupby("area")["median_monthly_rent"].pct_change(12).dropna()
    assert growth.max() < 0.20  # 17% plus month-to-month noise
    assert growth.min() > -0.05


def test_leavers_cases_go_to_colleagues(sim_tables):
    cases = sim_tables["caseload_history"].merge(sim_tables["workers"][["worker_id", "team_id", "role"]], on="worker_id")
    cases = cases[cases["role"] != "team_manager"]
    team = cases.groupby(["team_id", "month"]).agg(holders=("worker_id", "size"), mean_cases=("open_cases", "mean")).reset_index()
    team = team.sort_values(["team_id", "month"])
    nxt = team.groupby("team_id")[["holders", "mean_cases"]].shift(-1)
    change = np.log(nxt["mean_cases"] / team["mean_cases"])
    drop = nxt["holders"] < team["holders"]
    same = nxt["holders"] == team["holders"]
    # when a case holder goes, the team's cases stay: each remaining colleague carries more
    assert change[drop].mean() > change[same].mean() + 0.05


def test_monthly_tables_cover_each_worker_month_in_post(sim_tables):
    cases, absence = sim_tables["caseload_history"], sim_tables["absence"]
    assert len(cases) == len(absence)
    w = sim_tables["workers"].set_index("worker_id")
    first = cases.groupby("worker_id")["month"].min()
    assert (first >= w.loc[first.index, "start_date"].dt.to_period("M").dt.to_timestamp()).all()
    last = cases.groupby("worker_id")["month"].max()
    ended = w.loc[last.index, "end_date"].dropna()
    assert (last[ended.index] <= ended.dt.to_period("M").dt.to_timestamp()).all()


def test_office_of_staff_in_post_is_their_teams_current_office(sim_tables):
    w = sim_tables["workers"].merge(sim_tables["teams"][["team_id", "area"]], on="team_id")
    current = w[w["end_date"].isna()]
    assert (current["office_area"] == current["area"]).all()


def test_commute_changes_after_moves(sim_tables):
    com = sim_tables["commute"]
    spells = sim_tables["workers"][["worker_id", "start_date"]]
    first = com.merge(spells, on="worker_id")
    later = first[first["effective_date"] > first["start_date"]]
    assert later["worker_id"].nunique() > 10  # home or office moves after the spell began


def test_internal_moves_start_a_new_spell_for_the_same_person(sim_tables):
    w = sim_tables["workers"]
    moved = w[w["leaving_reason"] == "internal_move"]
    new = w[w["start_date"].isin(moved["end_date"] + pd.Timedelta(days=1)) & (w["employment_type"] == "permanent")]
    pairs = moved.assign(next_start=moved["end_date"] + pd.Timedelta(days=1)).merge(
        new, left_on=["next_start", "sex", "ethnicity_group", "disability", "home_area", "qualified_date"],
        right_on=["start_date", "sex", "ethnicity_group", "disability", "home_area", "qualified_date"], suffixes=("_old", "_new"))
    assert len(pairs) > 0
    assert (pairs["team_id_old"] != pairs["team_id_new"]).all()
    assert (~pairs["asye_new"]).all()
