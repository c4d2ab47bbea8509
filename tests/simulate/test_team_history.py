"""The simulator writes team_history when a scenario changes caps or establishment part-way, agreeing with the
engine's own rule; otherwise no such table, and teams holds the values in force at the end of the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.simulate import Scenario, run
from retention_ml.simulate.calibration import council_year_stats

POLICY = {"policy_start": "2021-01", "caseload_cap": 15, "extra_posts_share": 0.1}


@pytest.fixture(scope="module")
def policy_run():
    return run(councils=2, start="2019-01", months=48, seed=11, scenario=Scenario.from_dict(POLICY))


def test_no_policy_change_no_history():
    tables, _, _ = run(councils=1, start="2019-01", months=12, seed=1)
    assert "team_history" not in tables
    tables, _, _ = run(councils=1, start="2019-01", months=12, seed=1, scenario=Scenario(retention_payment=1500,
                                                                                          policy_start="2019-06"))
    assert "team_history" not in tables   # pay only: caps and establishment never change


def test_a_cap_from_the_first_month_is_the_teams_cap():
    # policy_start on the first month: the engine applies the cap all along, so teams must say so
    tables, _, sim = run(councils=1, start="2019-01", months=12, seed=1,
                         scenario=Scenario(caseload_cap=15, policy_start="2019-01"))
    assert "team_history" not in tables and (tables["teams"]["caseload_cap"] == 15).all()
    assert (sim.world.team_cap != 15).any()


def test_history_holds_the_engines_caps_and_establishment(policy_run):
    tables, _, sim = policy_run
    teams, h = tables["teams"], tables["team_history"]
    assert (teams["caseload_cap"] == 15).all()                      # the current cap
    start, policy = pd.Timestamp("2019-01-01"), pd.Timestamp("2021-01-01")
    before, after = (h[h["effective_date"] == d].set_index("team_id") for d in (start, policy))
    assert len(before) == len(after) == len(teams) and len(h) == 2 * len(teams)
    ids = teams["team_id"].to_numpy()
    np.testing.assert_array_equal(before.loc[ids, "caseload_cap"].to_numpy(dtype=int), sim.world.team_cap)
    assert (after["caseload_cap"] == 15).all()
    # establishment: the world's own posts before, plus the scenario's extra posts from the policy month
    world_posts = np.round(np.bincount(sim.world.slot_team, weights=sim.world.slot_fte, minlength=len(ids)), 2)
    np.testing.assert_allclose(before.loc[ids, "establishment_fte"].to_numpy(), world_posts)
    np.testing.assert_allclose(after.loc[ids, "establishment_fte"].to_numpy(), teams["establishment_fte"].to_numpy())
    assert (after["establishment_fte"] > before["establishment_fte"]).any()
    assert h["manager_id"].isna().all()


def test_features_read_the_cap_the_engine_used_each_month(policy_run):
    # the engine: a worker's cap is the team-type cap before the policy month and 15 from it (workforce.py)
    from retention_ml.features._pit import encode, month_index, sorted_keys
    from retention_ml.features.team_history import TeamValues, month_after

    tables, _, sim = policy_run
    ch = tables["caseload_history"].merge(tables["workers"][["worker_id", "team_id"]], on="worker_id")
    book = sorted_keys(tables["teams"]["team_id"])
    got = TeamValues(tables, book).at("caseload_cap", encode(ch["team_id"], book), month_after(month_index(ch["month"])))
    team_cap = pd.Series(sim.world.team_cap, index=tables["teams"]["team_id"].to_numpy())
    engine = np.where(ch["month"] < pd.Timestamp("2021-01-01"), ch["team_id"].map(team_cap).to_numpy(dtype=float), 15.0)
    np.testing.assert_array_equal(got, engine)


def test_calibration_counts_the_vacancy_against_the_establishment_of_the_year(policy_run):
    tables, _, _ = policy_run
    with_history = council_year_stats(tables).set_index(["council_id", "year"])["vacancy"]
    today_only = council_year_stats({k: v for k, v in tables.items() if k != "team_history"})
    today_only = today_only.set_index(["council_id", "year"])["vacancy"]
    years = with_history.index.get_level_values("year")
    # on 30 September 2020 the extra posts did not exist yet: fewer funded posts, fewer vacant
    assert (with_history[years == 2020] < today_only[years == 2020]).all()
    pd.testing.assert_series_equal(with_history[years > 2020], today_only[years > 2020])
