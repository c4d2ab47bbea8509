"""End to end on the shared simulated data set (``sim_dir``): features -> split -> model -> MLflow -> explanations."""

import numpy as np
import pandas as pd

from retention_ml import tracking
from retention_ml.disclosure import AUDIT_RISK_DECIMALS
from retention_ml.evaluate import top_share_mask
from retention_ml.experiment import load_experiment
from retention_ml.fairness import FLAGGED
from retention_ml.training import audit_rows, train_experiment


def _exp(tmp_path, sim_dir, *extra):
    path = tmp_path / "sim.toml"
    path.write_text('name = "sim"\nseed = 3\n[data]\npath = "."\n[model]\nn_bootstrap = 2\n[evaluation]\nn_boot = 20\n')
    return load_experiment(path, overrides=[f"data.path={sim_dir}", *extra])


def test_simulated_run_end_to_end(sim_dir, tmp_path, mlflow_store):
    result = train_experiment(_exp(tmp_path, sim_dir))
    rec = result.metrics
    test_start = pd.Timestamp(rec["windows"]["test"][0])
    valid_start, valid_end = (pd.Timestamp(d) for d in rec["windows"]["valid"])
    train_end = pd.Timestamp(rec["windows"]["train"][1])
    assert train_end + pd.DateOffset(months=12) <= valid_start
    assert valid_end + pd.DateOffset(months=12) <= test_start
    assert rec["counts"]["test"]["positives"] > 0
    assert rec["models"]["lightgbm"]["roc_auc"]["value"] > 0.55
    # The run logs the audit's aggregates, not the rows it computed them from (tests/test_fairness_record.py)
    logged = tracking.list_artifacts(result.run_id, "evaluation")
    assert "evaluation/fairness_audit.json" in logged and "evaluation/test_predictions.parquet" not in logged
    preds = audit_rows(result.predictions)
    # Audit rows no list joins to: a run-local person pseudonym, the audit's groups, no worker/team/council id nor team key.
    assert preds.columns.tolist() == ["person", "as_of", "area", "service", "employment_type", "sex", "age_band",
                                      "ethnicity_group", "disability", "label", "risk", FLAGGED]
    assert not set(preds["person"]) & set(result.predictions["worker_id"])
    assert preds["person"].nunique() == result.predictions["worker_id"].nunique() == rec["counts"]["test"]["workers"]
    # one test date; each risk rounded for the log, the top 10% flagged from the full precision
    np.testing.assert_array_equal(preds["risk"].to_numpy(), np.sort(result.predictions["risk"].to_numpy()).round(AUDIT_RISK_DECIMALS))
    assert preds[FLAGGED].sum() == top_share_mask(result.predictions["risk"]).sum()
    assert (pd.to_datetime(preds["as_of"]) >= test_start).all()
    model, _ = tracking.load_turnover_model(result.run_id)
    assert model.feature_names_in_.tolist() == result.model.feature_names_in_.tolist()
    assert not {"sex", "age_band", "ethnicity_group", "disability", "worker_id"} & set(model.feature_names_in_)
    # default model.constraints = "drivers": the catalogue's directions and one interaction group per driver
    catalogue = tracking.load_table_artifact(result.run_id, "feature_catalogue.csv")
    assert model.monotone == {f: d for f, d in zip(catalogue["feature"], catalogue["direction"]) if d != 0}
    assert len(model.interaction_groups) == catalogue.loc[catalogue["driver"] != "other", "driver"].nunique()
    assert tracking.client().get_run(result.run_id).data.params["model.constraints"] == "drivers"


def test_simulated_run_is_reproducible(sim_dir, tmp_path):
    a = train_experiment(_exp(tmp_path, sim_dir), log=False)
    b = train_experiment(_exp(tmp_path, sim_dir), log=False)
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(a.predictions["risk"].to_numpy(), b.predictions["risk"].to_numpy())
