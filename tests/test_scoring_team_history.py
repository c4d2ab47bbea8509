"""Scoring with team_history: a manager's list is their team on the scoring date, and the team cap the one then."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def history_dir(sim_dir, tmp_path_factory):
    """sim_dir with one team (T) managed by a colleague (P) for June-July 2022 and a cap of 7 from June 2022,
    and another team's manager left blank (a team without a manager must not undo the history)."""
    from retention_ml.io import read_tables

    tables = read_tables(sim_dir)
    teams, workers = tables["teams"], tables["workers"]
    as_of = pd.Timestamp("2022-07-01")
    in_post = workers[(workers["start_date"] < as_of) & (workers["end_date"].isna() | (workers["end_date"] >= as_of))]
    managed = teams.dropna(subset=["manager_id"])
    team, manager = managed["team_id"].iloc[0], managed["manager_id"].iloc[0]
    colleague = in_post.loc[(in_post["team_id"] == team) & (in_post["worker_id"] != manager), "worker_id"].iloc[0]
    data = tmp_path_factory.mktemp("history") / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    other = managed["team_id"].iloc[1]
    teams.loc[teams["team_id"] == other, "manager_id"] = None
    teams.to_csv(data / "teams.csv", index=False)
    pd.DataFrame({"team_id": [team, team], "effective_date": ["2022-06-01", "2022-08-01"],
                  "caseload_cap": [7, None], "establishment_fte": [None, None],
                  "manager_id": [colleague, manager]}).to_csv(data / "team_history.csv", index=False)
    return data, team, manager, colleague, other


def test_the_list_goes_to_the_manager_on_the_scoring_date(sim_model, history_dir, tmp_path):
    from retention_ml.reports.risk_list import select_teams, team_manager_rows
    from retention_ml.scoring import score

    data, team, manager, colleague, other = history_dir
    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    july = score(ref, data, "2022-07-01", tmp_path / "07", find_previous_scoring=False).scores
    rows = july[july["team_id"] == team]
    assert set(rows["manager_id"]) == {colleague}
    assert select_teams(july, manager=colleague) == [team]
    assert team not in set(july.loc[july["manager_id"] == manager, "team_id"])   # not today's manager's list yet
    # the colleague is the team's manager that day, so off the team's list (a manager never sees their own row)
    assert team_manager_rows(rows).sum() == 1
    assert july.loc[july["team_id"] == other, "manager_id"].isna().all()
    assert (rows["caseload_cap"] == 7).all()                 # the team summary's cap: the one in force then
    september = score(ref, data, "2022-09-01", tmp_path / "09", find_previous_scoring=False).scores
    rows = september[september["team_id"] == team]
    assert set(rows["manager_id"]) == {manager} and (rows["caseload_cap"] == 7).all()   # cap unchanged since June
    with pytest.raises(KeyError):
        select_teams(september, manager=colleague)
