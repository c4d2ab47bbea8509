"""Explanations logged to an MLflow run (embedded store in tmp_path)."""

import numpy as np
import pandas as pd
import pytest

from retention_ml import tracking
from retention_ml.explain import explain, log_run_explanations
from retention_ml.explain.alignment import exit_interview_alignment


@pytest.fixture
def run_id(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    tracking.configure(f"sqlite:///{tmp_path}/mlflow.db")
    experiment = tracking.get_or_create_experiment("explain-tests")
    return tracking.client().create_run(experiment).info.run_id


def _leavers(X, context, y):
    keys = context.assign(as_of=pd.Timestamp("2024-01-01"))
    stated = np.where(np.arange(len(X)) % 3 == 0, "caseload_workload", "housing_cost")
    interviews = pd.DataFrame({"worker_id": keys["worker_id"], "primary_reason": stated})
    return keys, pd.Series(y), interviews


def test_logs_the_explanation_record(run_id, model, frame, catalogue, context):
    X, y = frame
    keys, y, interviews = _leavers(X, context, y)
    out = log_run_explanations(
        model, X, keys, y, tables={"exit_interviews": interviews}, run_id=run_id, catalogue=catalogue,
        truth={"n_leavers": 3, "top1": {"value": 0.5, "low": 0.1, "high": 0.9}}, n_boot=100,
    )
    listed = set(tracking.list_artifacts(run_id, "explanations"))
    assert listed == {
        "explanations/global_importance.csv",
        "explanations/driver_importance.csv",
        "explanations/beeswarm.png",
        "explanations/alignment.json",
        "explanations/truth.json",
    }
    alignment = tracking.load_json_artifact(run_id, "explanations/alignment.json")
    assert alignment["n_with_interview"] == int((y == 1).sum())
    assert alignment["top3"]["value"] == pytest.approx(out["alignment"]["top3"]["value"])
    features = tracking.load_table_artifact(run_id, "explanations/global_importance.csv")
    assert list(features.columns) == ["feature", "driver", "mean_abs_shap"]
    assert set(features["feature"]) == set(model.feature_names_in_)
    drivers = tracking.load_table_artifact(run_id, "explanations/driver_importance.csv")
    assert "other" in set(drivers["driver"])
    assert tracking.load_json_artifact(run_id, "explanations/truth.json")["n_leavers"] == 3


def test_without_exit_interviews_alignment_is_empty_not_missing(run_id, model, frame, catalogue, context):
    X, y = frame
    keys, y, _ = _leavers(X, context, y)
    out = log_run_explanations(model, X.iloc[:50], keys.iloc[:50], y.iloc[:50], tables={}, run_id=run_id, catalogue=catalogue, n_boot=50)
    assert out["alignment"]["n_with_interview"] == 0
    assert out["alignment"]["top1"]["value"] is None
    assert "explanations/truth.json" not in tracking.list_artifacts(run_id, "explanations")


def test_sampling_keeps_every_leavers_last_snapshot_and_alignment_unchanged(run_id, model, frame, catalogue, context):
    from retention_ml.explain.logging import rows_to_explain

    X, y = frame
    keys, y, interviews = _leavers(X, context, y)
    rows, sample = rows_to_explain(keys, y, max_rows=100, random_state=0)   # the default log_run_explanations uses
    assert len(sample) == 100 and set(np.flatnonzero(y.to_numpy() == 1)) <= set(rows)
    full = log_run_explanations(model, X, keys, y, tables={"exit_interviews": interviews}, run_id=run_id, catalogue=catalogue, n_boot=50, max_rows=None)
    part = log_run_explanations(model, X, keys, y, tables={"exit_interviews": interviews}, run_id=run_id, catalogue=catalogue, n_boot=50, max_rows=100)
    # sampling changes only the reference (each date's average, estimated from the sample):
    # every row explained against that same reference gives the same alignment
    every = explain(model, X, catalogue=catalogue).relative_to(keys["as_of"], reference_rows=rows[sample])
    expected = exit_interview_alignment(every.by_driver(), keys, y, interviews, n_boot=50, global_rows=rows[sample])
    for key in ("n_leavers", "n_with_interview", "top1", "top3", "by_driver", "confusion", "share_personal"):
        assert part["alignment"][key] == expected[key], key
    assert part["alignment"]["n_leavers"] == full["alignment"]["n_leavers"]
    assert part["alignment"]["global_sample_rows"] == 100
    assert full["alignment"]["explained_rows"] == len(X)
    np.testing.assert_allclose(part["explanation"].log_odds(), full["explanation"].log_odds().iloc[rows], atol=1e-9)


def test_the_beeswarm_is_the_same_picture_every_time(tmp_path, model, frame):
    # shap jitters points with numpy's global generator; two identical runs must log identical plots.
    from retention_ml.explain.logging import write_beeswarm

    X, _ = frame
    explanation = explain(model, X)
    np.random.seed(1)
    first = write_beeswarm(explanation, X, tmp_path / "a.png").read_bytes()
    np.random.seed(2)
    second = write_beeswarm(explanation, X, tmp_path / "b.png").read_bytes()
    assert first == second
    assert np.random.get_state()[1][0] == np.random.RandomState(2).get_state()[1][0]  # the caller's state is given back
