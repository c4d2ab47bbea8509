"""Exact TreeSHAP on the calibrated log-odds scale: additivity and agreement with shap."""

import numpy as np
import pandas as pd
import pytest
import shap

from retention_ml.explain import explain
from retention_ml.explain.values import calibrated_logit, shap_values


def test_values_plus_base_add_up_to_calibrated_log_odds(model, frame):
    X, _ = frame
    values, base = shap_values(model, X)
    p = model.predict_proba(X)[:, 1]
    logit = np.log(p / (1 - p))
    np.testing.assert_allclose(base + values.to_numpy().sum(axis=1), logit, atol=1e-6, rtol=0)


def test_explanation_risk_equals_predict_proba(model, frame, catalogue):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    np.testing.assert_allclose(exp.risk().to_numpy(), model.predict_proba(X)[:, 1], atol=1e-9)
    assert list(exp.values.index) == list(X.index)


def test_values_equal_shap_tree_explainer_scaled_by_platt_slope(model, frame):
    X, _ = frame
    values, base = shap_values(model, X)
    explainer = shap.TreeExplainer(model.booster_, feature_perturbation="tree_path_dependent")
    raw = explainer(X.loc[:, list(model.feature_names_in_)]).values
    a, b = model.calibration_
    np.testing.assert_allclose(values.to_numpy(), a * raw, atol=1e-9)
    assert base == pytest.approx(a * float(np.ravel(explainer.expected_value)[0]) + b, abs=1e-9)


def test_column_order_and_extra_columns_do_not_matter(model, frame):
    X, _ = frame
    shuffled = X[X.columns[::-1]].assign(worker_id="W1")
    np.testing.assert_allclose(shap_values(model, shuffled)[0].to_numpy(), shap_values(model, X)[0].to_numpy())
    np.testing.assert_allclose(calibrated_logit(model, shuffled), calibrated_logit(model, X))


def test_missing_feature_column_is_named(model, frame):
    X, _ = frame
    with pytest.raises(ValueError, match="caseload_cap"):
        shap_values(model, X.drop(columns="caseload_cap"))


def test_empty_input_gives_empty_values_and_the_base(model, frame):
    X, _ = frame
    values, base = shap_values(model, X.iloc[:0])
    assert values.shape == (0, len(model.feature_names_in_))
    assert base == pytest.approx(shap_values(model, X)[1])


def test_chunked_computation_gives_the_same_values_and_reports_progress(model, frame):
    X, _ = frame
    seen = []
    chunked, base = shap_values(model, X, chunk_rows=150, progress=lambda done, total: seen.append((done, total)))
    whole, base_whole = shap_values(model, X)
    np.testing.assert_array_equal(chunked.to_numpy(), whole.to_numpy())
    assert base == base_whole
    assert seen == [(150, 400), (300, 400), (400, 400)]


def test_real_turnover_model_is_additive_on_calibrated_log_odds(frame, make_data):
    from retention_ml.model import TurnoverModel

    X, y = frame
    X_train, y_train = make_data(1500, seed=21)
    X_valid, y_valid = make_data(500, seed=22)
    model = TurnoverModel().fit(X_train, pd.Series(y_train), X_valid=X_valid, y_valid=pd.Series(y_valid))
    values, base = shap_values(model, X)
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(base + values.to_numpy().sum(axis=1), np.log(p / (1 - p)), atol=1e-6, rtol=0)
