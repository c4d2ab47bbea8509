"""Scoring with fte_history: the FTE in the scores (and the team summary's caseload per FTE) is the one in force
on the scoring date, as the caseload features pro-rate the cap with, not today's workers.fte."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def fte_dir(sim_dir, tmp_path_factory):
    """sim_dir where one full-time worker in post in July 2022 worked 0.6 FTE from the start of the spell until
    a change back to full time dated 2022-09-01 (workers.fte holds today's 1.0)."""
    from retention_ml.io import read_tables

    workers = read_tables(sim_dir)["workers"]
    as_of = pd.Timestamp("2022-07-01")
    in_post = workers[(workers["start_date"] < as_of) & workers["end_date"].isna() & (workers["fte"] == 1.0)
                      & (workers["role"] != "team_manager")]
    worker = in_post.iloc[0]
    data = tmp_path_factory.mktemp("fte") / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    pd.DataFrame({"worker_id": [worker["worker_id"]] * 2, "effective_date": [worker["start_date"].date(), "2022-09-01"],
                  "fte": [0.6, 1.0]}).to_csv(data / "fte_history.csv", index=False)
    return data, worker["worker_id"]


def test_scores_carry_the_fte_in_force_on_the_scoring_date(sim_model, fte_dir, tmp_path):
    from retention_ml.scoring import score

    data, worker = fte_dir
    result, _ = sim_model
    ref = f"runs:/{result.run_id}/model"
    fte = {}
    for as_of in ("2022-07-01", "2022-09-01", "2022-10-01"):   # a change dated on the scoring date counts after it
        s = score(ref, data, as_of, tmp_path / as_of, find_previous_scoring=False).scores
        fte[as_of] = float(s.loc[s["worker_id"] == worker, "fte"].iloc[0])
    assert fte == {"2022-07-01": 0.6, "2022-09-01": 0.6, "2022-10-01": 1.0}
