"""Every command that reads a model or runs from MLflow takes --tracking-uri, as card and promote do.

Before, score, explain, runs and truth-check reached another store only through MLFLOW_TRACKING_URI: an analyst
following `card --tracking-uri ...` with `score --tracking-uri ...` got "No such option" and exit 2. Run from an
empty folder with the variable unset, each command must find the store the option names and create nothing where
it runs.
"""

from __future__ import annotations

import json

import mlflow
import pandas as pd
from typer.testing import CliRunner

from retention_ml.cli import app

runner = CliRunner()
AS_OF = "2022-07-01"   # inside the simulated data (2019-01 to 2022-12)


def _ok(argv: list[str]) -> dict:
    done = runner.invoke(app, [*argv, "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_score_explain_runs_and_truth_check_read_the_store_the_option_names(sim_model, sim_dir, tmp_path,
                                                                             monkeypatch):
    result, root = sim_model
    uri = f"sqlite:///{root}/mlflow.db"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(elsewhere)
    mlflow.set_tracking_uri(f"sqlite:///{elsewhere}/mlflow.db")   # a stale global must not win over the option either
    option = ["--tracking-uri", uri]

    listed = _ok(["runs", *option])
    assert result.run_id in {row["run_id"] for row in listed}
    scored = _ok(["score", "--model", result.run_id, "--data", str(sim_dir), "--as-of", AS_OF,
                  "--out", str(tmp_path / "scores"), *option])
    assert scored["ok"] and scored["run_id"] == result.run_id
    worker = pd.read_parquet(tmp_path / "scores" / "scores.parquet")["worker_id"].iloc[0]
    explained = _ok(["explain", "--run", result.run_id, "--data", str(sim_dir), "--as-of", AS_OF,
                     "--worker", worker, *option])
    assert explained["worker_id"] == worker
    # --n-boot 0 (the option allows it) stopped on numpy's "need at least one array to concatenate"
    checked = runner.invoke(app, ["truth-check", "--run", result.run_id, "--data", str(sim_dir), "--n-boot", "0",
                                  "--no-log", "--json", *option])
    assert checked.exit_code in (0, 1), checked.output   # 1: a bar missed on this small simulation, not a failure
    record = json.loads(checked.stdout)
    assert record["n_leavers"] > 0 and record["top3"]["low"] is None and record["top3"]["value"] is not None
    assert list(elsewhere.iterdir()) == []   # no empty store made where the commands ran
