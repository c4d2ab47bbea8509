"""The embedded MLflow store: runs, artifacts and registry aliases through retention_ml.tracking."""

import mlflow
import pytest

from retention_ml import tracking


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = tracking.configure()
    return tmp_path, uri


def test_default_store_is_sqlite_in_working_directory(store):
    tmp_path, uri = store
    assert uri == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_override_beats_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example:5000")
    assert tracking.tracking_uri() == "http://example:5000"
    assert tracking.tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


def test_artifacts_round_trip_and_land_in_mlartifacts(store):
    tmp_path, _ = store
    exp = tracking.get_or_create_experiment("t")
    with mlflow.start_run(experiment_id=exp) as run:
        pass
    rid = run.info.run_id
    tracking.log_json(rid, {"a": 1}, "evaluation/metrics.json")
    assert tracking.load_json_artifact(rid, "evaluation/metrics.json") == {"a": 1}
    assert tracking.list_artifacts(rid, "evaluation") == ["evaluation/metrics.json"]
    assert list((tmp_path / "mlartifacts").rglob("metrics.json"))
    tracking.set_run_tag(rid, "k", "v")
    assert tracking.run_tags(rid)["k"] == "v"
    assert tracking.resolve_run_id(f"runs:/{rid}/model") == rid


def test_alias_of_unknown_model_is_none(store):
    assert tracking.alias_version("champion", name="nope") is None


def test_a_run_id_prefix_as_runs_shows_it_resolves_when_unique(store):
    exp = tracking.get_or_create_experiment("t")
    ids = []
    for _ in range(3):
        with mlflow.start_run(experiment_id=exp) as run:
            ids.append(run.info.run_id)
    rid = ids[0]
    assert tracking.resolve_run_id(rid[:8]) == rid
    assert tracking.resolve_run_id(rid) == rid
    with pytest.raises(ValueError, match="matches no run"):
        tracking.resolve_run_id("0000abcd" if not rid.startswith("0000abcd") else "ffffabcd")
