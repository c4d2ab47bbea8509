"""End to end: experiment -> model -> evaluation record -> MLflow run -> registry -> pyfunc predictions.

MLflow is pointed at tmp_path (fixture ``mlflow_store``). The flat IBM HR path runs for real;
the snapshot path runs on a synthetic SnapshotDataset until the features package and the
simulator fixture exist in this tree.
"""

import sys
import types
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from retention_ml import tracking
from retention_ml.disclosure import AUDIT_RISK_DECIMALS
from retention_ml.experiment import load_experiment
from retention_ml.model import TurnoverModel
from retention_ml.training import audit_rows, train_experiment

REPO = Path(__file__).resolve().parents[2]
FAST = ["evaluation.n_boot=20", "model.n_bootstrap=2", "tuning.trials=0"]  # ibm_hr.toml ships 30 tuning trials
CONTRACT_METRICS = {"roc_auc", "average_precision", "brier", "ece", "precision_top10", "recall_top10"}


@pytest.fixture(scope="module")
def ibm_exp():
    return load_experiment(REPO / "experiments" / "ibm_hr.toml", overrides=FAST)


def test_flat_run_is_logged_registered_and_loadable(ibm_exp, mlflow_store):
    result = train_experiment(ibm_exp)
    rid = result.run_id
    record = tracking.load_json_artifact(rid, "evaluation/metrics.json")
    assert set(record["models"]) == {"lightgbm", "logistic", "team_base_rate"}
    for model in record["models"].values():
        assert set(model) == CONTRACT_METRICS
        assert all(iv["low"] < iv["high"] and np.isfinite(iv["value"]) for m, iv in model.items() if m != "ece")
        assert 0 < model["ece"]["chance"] < model["ece"]["chance_high"] and 0 < model["ece"]["p_value"] <= 1
    assert record["counts"]["test"]["n"] == 368 and set(record["beats_baselines"]) == {"logistic", "team_base_rate"}
    assert record["calibration"]["method"] == "platt"
    artifacts = set(tracking.list_artifacts(rid)) | set(tracking.list_artifacts(rid, "evaluation"))
    assert {"experiment.toml", "feature_catalogue.csv", "censoring_report.csv", "evaluation/metrics.json",
            "evaluation/fairness_audit.json", "evaluation/calibration.png", "evaluation/feature_importance.csv"} <= artifacts
    assert "evaluation/test_predictions.parquet" not in artifacts   # no row about a person (test_fairness_record.py)
    tags = tracking.run_tags(rid)
    assert tags["retention_ml.experiment"] == "ibm_hr" and tags["retention_ml.simulated"] == "false"
    assert len(tags["retention_ml.data_fingerprint"]) == 64 and tags["retention_ml.schema_version"]
    # Registry: alias "candidate" of the experiment's own name (not the council model's) points at this
    # run's version; both loaders agree with the run's predictions.
    name = ibm_exp["registered_model"]
    assert name == "retention-ml-ibm-hr" and tracking.alias_version("candidate") is None
    assert tracking.alias_version("candidate", name).run_id == rid
    model, loaded_rid = tracking.load_turnover_model(f"models:/{name}@candidate")
    assert isinstance(model, TurnoverModel) and loaded_rid == rid and model.booster_ is not None
    preds = audit_rows(result.predictions, ibm_exp["flat"]["protected"])   # what the logged audit is computed from
    # Audit rows: a run-local pseudonym and the protected columns, no worker or team (department) id.
    assert {"person", "label", "risk", "Gender"} <= set(preds.columns) and not {"worker_id", "team_id"} & set(preds.columns)
    assert preds["person"].nunique() == len(preds) == record["counts"]["test"]["n"]
    from retention_ml.flat import load_flat

    ds = load_flat(ibm_exp["data"]["path"], ibm_exp["flat"])
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}@candidate")
    assert pyfunc.metadata.signature is not None
    # The input example anyone with registry access can read is nobody's record: the test rows' medians.
    example = pyfunc.input_example
    test_X = ds.X[ds.keys["worker_id"].isin(result.predictions["worker_id"]).to_numpy()]
    assert len(example) == 1 and not (ds.X.astype("float64").to_numpy() == example.to_numpy()).all(axis=1).any()
    np.testing.assert_allclose(example.to_numpy()[0], test_X.astype("float64").median().to_numpy())
    np.testing.assert_allclose(pyfunc.predict(ds.X.head(50)), model.predict_proba(ds.X.head(50))[:, 1])
    # ... and by its version number in the registry (models:/name/version) as well.
    by_version = mlflow.pyfunc.load_model(f"models:/{name}/{result.model_version}")
    np.testing.assert_allclose(by_version.predict(test_X), result.model.predict_proba(test_X)[:, 1])
    # the audit rows log each risk to AUDIT_RISK_DECIMALS, never the number a scores file holds
    np.testing.assert_allclose(np.sort(by_version.predict(test_X)), np.sort(preds["risk"].to_numpy()), rtol=0,
                               atol=0.5 * 10.0 ** -AUDIT_RISK_DECIMALS + 1e-12)
    # A second run becomes a new version and takes the alias.
    second = train_experiment(ibm_exp)
    assert int(second.model_version) == int(result.model_version) + 1
    assert tracking.alias_version("candidate", name).run_id == second.run_id


