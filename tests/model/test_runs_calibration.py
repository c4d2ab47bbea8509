"""ECE in the run record and in `retention-ml runs`: its chance level beside it, no bootstrap interval (calibration
review S15: the interval could leave out its own value, 0.037 [0.049, 0.109] on a flat extract)."""

import json

import mlflow
import pytest
from typer.testing import CliRunner

from retention_ml import tracking
from retention_ml.cli import app
from retention_ml.training import _flat_metrics

runner = CliRunner()


def test_the_run_logs_ece_with_its_chance_level_beside_its_interval():
    record = {"models": {"lightgbm": {"roc_auc": {"value": 0.8, "low": 0.75, "high": 0.85, "undefined": 0},
                                      "ece": {"value": 0.034, "low": 0.03, "high": 0.077, "chance": 0.032,
                                              "chance_high": 0.049, "p_value": 0.39, "undefined": 0}}},
              "calibration": {"a": 1.0, "b": 0.1, "ece_valid_before": 0.03, "ece_valid_after": 0.03},
              "best_iteration": 10, "counts": {}}
    logged = _flat_metrics(record)
    assert logged["lightgbm.roc_auc.low"] == 0.75 and logged["lightgbm.roc_auc.high"] == 0.85
    assert (logged["lightgbm.ece"], logged["lightgbm.ece.chance_high"], logged["lightgbm.ece.p_value"]) == (0.034, 0.049, 0.39)
    assert (logged["lightgbm.ece.low"], logged["lightgbm.ece.high"]) == (0.03, 0.077)


def test_runs_shows_the_ece_chance_level_and_not_an_older_runs_interval(tmp_path, scratch_store):
    params = {"kind": "flat", "seed": "42", "window.test": "holdout"}
    with scratch_store(tmp_path):
        experiment = tracking.get_or_create_experiment("e")
        ids = {}
        for name, metrics in {"new": {"lightgbm.ece": 0.034, "lightgbm.ece.chance_high": 0.049, "lightgbm.ece.p_value": 0.39},
                              "old": {"lightgbm.ece": 0.037, "lightgbm.ece.low": 0.049, "lightgbm.ece.high": 0.109}}.items():
            with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
                mlflow.log_params(params | {"seed": name})
                mlflow.log_metrics(metrics)
            ids[name] = run.info.run_id
        res = runner.invoke(app, ["runs", "--json"])
        assert res.exit_code == 0, res.output
        rows = {r["run_id"]: r for r in json.loads(res.stdout)}
        new, old = rows[ids["new"]], rows[ids["old"]]
        assert (new["ece"], new["ece chance"], new["ece p"]) == pytest.approx((0.034, 0.049, 0.39))
        assert old["ece"] == pytest.approx(0.037) and old["ece chance"] is None
        assert "ece low" not in new and "ece high" not in old
        wide = runner.invoke(app, ["runs", "--wide"])
        assert "ece chance" in wide.stdout and "0.0490" in wide.stdout and "0.1090" not in wide.stdout
