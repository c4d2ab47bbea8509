"""Training on data where a table holds no rows for a council: trained, and the run's notes say which."""

import shutil

import pandas as pd

from retention_ml.commands.demo import EXPERIMENT
from retention_ml.experiment import load_experiment
from retention_ml.training import train_experiment

FAST = ["evaluation.n_boot=10", "model.n_bootstrap=0", "evaluation.explain=false", "model.n_estimators=20"]


def test_a_council_without_absence_rows_is_a_training_note(sim_dir, tmp_path):
    thin = tmp_path / "thin"
    shutil.copytree(sim_dir, thin, ignore=shutil.ignore_patterns("_truth"))
    teams = pd.read_csv(thin / "teams.csv", dtype=str)
    council = sorted(teams["council_id"].unique())[0]
    workers = pd.read_parquet(thin / "workers.parquet")
    gone = workers.loc[workers["team_id"].isin(teams.loc[teams["council_id"] == council, "team_id"]), "worker_id"]
    absence = pd.read_parquet(thin / "absence.parquet")
    absence[~absence["worker_id"].isin(set(gone))].to_parquet(thin / "absence.parquet", index=False)

    def notes(data):
        return train_experiment(load_experiment(EXPERIMENT, overrides=[f"data.path={data}", *FAST]), log=False).notes

    assert not any("absence" in n for n in notes(sim_dir))
    gap = [n for n in notes(thin) if "absence" in n]
    assert len(gap) == 1 and council in gap[0] and "absence_days_6m" in gap[0], gap
