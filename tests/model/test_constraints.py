"""Monotone and per-driver interaction constraints: what they promise, and the catalogue they come from."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.model import TurnoverModel, expit
from retention_ml.training import driver_constraints

FAST = dict(n_estimators=150, learning_rate=0.1, num_leaves=15, min_child_samples=20, cv_folds=3)


def _data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(-2, 2, n), "b": rng.uniform(-2, 2, n), "c": rng.uniform(-2, 2, n)})
    # risk falls then rises in a (a U), and a and b interact strongly
    logit = 0.8 * X.a**2 - 1.0 + 1.2 * X.a * X.b + 0.3 * X.c
    return X, pd.Series((rng.random(n) < expit(logit.to_numpy())).astype(float))


def _grid_margin(model, column, others):
    grid = pd.DataFrame({"a": others["a"], "b": others["b"], "c": others["c"]}, index=range(41))
    grid[column] = np.linspace(-2, 2, 41)
    return model.booster_.predict(grid.to_numpy(), raw_score=True)


def test_monotone_direction_is_kept():
    X, y = _data()
    at = {"a": 0.0, "b": 0.5, "c": 0.0}
    free = TurnoverModel(**FAST).fit(X, y)
    assert (np.diff(_grid_margin(free, "a", at)) < 0).any()      # the U: free trees let risk fall with a
    held = TurnoverModel(**FAST, monotone={"a": 1}).fit(X, y)
    assert (np.diff(_grid_margin(held, "a", at)) >= 0).all()


def test_interaction_groups_make_the_model_additive_across_groups():
    X, y = _data()
    rows = X.sample(200, random_state=1).reset_index(drop=True)
    swapped = rows.assign(b=rows["b"].sample(frac=1, random_state=2).to_numpy())

    def a_effect(model, frame):  # margin change when a moves from -1.5 to 1.5, at each row's b and c
        hi, lo = frame.assign(a=1.5).to_numpy(), frame.assign(a=-1.5).to_numpy()
        return model.booster_.predict(hi, raw_score=True) - model.booster_.predict(lo, raw_score=True)

    free = TurnoverModel(**FAST).fit(X, y)
    assert np.abs(a_effect(free, rows) - a_effect(free, swapped)).max() > 0.1   # a's effect depends on b
    split = TurnoverModel(**FAST, interaction_groups=[["a", "c"], ["b", "c"]]).fit(X, y)
    np.testing.assert_allclose(a_effect(split, rows), a_effect(split, swapped), atol=1e-9)


@pytest.mark.parametrize("kwargs, message", [
    ({"monotone": {"a": 2}}, "must be -1, 0 or 1"),
    ({"monotone": {"zzz": 1}}, "not in X: \\['zzz'\\]"),
    ({"interaction_groups": [["a", "b"]]}, "in no interaction group: \\['c'\\]"),
])
def test_bad_constraints_are_refused_by_name(kwargs, message):
    X, y = _data(300)
    with pytest.raises(ValueError, match=message):
        TurnoverModel(**FAST, **kwargs).fit(X, y)


def test_driver_constraints_from_the_catalogue():
    catalogue = pd.DataFrame({
        "feature": ["cases", "cap_ratio", "rent_share", "fte", "tenure"],
        "driver": ["caseload_workload", "caseload_workload", "housing_cost", "other", "career_progression"],
        "direction": [1, 1, 1, 0, 0],
    })
    out = driver_constraints(catalogue)
    assert out["monotone"] == {"cases": 1, "cap_ratio": 1, "rent_share": 1}
    assert sorted(map(sorted, out["interaction_groups"])) == [
        ["cap_ratio", "cases", "fte"], ["fte", "rent_share"], ["fte", "tenure"]]


def test_every_catalogue_direction_is_a_valid_prior():
    from retention_ml.features import feature_catalogue

    catalogue = feature_catalogue()
    assert set(catalogue["direction"]) <= {-1, 0, 1}
    rising = set(catalogue.loc[catalogue["direction"] == 1, "feature"])
    assert {"caseload_current", "caseload_to_cap", "housing_rent_to_pay", "commute_minutes", "pay_agency_gap"} <= rising
    # A caseload reason comes with "reallocate cases": a falling or below-team caseload must never raise risk.
    assert {"caseload_trend_6m", "caseload_vs_team_mean"} <= rising
    assert catalogue.set_index("feature").loc["tenure_months", "direction"] == 0   # high early and late: no prior
