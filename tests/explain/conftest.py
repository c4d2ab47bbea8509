"""Shared fixtures for the explanation tests: a small TurnoverModel on synthetic features and its catalogue."""

import numpy as np
import pandas as pd
import pytest

DRIVERS = {
    "caseload_current": "caseload_workload",
    "caseload_cap": "caseload_workload",
    "caseload_over_cap_months_6m": "caseload_workload",
    "housing_rent_to_pay": "housing_cost",
    "housing_cost_growth_12m": "housing_cost",
    "pay_retention_payment": "pay",
    "commute_minutes": "commute",
    "tenure_months": "career_progression",
    "supervision_sessions_3m": "supervision_management",
    "fte": "other",
    # mystery_feature is deliberately absent from the catalogue: it must show as "other".
}


def make_frame(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "caseload_current": rng.integers(8, 32, n).astype(float),
            "caseload_cap": rng.choice([15.0, 20.0, 25.0], n),
            "caseload_over_cap_months_6m": rng.integers(0, 7, n).astype(float),
            "housing_rent_to_pay": rng.uniform(0.2, 0.6, n),
            "housing_cost_growth_12m": rng.normal(0.05, 0.05, n),
            "pay_retention_payment": rng.choice([0.0, 1500.0], n),
            "commute_minutes": rng.uniform(10, 90, n),
            "tenure_months": rng.uniform(1, 120, n),
            "supervision_sessions_3m": rng.integers(0, 4, n).astype(float),
            "fte": rng.choice([0.6, 0.8, 1.0], n),
            "mystery_feature": rng.normal(size=n),
        }
    )
    X.loc[rng.random(n) < 0.05, "caseload_cap"] = np.nan  # missing values must be explained too
    logit = (
        -2.0
        + 0.15 * (X["caseload_current"] - X["caseload_cap"].fillna(20))
        + 4.0 * (X["housing_rent_to_pay"] - 0.4)
        - 0.0005 * X["pay_retention_payment"]
        + 0.02 * (X["commute_minutes"] - 50)
        - 0.01 * X["tenure_months"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    return X, y


@pytest.fixture(scope="session")
def model():
    """A TurnoverModel (LightGBM plus calibration) fitted on ``make_frame`` data with known drivers."""
    from retention_ml.model import TurnoverModel

    X, y = make_frame(3000, seed=7)
    X_valid, y_valid = make_frame(1000, seed=8)
    return TurnoverModel(n_estimators=300, learning_rate=0.1, random_state=7).fit(
        X, pd.Series(y), X_valid=X_valid, y_valid=pd.Series(y_valid)
    )


@pytest.fixture(scope="session")
def frame():
    return make_frame(400, seed=11)


@pytest.fixture(scope="session")
def catalogue():
    return pd.DataFrame(
        {
            "feature": list(DRIVERS),
            "meaning": [f"meaning of {f}" for f in DRIVERS],
            "unit": ["cases", "cases", "months", "ratio", "fraction", "GBP/yr", "minutes", "months", "count", "FTE"],
            "driver": list(DRIVERS.values()),
            "family": [f.split("_")[0] for f in DRIVERS],
        }
    )


@pytest.fixture(scope="session")
def context(frame):
    X, _ = frame
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "worker_id": [f"W{i:05d}" for i in range(len(X))],
            "team_id": rng.choice(["T1", "T2", "T3"], len(X)),
            "role": "social_worker",
            "months_in_post": rng.integers(1, 100, len(X)),
        }
    )


@pytest.fixture(scope="session")
def make_data():
    """The synthetic data generator, for tests that train their own model."""
    return make_frame
