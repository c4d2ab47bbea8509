"""Explanations measured from the average person scored at the same date (``Explanation.relative_to``)."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain import explain
from retention_ml.model import TurnoverModel

from .conftest import make_frame


def _logit(model, X):
    p = model.predict_proba(X)[:, 1]
    return np.log(p / (1 - p))


def _dates(n, seed=0):
    return pd.Series(np.random.default_rng(seed).choice(pd.to_datetime(["2024-01-01", "2024-04-01", "2024-07-01"]), n))


def test_each_row_still_adds_up_to_the_model_and_each_date_averages_zero(model, frame, catalogue):
    X, _ = frame
    dates = _dates(len(X))
    rel = explain(model, X, catalogue=catalogue).relative_to(dates)
    np.testing.assert_allclose(rel.log_odds().to_numpy(), _logit(model, X), atol=1e-6)
    means = rel.values.groupby(dates.to_numpy()).mean()
    assert np.abs(means.to_numpy()).max() < 1e-9
    assert rel.base_value.shape == (len(X),)
    # the base value is one per date: the model's average log-odds contribution that day
    assert pd.Series(rel.base_value).groupby(dates.to_numpy()).nunique().max() == 1


def test_reference_rows_alone_set_the_average(model, frame, catalogue):
    X, _ = frame
    dates = _dates(len(X), seed=1)
    raw = explain(model, X, catalogue=catalogue)
    sample = np.arange(0, len(X), 3)
    rel = raw.relative_to(dates, reference_rows=sample)
    assert np.abs(rel.values.iloc[sample].groupby(dates.to_numpy()[sample]).mean().to_numpy()).max() < 1e-9
    assert np.abs(rel.values.groupby(dates.to_numpy()).mean().to_numpy()).max() > 1e-6   # all rows: not zero
    np.testing.assert_allclose(rel.log_odds().to_numpy(), raw.log_odds().to_numpy(), atol=1e-9)


def test_take_keeps_rows_and_their_base(model, frame, catalogue):
    X, _ = frame
    rel = explain(model, X, catalogue=catalogue).relative_to(_dates(len(X)))
    part = rel.take([5, 2])
    np.testing.assert_allclose(part.log_odds().to_numpy(), _logit(model, X.iloc[[5, 2]]), atol=1e-6)
    assert list(part.values.index) == [5, 2]


def test_groups_without_reference_rows_and_wrong_lengths_are_refused(model, frame, catalogue):
    X, _ = frame
    raw = explain(model, X, catalogue=catalogue)
    dates = pd.Series(["a"] * (len(X) - 1) + ["b"])
    with pytest.raises(ValueError, match="group 'b' has no reference row"):
        raw.relative_to(dates, reference_rows=np.arange(len(X) - 1))
    with pytest.raises(ValueError, match="3 group labels"):
        raw.relative_to(["a", "b", "c"])


def test_driver_sums_are_interventional_shapley_values_with_the_date_as_background():
    """Trees confined to one driver: the shifted driver sum is E_B[f(x_d, X_-d)] - E_B[f(X)] exactly."""
    X, y = make_frame(3000, seed=3)
    X = X.drop(columns=["fte", "mystery_feature"])
    groups = {"caseload_workload": ["caseload_current", "caseload_cap", "caseload_over_cap_months_6m"],
              "housing_cost": ["housing_rent_to_pay", "housing_cost_growth_12m"], "pay": ["pay_retention_payment"],
              "commute": ["commute_minutes"], "career_progression": ["tenure_months"],
              "supervision_management": ["supervision_sessions_3m"]}
    catalogue = pd.DataFrame([(f, d) for d, fs in groups.items() for f in fs], columns=["feature", "driver"])
    catalogue = catalogue.assign(meaning=catalogue["feature"], unit="", family="x")
    model = TurnoverModel(n_estimators=80, learning_rate=0.1, num_leaves=7, random_state=0, cv_folds=3,
                          interaction_groups=list(groups.values())).fit(X, pd.Series(y))
    background = X.iloc[:150].reset_index(drop=True)
    people = X.iloc[150:160].reset_index(drop=True)
    frame = pd.concat([background, people], ignore_index=True)
    # one group; the background rows alone define its average (the people are not part of it)
    rel = explain(model, frame, catalogue=catalogue).relative_to(np.zeros(len(frame)), reference_rows=np.arange(len(background)))
    profile = rel.by_driver().iloc[len(background):].reset_index(drop=True)
    expected_all = _logit(model, background).mean()
    for driver, cols in groups.items():
        for i in range(len(people)):
            swapped = background.copy()
            swapped[cols] = people.loc[i, cols].to_numpy()
            shapley = _logit(model, swapped).mean() - expected_all
            assert profile.loc[i, driver] == pytest.approx(shapley, abs=1e-8), (driver, i)
