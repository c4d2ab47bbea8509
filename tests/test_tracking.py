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
    with pytest.raises(tracking.NoSuchRun, match="matches no run") as none:
        tracking.resolve_run_id("0000abcd" if not rid.startswith("0000abcd") else "ffffabcd")
    # more of an id that matches nothing cannot help: it says where the runs are listed and how to change store
    assert "give more of the id" not in str(none.value) and "retention-ml runs" in str(none.value)
    assert "MLFLOW_TRACKING_URI" in str(none.value)


# Run in a fresh interpreter: load models:/<name>@candidate where the repository's retention_ml cannot be
# imported (neither its folder on sys.path nor the editable install's finder), so only the package copy the
# logged model carries can serve the pickled TurnoverModel. Prints what it loaded from and the risks.
_LOAD_ELSEWHERE = r"""
import importlib.machinery, json, sys
repo_package = sys.argv[1]

class RepositoryPackageBlocked:
    # First on sys.meta_path: retention_ml comes from sys.path (where MLflow puts the model's code) or not at all.
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "retention_ml":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, sys.path)
        if spec is None or str(spec.origin).startswith(repo_package):
            raise ModuleNotFoundError("retention_ml is blocked outside the model's own code", name=name)
        return spec

sys.meta_path.insert(0, RepositoryPackageBlocked)
try:
    import retention_ml
    sys.exit("retention_ml was importable before loading the model: the test proves nothing")
except ModuleNotFoundError:
    pass
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[2])
X = pd.read_json(sys.argv[3], orient="split")
print(json.dumps({"package": sys.modules["retention_ml"].__file__, "risk": model.predict(X).tolist()}))
"""


def test_registered_model_loads_where_the_repository_package_cannot_be_imported(store, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from retention_ml.model import TurnoverModel

    _, uri = store
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"caseload_current": rng.normal(18, 5, 300), "tenure_months": rng.uniform(1, 120, 300)})
    y = (rng.random(300) < 1 / (1 + np.exp(-(X["caseload_current"] - 22) / 3))).astype(int)
    model = TurnoverModel(n_estimators=20, min_child_samples=10, cv_folds=3).fit(X, y)
    exp = tracking.get_or_create_experiment("t")
    with mlflow.start_run(experiment_id=exp) as run:
        pass
    tracking.log_turnover_model(run.info.run_id, model, X, registered_model="selfcontained")
    (tmp_path / "rows.json").write_text(X.head(25).to_json(orient="split"), encoding="utf-8")
    repo_package = str(Path(tracking.__file__).resolve().parent)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PYTHON")}
    env["MLFLOW_TRACKING_URI"] = uri
    done = subprocess.run([sys.executable, "-I", "-c", _LOAD_ELSEWHERE, repo_package, "models:/selfcontained@candidate",
                           str(tmp_path / "rows.json")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert not loaded["package"].startswith(repo_package)   # served by the model's own copy of the package
    np.testing.assert_allclose(loaded["risk"], model.predict_proba(X.head(25))[:, 1])
