"""TurnoverModel: calibration, additivity of the Platt map, determinism, intervals, input checks."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from retention_ml.model import TurnoverModel, expit


@pytest.fixture(scope="module")
def fitted(world):
    (X, y, _), (Xv, yv, _), _ = world
    return TurnoverModel(n_bootstrap=4, random_state=3).fit(X, y, X_valid=Xv, y_valid=yv)


def test_learns_the_world_and_is_close_to_the_oracle(fitted, world):
    X, y, p = world[2]
    risk = fitted.predict_proba(X)[:, 1]
    assert roc_auc_score(y, risk) > roc_auc_score(y, p) - 0.05
    assert abs(risk.mean() - y.mean()) < 0.03  # calibrated in the large


def test_probability_is_platt_of_raw_margin(fitted, world):
    X = world[2][0]
    a, b = fitted.calibration_
    margin = fitted.booster_.predict(X.to_numpy(float), raw_score=True)
    np.testing.assert_allclose(fitted.predict_proba(X)[:, 1], expit(a * margin + b), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fitted.decision_function(X), a * margin + b)


def test_booster_holds_only_the_early_stopped_trees(fitted):
    assert fitted.booster_.num_trees() == fitted.best_iteration_ < fitted.n_estimators


def test_same_seed_same_predictions_other_seed_differs(world):
    (X, y, _), (Xv, yv, _), (Xt, _, _) = world
    a = TurnoverModel(n_estimators=200, random_state=5).fit(X, y, X_valid=Xv, y_valid=yv).predict_proba(Xt)
    b = TurnoverModel(n_estimators=200, random_state=5).fit(X, y, X_valid=Xv, y_valid=yv).predict_proba(Xt)
    c = TurnoverModel(n_estimators=200, random_state=6).fit(X, y, X_valid=Xv, y_valid=yv).predict_proba(Xt)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_interval_brackets_the_ensemble_and_needs_bootstrap(fitted, world):
    X = world[2][0].head(200)
    low, high = fitted.predict_interval(X, level=0.8)
    assert len(fitted.bootstrap_boosters_) == 4
    assert np.all(low <= high) and np.any(high > low)
    assert np.all((low >= 0) & (high <= 1))
    plain = clone(fitted).set_params(n_bootstrap=0, n_estimators=20).fit(*world[0][:2], X_valid=world[1][0], y_valid=world[1][1])
    with pytest.raises(ValueError, match="n_bootstrap"):
        plain.predict_interval(X)


def test_columns_are_matched_by_name(fitted, world):
    X = world[2][0].head(50)
    shuffled = X[list(reversed(X.columns))].assign(extra=1.0)
    np.testing.assert_array_equal(fitted.predict_proba(X), fitted.predict_proba(shuffled))
    with pytest.raises(ValueError, match="caseload_current"):
        fitted.predict_proba(X.drop(columns="caseload_current"))


def test_censored_labels_are_refused(world):
    (X, y, _), (Xv, yv, _), _ = world
    y = y.copy()
    y.iloc[3] = np.nan
    with pytest.raises(ValueError, match="censored"):
        TurnoverModel().fit(X, y, X_valid=Xv, y_valid=yv)


def test_sklearn_conventions_and_summary(fitted):
    assert TurnoverModel(learning_rate=0.1).get_params()["learning_rate"] == 0.1
    assert list(fitted.classes_) == [0, 1] and fitted.n_features_in_ == 4
    assert list(fitted.feature_names_in_) == ["caseload_current", "pay_salary_fte", "tenure_months", "noise"]
    summary = fitted.summary
    assert summary.loc["trees (early-stopped)", "value"] == fitted.best_iteration_
    assert summary.loc["valid log-loss after calibration", "value"] <= summary.loc["valid log-loss before calibration", "value"] + 1e-9
    top = fitted.feature_importance_table()
    # The two strong drivers of the synthetic world lead; the weak tenure step (-0.6 for < 12 months)
    # is not reliably separable from noise in 3,000 rows with an early-stopped model.
    assert top.feature.iloc[:2].tolist() == ["caseload_current", "pay_salary_fte"]


def test_without_validation_window_cross_fits_then_refits_on_every_row(world):
    import lightgbm as lgb
    from sklearn.model_selection import StratifiedKFold

    X, y, _ = world[0]
    m = TurnoverModel(n_estimators=100, cv_folds=4, n_bootstrap=2, random_state=5).fit(X, y)
    assert 0 < m.best_iteration_ <= 100 and np.isfinite(m.calibration_).all()
    assert m.validation_.startswith("4-fold cross-fitting") and len(m.bootstrap_boosters_) == 2
    params = m._lgb_params(5)
    M = X.to_numpy(dtype="float64")
    # The final trees are the same booster trained on ALL rows with the chosen number of trees ...
    full = lgb.train(params, lgb.Dataset(M, y.to_numpy(), feature_name=list(X.columns)), num_boost_round=m.best_iteration_)
    np.testing.assert_array_equal(m.booster_.predict(M, raw_score=True), full.predict(M, raw_score=True))
    # ... and the Platt map is fitted on out-of-fold margins of boosters that never saw those rows.
    oof = np.empty(len(y))
    for fit_rows, held in StratifiedKFold(4, shuffle=True, random_state=5).split(M, y):
        fold = lgb.train(params, lgb.Dataset(M[fit_rows], y.to_numpy()[fit_rows], feature_name=list(X.columns)),
                         num_boost_round=m.best_iteration_)
        oof[held] = fold.predict(M[held], raw_score=True)
    assert m.valid_roc_auc_ == pytest.approx(roc_auc_score(y, oof), abs=0.01)
    in_sample = roc_auc_score(y, m.booster_.predict(M, raw_score=True))
    assert m.valid_roc_auc_ < in_sample  # held-out, not in-sample


def test_extra_trees_reaches_lightgbm_and_changes_the_model(world):
    (X, y, _), (Xv, yv, _), _ = world
    plain = TurnoverModel(n_estimators=60, early_stopping_rounds=60).fit(X, y, X_valid=Xv, y_valid=yv)
    extra = TurnoverModel(n_estimators=60, early_stopping_rounds=60, extra_trees=True).fit(X, y, X_valid=Xv, y_valid=yv)
    assert "[extra_trees: 1]" in extra.booster_.model_to_string() and "[extra_trees: 0]" in plain.booster_.model_to_string()
    assert not np.allclose(plain.predict_proba(Xv)[:, 1], extra.predict_proba(Xv)[:, 1])