def test_same_experiment_and_seed_give_identical_metrics_and_predictions(ibm_exp):
    a = train_experiment(ibm_exp, log=False)
    b = train_experiment(ibm_exp, log=False)
    assert a.metrics == b.metrics
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    c = train_experiment(dict(ibm_exp, seed=7), log=False)
    assert not np.array_equal(a.predictions["risk"], c.predictions["risk"])
    # Tuning too: the same seed gives the same search, hence the same model and numbers.
    tuned = load_experiment(REPO / "experiments" / "ibm_hr.toml", overrides=[*FAST, "tuning.trials=3"])
    t1, t2 = train_experiment(tuned, log=False), train_experiment(tuned, log=False)
    assert t1.metrics == t2.metrics and t1.metrics["tuning"]["trials"] == 3
    pd.testing.assert_frame_equal(t1.predictions, t2.predictions)


def _synthetic_snapshot_modules(monkeypatch, n_workers=400, months=48):
    """Stand-ins for retention_ml.features / labels with the contract's SnapshotDataset fields."""
    rng = np.random.default_rng(0)

    class LabelConfig:
        def __init__(self, horizon_months=12, positive_reasons=("resignation",), agency="flag"):
            self.horizon_months = horizon_months

    def build_dataset(tables, as_of_dates, *, label_config, families=None):
        keys = pd.DataFrame([(f"W{w:05d}", d) for d in as_of_dates for w in range(n_workers)], columns=["worker_id", "as_of"])
        keys["team_id"] = "T" + (keys.worker_id.str[1:].astype(int) % 20).astype(str)
        keys["council_id"] = "C1"
        X = pd.DataFrame({"caseload_current": rng.normal(18, 5, len(keys)), "tenure_months": rng.exponential(40, len(keys))})
        p = 1 / (1 + np.exp(-(-2 + 0.2 * (X.caseload_current - 18))))
        y = pd.Series((rng.random(len(keys)) < p).astype(float))
        censored = pd.Series(np.zeros(len(keys), bool))
        catalogue = pd.DataFrame({"feature": X.columns, "meaning": "", "unit": "", "driver": ["caseload_workload", "career_progression"], "family": "t",
                                  "direction": [1, 0]})
        return types.SimpleNamespace(keys=keys, X=X, y=y, censored=censored, catalogue=catalogue,
                                     censoring_report=pd.DataFrame({"as_of": [], "censored": []}))

    monkeypatch.setitem(sys.modules, "retention_ml.features", types.SimpleNamespace(build_dataset=build_dataset))
    monkeypatch.setitem(sys.modules, "retention_ml.labels", types.SimpleNamespace(LabelConfig=LabelConfig))
    months_col = pd.date_range("2020-01-01", periods=months, freq="MS")
    tables = {"caseload_history": pd.DataFrame({"month": months_col}),
              "workers": pd.DataFrame({"worker_id": [f"W{w:05d}" for w in range(n_workers)], "sex": "F"})}
    monkeypatch.setattr("retention_ml.training.read_data_and_readings", lambda path: (tables, None))


