"""Driver profiles: every feature maps to a driver, unknown ones to 'other', and nothing is dropped."""

import numpy as np
import pandas as pd

from retention_ml.explain import explain
from retention_ml.explain.drivers import feature_drivers, profile_drivers, rank_drivers
from retention_ml.schema import driver_codes


def test_profile_columns_are_the_model_visible_taxonomy(model, frame, catalogue):
    X, _ = frame
    profile = explain(model, X, catalogue=catalogue).by_driver()
    assert list(profile.columns) == driver_codes(model_visible=True)
    assert "other" in profile.columns and "personal" not in profile.columns


def test_profile_sums_to_the_same_total_as_the_features(model, frame, catalogue):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    np.testing.assert_allclose(exp.by_driver().sum(axis=1), exp.values.sum(axis=1), atol=1e-12)


def test_every_feature_maps_to_a_driver_and_unknowns_go_to_other(model, frame, catalogue):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    assert set(exp.drivers.index) == set(model.feature_names_in_)
    assert exp.drivers.isin(profile_drivers()).all()
    assert exp.drivers["mystery_feature"] == "other"  # not in the catalogue
    assert exp.drivers["caseload_cap"] == "caseload_workload"
    np.testing.assert_allclose(
        exp.by_driver()["other"], exp.values[["fte", "mystery_feature"]].sum(axis=1), atol=1e-12
    )


def test_driver_outside_the_taxonomy_becomes_other(catalogue):
    cat = catalogue.assign(driver=catalogue["driver"].where(catalogue["feature"] != "commute_minutes", "weather"))
    mapped = feature_drivers(["commute_minutes", "tenure_months"], cat)
    assert mapped.to_dict() == {"commute_minutes": "other", "tenure_months": "career_progression"}


def test_rank_drivers_orders_by_contribution_with_stable_ties():
    profile = pd.DataFrame([[0.1, 0.5, 0.1], [0.0, 0.0, 0.0]], columns=["a", "b", "c"])
    ranked = rank_drivers(profile)
    assert ranked[0].tolist() == ["b", "a", "c"]
    assert ranked[1].tolist() == ["a", "b", "c"]


def test_global_importance_tables(model, frame, catalogue):
    X, _ = frame
    exp = explain(model, X, catalogue=catalogue)
    feats = exp.feature_importance()
    assert set(feats["feature"]) == set(model.feature_names_in_)
    assert feats["mean_abs_shap"].is_monotonic_decreasing
    assert feats.loc[feats["feature"] == "mystery_feature", "driver"].item() == "other"
    drivers = exp.driver_importance()
    assert drivers.iloc[0]["driver"] in {"caseload_workload", "housing_cost"}  # the simulated drivers
