"""CLI: train / runs / benchmark, with MLflow in tmp_path."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retention_ml.cli import app

REPO = Path(__file__).resolve().parents[2]
IBM = str(REPO / "experiments" / "ibm_hr.toml")
runner = CliRunner()


def test_train_then_runs_lists_it(mlflow_store):
    res = runner.invoke(app, ["train", IBM, "--set", "evaluation.n_boot=20", "--set", "model.n_bootstrap=0", "--set", "tuning.trials=2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["ok"] and out["model_version"] == "1"
    assert "lightgbm" in out["metrics"]["models"]
    listed = runner.invoke(app, ["runs", "--experiment", "ibm_hr", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["run_id"] for r in rows] == [out["run_id"]]
    assert rows[0]["auc"] == pytest.approx(out["metrics"]["models"]["lightgbm"]["roc_auc"]["value"], rel=1e-12)  # full precision
    assert rows[0]["registered"] == "retention-ml-ibm-hr v1 @candidate"
    other = runner.invoke(app, ["runs", "--experiment", "other", "--json"])
    assert other.exit_code == 2 and "no experiment named 'other'" in json.loads(other.stdout)["error"]
    assert "ibm_hr" in json.loads(other.stdout)["error"]


def test_runs_without_a_store_says_so_and_creates_none(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["runs"])
    assert res.exit_code == 2 and (res.exception is None or isinstance(res.exception, SystemExit))
    assert "no tracking store at" in res.output and not (tmp_path / "mlflow.db").exists()


def test_bad_override_exits_2_naming_the_key(mlflow_store):
    res = runner.invoke(app, ["train", IBM, "--set", "model.num_leafs=3", "--json"])
    assert res.exit_code == 2
    assert "'model.num_leafs'" in json.loads(res.stdout)["error"]


def test_missing_data_exits_2(mlflow_store, tmp_path):
    res = runner.invoke(app, ["train", IBM, "--set", f"data.path={tmp_path}/nope.csv", "--json"])
    assert res.exit_code == 2 and "nope.csv" in json.loads(res.stdout)["error"]


def test_benchmark_ibm_json():
    res = runner.invoke(app, ["benchmark", "ibm", "--repeats", "1", "--set", "tuning.trials=1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert len(out["folds"]) == 10  # 5 folds x 2 models
    assert 0.7 < out["models"]["lightgbm"]["roc_auc"]["mean"] < 0.95
    assert runner.invoke(app, ["benchmark", "nope"]).exit_code == 2


def test_flat_training_printout_says_where_calibration_was_checked(mlflow_store):
    res = runner.invoke(app, ["train", IBM, "--set", "evaluation.n_boot=20", "--set", "model.n_bootstrap=0",
                              "--set", "tuning.trials=0"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "checked on the 5-fold cross-fitting" in text and "valid 0 (0)" not in text
    assert "test window (stratified holdout)" in text