def test_snapshot_path_splits_out_of_time_and_logs(tmp_path, mlflow_store, monkeypatch):
    _synthetic_snapshot_modules(monkeypatch)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "workers.csv").write_text("worker_id\n")
    exp_file = tmp_path / "exp.toml"
    exp_file.write_text('name = "syn"\n[data]\npath = "data"\n[evaluation]\nn_boot = 20\n[model]\nn_bootstrap = 0\n')
    result = train_experiment(load_experiment(exp_file), simulated=True)  # the tag follows the caller's fact
    w = result.metrics["windows"]
    # Data 2020-01..2023-12 -> end 2024-01; snapshots 2021-01 .. 2023-01 quarterly; gaps of 12 months.
    assert w == {"test": ["2023-01-01", "2023-01-01"], "valid": ["2022-01-01", "2022-01-01"], "train": ["2021-01-01", "2021-01-01"]}
    assert result.metrics["counts"]["test"]["n"] == 400
    assert result.predictions.columns.tolist() == ["worker_id", "as_of", "team_id", "council_id", "sex", "label", "risk"]
    assert tracking.run_tags(result.run_id)["retention_ml.simulated"] == "true"
    assert result.metrics["models"]["lightgbm"]["roc_auc"]["value"] > 0.6
    # Explanations (H5) were logged to the same run through the agreed call.
    assert tracking.run_tags(result.run_id)["retention_ml.explanations"] == "logged"
    assert "explanations/alignment.json" in tracking.list_artifacts(result.run_id, "explanations")


def test_tuning_stays_inside_the_training_window(ibm_exp, monkeypatch):
    import retention_ml.training as training

    seen = []
    real_fit = TurnoverModel.fit

    def spy(self, X, y, **kw):
        seen.append(set(X.index) | set(kw["X_valid"].index if "X_valid" in kw else ()))
        return real_fit(self, X, y, **kw)

    monkeypatch.setattr(TurnoverModel, "fit", spy)
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml", overrides=[*FAST, "tuning.trials=2", "model.n_estimators=50"])
    result = training.train_experiment(exp, log=False)
    assert result.metrics["tuning"]["trials"] == 2 and len(seen) == 3
    from retention_ml.flat import load_flat

    n = len(load_flat(exp["data"]["path"], exp["flat"]).y)
    test_rows = set(range(n)) - seen[2]  # the final model's training rows are all but the test part
    assert len(test_rows) == result.metrics["counts"]["test"]["n"] == 368
    assert all(rows <= seen[2] for rows in seen[:2])  # the two trials saw training rows only
    assert result.metrics["calibration"]["checked_on"].startswith("5-fold cross-fitting")


def test_flat_tuning_chooses_by_out_of_fold_log_loss(ibm_exp):
    """Flat extracts: the search starts from the defaults, keeps the trial with the lowest out-of-fold
    calibrated log-loss (not the highest ROC-AUC), and its space includes row subsampling."""
    import optuna

    from retention_ml.flat import load_flat
    from retention_ml.training import model_params, tune

    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml", overrides=[*FAST, "tuning.trials=4", "model.n_estimators=40"])
    ds = load_flat(exp["data"]["path"], exp["flat"])
    seen = []
    real_optimize = optuna.Study.optimize

    def spy(self, *args, **kw):
        real_optimize(self, *args, **kw)
        seen.extend(self.trials)

    optuna.Study.optimize, restore = spy, optuna.Study.optimize
    try:
        params, report = tune(ds.X, ds.y, ds.keys[["worker_id"]], exp, model_params(exp))
    finally:
        optuna.Study.optimize = restore
    assert report["objective"] == "out-of-fold log-loss" and report["trials"] == len(seen) == 4
    # The search starts from the experiment's own setting (the model defaults here).
    base = model_params(exp)
    assert seen[0].params == {k: base[k] for k in seen[0].params} and len(seen[0].params) == 7
    losses = [-t.value for t in seen]
    assert report["best_inner_log_loss"] == min(losses)
    best = seen[int(np.argmin(losses))]
    assert report["best_inner_roc_auc"] == best.user_attrs["roc_auc"]
    assert "subsample" in report["best"] and params["subsample"] == report["best"]["subsample"]
    # The reported loss is the chosen model's own out-of-fold log-loss: refitting it reproduces it.
    refit = TurnoverModel(**dict(params, n_bootstrap=0), random_state=exp["seed"]).fit(ds.X, ds.y)
    assert refit.valid_log_loss_["after"] == pytest.approx(report["best_inner_log_loss"], rel=1e-12)


def test_a_flat_model_cannot_take_the_aliases_of_a_snapshot_model(ibm_exp, mlflow_store):
    # The council model's name already holds a snapshot model: an IBM run pointed at it refuses before training.
    first = train_experiment(ibm_exp)
    tracking.set_run_tag(first.run_id, "retention_ml.kind", "snapshots")
    with pytest.raises(ValueError, match="holds snapshots models.*registered_model"):
        train_experiment(ibm_exp)
    assert tracking.alias_version("candidate", ibm_exp["registered_model"]).run_id == first.run_id


def test_tuning_holdout_keeps_each_worker_on_one_side_when_the_window_is_short():
    # Too few dates for an inner gap: the fallback held out snapshot rows, so one leaving (labelled at several
    # dates) sat on both sides and the search was rewarded for remembering people.
    from retention_ml.training import inner_split

    rng = np.random.default_rng(0)
    workers = np.repeat([f"W{i:03d}" for i in range(120)], 3)
    keys = pd.DataFrame({"worker_id": workers,
                         "as_of": np.tile(pd.to_datetime(["2021-01-01", "2021-04-01", "2021-07-01"]), 120)})
    y = pd.Series(np.repeat(rng.random(120) < 0.2, 3).astype(float))
    inner = inner_split(keys, y, {"label": {"horizon_months": 12}, "seed": 42})
    assert inner.train.sum() > 0 and inner.valid.sum() > 0 and not (inner.train & inner.valid).any()
    assert not set(workers[inner.train]) & set(workers[inner.valid])
    assert y[inner.valid].sum() > 0   # stratified: leavers on the checking side


def test_a_renamed_run_is_named_once_with_the_settings_it_changed():
    from retention_ml.training import run_name

    exp = {"name": "pilot", "overrides": ["name=pilot", "label.horizon_months=6", "data.path=/x"]}
    assert run_name(exp) == "pilot label.horizon_months=6"   # was "pilot name=pilot horizon_months=6"


def test_a_run_name_keeps_each_keys_section_and_the_value_that_ran():
    # Analyst review S14: "council_default n_boot=50" did not say it was the evaluation's bootstrap (the model has
    # its own, model.n_bootstrap), "Salary=pay" hid that it was flat.drivers.Salary, and a key set twice was named
    # twice although only the last value ran.
    from retention_ml.training import run_name

    exp = {"name": "council_default", "overrides": ["evaluation.n_boot=50", "model.learning_rate=0.05",
                                                    "flat.drivers.Salary = \"pay\"", "evaluation.n_boot=20"]}
    assert run_name(exp) == 'council_default model.learning_rate=0.05 flat.drivers.Salary="pay" evaluation.n_boot=20'


def test_every_models_metrics_are_logged_with_their_interval():
    # Analyst review S14: MLflow held lightgbm.roc_auc.low/.high but only logistic.roc_auc and team_base_rate.roc_auc,
    # so the compare view could not show whether LightGBM beat a baseline beyond the noise (train's table and the
    # card show both intervals).
    from retention_ml.training import _flat_metrics

    fig = lambda v: {"value": v, "low": v - 0.05, "high": v + 0.05, "undefined": 0}  # noqa: E731
    record = {"models": {m: {"roc_auc": fig(v), "brier": fig(v / 10)} for m, v in
                         (("lightgbm", 0.7), ("logistic", 0.65), ("team_base_rate", 0.55))},
              "calibration": {"a": 1.0, "b": 0.0, "ece_valid_before": 0.05, "ece_valid_after": 0.02},
              "best_iteration": 51, "counts": {"test": {"n": 582, "positives": 64, "leavers": 64}}}
    metrics = _flat_metrics(record)
    for model, value in (("lightgbm", 0.7), ("logistic", 0.65), ("team_base_rate", 0.55)):
        assert metrics[f"{model}.roc_auc"] == value
        assert (metrics[f"{model}.roc_auc.low"], metrics[f"{model}.roc_auc.high"]) == pytest.approx((value - 0.05, value + 0.05))
        assert f"{model}.brier.high" in metrics
    assert metrics["test.leavers"] == 64 and metrics["best_iteration"] == 51
